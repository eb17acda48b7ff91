"""The whole candidate journey in Chromium, with the fake camera, microphone and screen."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from invigilate.evidence.models import PairingCode, Recording, Upload
from invigilate.exams.models import Answer, DeviceCheck, IdentityAttempt, PaperSnapshot, Question, Registration
from tests.personas import PASSWORD

pytestmark = pytest.mark.e2e


def sign_in_candidate(page, world):
    page.goto("/candidate/login/")
    page.fill("input[name=id_number]", world.candidate_id_number)
    page.fill("input[name=ticket_number]", world.candidate.ticket_number)
    page.click("button[type=submit]")


def move_exam(exam, *, starts_in: timedelta | None = None, ends_in: timedelta | None = None):
    now = timezone.now()
    if starts_in is not None:
        exam.starts_at = now + starts_in
    if ends_in is not None:
        exam.duration = now + ends_in - exam.starts_at
    exam.save(update_fields=["starts_at", "duration"])


def test_a_candidate_goes_from_login_to_submission_complete(live_world, new_page, quiet_server):
    exam = live_world.exam
    exam.rules = {"min_upload_mbps": 1, "rerecord_allowed": 1}
    exam.save(update_fields=["rules"])
    Question.objects.create(exam=exam, position=1, mode="video", prompt="Introduce yourself.",
                            preparation_seconds=1, answer_seconds=2)
    Question.objects.create(exam=exam, position=2, mode="text", prompt="Write your plan.", answer_seconds=60)
    page = new_page()
    sign_in_candidate(page, live_world)
    expect(page).to_have_url(re.compile("/exams/journey/"))

    # Device check: every line passes with the fake devices, and the run is kept for staff.
    page.click("#device-start")
    expect(page.locator("#identity-capture")).to_be_enabled(timeout=15_000)
    check = DeviceCheck.objects.get(registration=live_world.candidate)
    assert check.passed and check.results["bandwidth"]["mbps"] >= 1
    assert check.results["screen"]["detail"] == "monitor"

    # Identity: no registered photo, so the server cannot decide and the room's invigilator
    # does, with both pictures; the review page, already open, shows the request live.
    staff = new_page()
    staff.goto("/staff/login/")
    staff.fill("input[name=username]", "invigilator")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("button[type=submit]")
    staff.goto("/exams/identity/review/")
    expect(staff.locator("#identity-review-live")).to_have_attribute("data-state", "live")
    expect(staff.locator("#identity-review-list")).to_contain_text("No identity check is waiting")
    page.click("#identity-capture")
    expect(page.locator("#identity-status")).to_contain_text("sent to the invigilator")
    card = staff.locator(".identity-pair").first
    expect(card.locator("img")).to_have_count(2)
    card.locator("button[value=approve]").click()
    expect(staff.locator("#identity-review-list")).to_contain_text("No identity check is waiting")
    assert IdentityAttempt.objects.get(registration=live_world.candidate).outcome == "approved"

    # Phone pairing: not without a phone; the phone opens the QR code's address, and on we go.
    # The panel re-renders while it waits for the phone: a click that lands mid-swap is lost,
    # as a person's would be, and pressed again.
    for _ in range(3):
        page.click("#pairing-continue")
        try:
            expect(page.locator("#pairing-error")).to_contain_text("has not reported in", timeout=4_000)
            break
        except AssertionError:
            continue
    expect(page.locator("#pairing-error")).to_contain_text("has not reported in")
    expect(page.locator("[data-testid=short-code]")).to_be_visible()
    phone = new_page()
    code = PairingCode.objects.filter(used_at__isnull=True, expires_at__gt=timezone.now()).latest("created_at")
    phone.goto(f"/evidence/phone/pair/{code.token}/")
    expect(page.locator("[data-testid=phone-paired]")).to_be_visible(timeout=10_000)
    phone.close()
    page.click("#pairing-continue")
    page.click("[data-side=front]")
    expect(page.locator("[data-kept=front]")).to_be_visible()
    page.click("[data-side=back]")
    expect(page.locator("[data-kept=back]")).to_be_visible()
    page.click("#paper-continue")
    assert PaperSnapshot.objects.filter(registration=live_world.candidate).count() == 2

    # Waiting room: the exam opens by itself at the start time.
    expect(page.locator("#waiting-room")).to_be_visible()
    move_exam(exam, starts_in=timedelta(seconds=2), ends_in=timedelta(minutes=10))
    page.reload()
    expect(page.locator("#exam-start-button")).to_be_visible(timeout=8_000)

    # Question 1, recorded: preparation runs out and the take records with the network gone;
    # it is kept on this computer, and after a reload it is declared, sent with tus and
    # verified against its declared SHA-256.
    page.click("#exam-start-button")
    expect(page.locator("#recorder-phase")).to_have_text("Recording: answer now", timeout=10_000)
    page.context.set_offline(True)
    # Generous: the page records camera and screen and sends live media meanwhile, on a shared machine.
    expect(page.locator("#recording-state")).to_contain_text("Kept on this computer", timeout=20_000)
    page.context.set_offline(False)
    page.reload()
    page.click("#exam-start-button")
    expect(page.locator("#recording-state")).to_contain_text("Recorded (take 1 of 2)")
    take = Answer.objects.filter(registration=live_world.candidate, question__position=1)
    for _ in range(300):
        if take.filter(recording_received_at__isnull=False).exists():
            break
        page.wait_for_timeout(100)
    assert take.get().recording_verified
    page.click("#next-question")

    # Question 2, written: saved, then an edit the server never got survives a reload (kept
    # in this browser) and goes up once the server can be reached again.
    page.click("#exam-start-button")
    page.fill("#text-answer", "First I listen")
    expect(page.locator("#text-state")).to_have_text("Saved on the server.")
    page.route("**/journey/answers/2/", lambda route: route.abort("internetdisconnected"))
    page.fill("#text-answer", "First I listen, then I act.")
    expect(page.locator("#text-state")).to_contain_text("Kept on this computer")
    page.reload()
    expect(page.locator("#question")).to_have_attribute("data-position", "2")
    page.click("#exam-start-button")
    expect(page.locator("#text-answer")).to_have_value("First I listen, then I act.")
    page.unroute("**/journey/answers/2/")
    answer = Answer.objects.get(registration=live_world.candidate, question__position=2)
    for _ in range(100):  # the page retries every 5 s
        answer.refresh_from_db()
        if answer.text == "First I listen, then I act.":
            break
        page.wait_for_timeout(100)
    assert answer.text == "First I listen, then I act."

    # The end: the page submits as time runs out, and completes once the server holds everything.
    move_exam(exam, ends_in=timedelta(seconds=2))
    page.reload()
    page.click("#exam-start-button")
    expect(page.locator("#submission-complete")).to_be_visible(timeout=15_000)
    registration = Registration.objects.get(pk=live_world.candidate.pk)
    assert registration.stage == "complete" and registration.submission.how == "forced"
    video = Answer.objects.get(registration=registration, question__position=1)
    assert video.recording_verified and video.recording_size > 0
    # The take went up as a tus upload; the whole-exam camera and screen recordings arrived
    # before "submission complete" (each question's page records, then stops and keeps its end).
    assert video.recording.name == Upload.objects.get(recording__kind="answer", status="complete").file_name
    for kind in ("pc_camera", "pc_screen"):
        assert Upload.objects.filter(registration=registration, recording__kind=kind, status="complete").exists()
        # Every segment of every ended run is complete (a page may still be sending a segment
        # past the end of a run it has not closed yet: that one is not expected).
        for recording in Recording.objects.filter(registration=registration, kind=kind, final_seq__isnull=False):
            complete = set(Upload.objects.filter(recording=recording, status="complete").values_list("seq", flat=True))
            # If not, what the server knew of each run and upload says which report came late.
            assert set(range(recording.final_seq + 1)) <= complete, (
                kind, recording.final_seq, complete,
                list(Recording.objects.filter(registration=registration).values("kind", "started_at", "last_seq", "final_seq")),
                list(Upload.objects.filter(registration=registration).values("recording_id", "seq", "status", "created_at")))
