"""Chromium: a candidate whose exam page closed while recording signs in again after the end,
inside the incident window, lands on the after-exam page, and the recordings left on the
computer finish uploading until "submission complete"."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from invigilate.accounts.models import CandidateSession
from invigilate.evidence.models import Interruption, Recording, Upload
from invigilate.exams.models import Exam, Question, Registration
from tests.exams.test_journey_e2e import sign_in_candidate
from tests.live import server_transactions_wait

pytestmark = pytest.mark.e2e


def test_a_closed_exam_page_finishes_its_uploads_after_the_end(live_world, new_page, quiet_server):
    registration = live_world.candidate
    exam = live_world.exam
    Exam.objects.filter(pk=exam.pk).update(starts_at=timezone.now() - timedelta(minutes=1),
                                           rules={"evidence_segment_seconds": 1})
    Question.objects.create(exam=exam, position=1, mode="text", prompt="Write your plan.", answer_seconds=600)
    Registration.objects.filter(pk=registration.pk).update(stage=Registration.Stage.WAITING)
    page = new_page()
    sign_in_candidate(page, live_world)
    page.click("#exam-start-button")
    for _ in range(200):  # two 1-second segments of the camera saved on this computer
        segments = page.evaluate("""async () => ((await window.invigilateEvidence.queue.summary()).kinds
            .find((kind) => kind.kind === "pc_camera") || {segments: 0}).segments""")
        if segments >= 2:
            break
        page.wait_for_timeout(100)
    assert segments >= 2
    # The network goes, then the page: what was saved waits in this browser's IndexedDB.
    page.context.set_offline(True)
    page.goto("about:blank")
    page.context.set_offline(False)
    page.context.clear_cookies()

    # Later: the exam has ended, and the closed page's session has long gone quiet. (First let
    # the server write the heartbeats it batches every 2 s, or they would make it live again.)
    time.sleep(2.5)
    server_transactions_wait()
    Exam.objects.filter(pk=exam.pk).update(duration=timezone.now() - timedelta(seconds=1) - exam.starts_at)
    CandidateSession.objects.filter(registration=registration).update(
        last_seen_at=timezone.now() - timedelta(minutes=2))
    sign_in_candidate(page, live_world)
    expect(page.locator("#submitted")).to_be_visible()
    expect(page.locator("#question")).to_have_count(0)
    expect(page.locator("#submission-complete")).to_be_visible(timeout=30_000)

    camera = Recording.objects.get(registration=registration, kind="pc_camera")
    assert camera.final_seq is not None and camera.final_seq >= 1  # ended at its last saved segment
    assert Upload.objects.filter(recording=camera, status="complete").count() == camera.final_seq + 1
    assert Interruption.objects.filter(registration=registration, reason="page_closed").count() == 2
    assert Registration.objects.get(pk=registration.pk).stage == Registration.Stage.COMPLETE
