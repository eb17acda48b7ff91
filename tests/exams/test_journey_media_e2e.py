"""Chromium: live media of a candidate going through the real journey pages, seen by the
room's invigilator (the wall's thumbnail from the waiting room on, the focus view in the exam)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from invigilate.exams.models import Exam, Question, Registration
from tests.exams.test_journey_e2e import sign_in_candidate
from tests.media.test_media_e2e import live_media_worker, sign_in_staff  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
Stage = Registration.Stage


def test_the_wall_shows_the_candidate_from_the_waiting_room_and_the_focus_view_in_the_exam(
    live_world, live_media_worker, new_page, quiet_server  # noqa: F811
):
    registration = live_world.candidate
    Question.objects.create(exam=live_world.exam, position=1, mode="text", prompt="Write your plan.", answer_seconds=600)
    # Through the checks (their pages are the whole journey's test); the browser's event loop
    # rules out the services' after-commit pushes here, so the row is set directly.
    Registration.objects.filter(pk=registration.pk).update(stage=Stage.WAITING)
    candidate = new_page()
    sign_in_candidate(candidate, live_world)
    expect(candidate.locator("#waiting-room")).to_be_visible()
    expect(candidate.locator("#journey-media-status")).to_have_attribute("data-state", "connected", timeout=20_000)

    invigilator = new_page()
    sign_in_staff(invigilator, "invigilator")
    invigilator.goto(f"/proctoring/room/{live_world.room_a.pk}/")
    thumbnail = invigilator.locator(f'#tile-{registration.pk} img[data-thumbnail-for="{registration.pk}"]')
    camera_thumb = re.compile(rf"^/media/thumbnails/{registration.pk}/camera/\d+\.jpg$")
    expect(thumbnail).to_have_attribute("src", camera_thumb, timeout=10_000)
    expect(thumbnail).to_be_visible()
    before_start = thumbnail.get_attribute("src")

    # The exam opens: the exam page shares the entire screen and goes live with it.
    Exam.objects.filter(pk=live_world.exam.pk).update(starts_at=timezone.now() - timedelta(seconds=1))
    candidate.reload()
    candidate.click("#exam-start-button")
    expect(candidate.locator("#journey-media-status")).to_have_attribute("data-state", "connected", timeout=20_000)
    expect(thumbnail).not_to_have_attribute("src", before_start, timeout=10_000)
    expect(thumbnail).to_have_attribute("src", camera_thumb)

    invigilator.goto(f"/media/focus/{registration.pk}/")
    for track in ("camera", "screen"):
        video = invigilator.locator(f'video[data-track="{track}"]')
        invigilator.wait_for_function("(v) => v.videoWidth > 0", arg=video.element_handle(), timeout=10_000)
