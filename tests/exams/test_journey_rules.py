"""The exam's rules, enforced by the server on its own clock (time moved, never slept)."""


import pytest
import time_machine

from invigilate.accounts.models import CandidateSession
from invigilate.audit.models import AuditEvent
from invigilate.exams import services
from invigilate.exams.models import Answer, Downtime, IncidentReport, Registration, Submission
from invigilate.exams.services import JourneyError
from tests.exams.journey_helpers import (
    WEBM_HEAD,
    add_questions,
    after,
    bring_to_exam,
    open_session,
    recording,
    upload_take,
)

Stage = Registration.Stage


@pytest.fixture
def exam_world(world):
    add_questions(world.exam)
    return world


def test_it_moves_stages_only_along_the_transitions(exam_world):
    registration = exam_world.candidate
    with pytest.raises(JourneyError) as refused:
        services.registration_stage_set(registration=registration, stage=Stage.IN_EXAM)
    assert refused.value.code == "illegal_stage"
    assert services.registration_stage_set(registration=registration, stage=Stage.DEVICE_CHECK)
    assert not services.registration_stage_set(registration=registration, stage=Stage.DEVICE_CHECK)


def test_it_fails_a_device_check_on_slow_upload_and_keeps_every_run(exam_world):
    registration = exam_world.candidate
    services.registration_stage_set(registration=registration, stage=Stage.DEVICE_CHECK)
    good = {item: {"ok": True} for item in ("browser", "camera", "microphone", "screen", "single_screen")}
    slow = services.device_check_record(registration=registration, results=good, bandwidth_mbps=1.5)
    assert not slow.passed and not slow.results["bandwidth"]["ok"]
    assert registration.stage == Stage.DEVICE_CHECK
    window = services.device_check_record(
        registration=registration, results={**good, "screen": {"ok": False, "detail": "window"}}, bandwidth_mbps=9
    )
    assert not window.passed
    passed = services.device_check_record(registration=registration, results=good, bandwidth_mbps=9)
    assert passed.passed and registration.stage == Stage.IDENTITY_CHECK
    assert registration.device_checks.count() == 3


def _at_identity(registration):
    services.registration_stage_set(registration=registration, stage=Stage.DEVICE_CHECK)
    services.registration_stage_set(registration=registration, stage=Stage.IDENTITY_CHECK)


def _registered_photo(registration, image) -> None:
    from django.core.files.base import ContentFile

    from tests.media import material

    registration.candidate.photo.save("registered.jpg", ContentFile(material.jpeg(image)))


def test_it_sends_identity_to_the_invigilator_without_a_registered_photo(exam_world):
    registration = exam_world.candidate
    _at_identity(registration)
    attempt = services.identity_attempt_record(registration=registration, photo=b"jpeg")
    assert attempt.outcome == "awaiting_review" and attempt.score is None
    with pytest.raises(JourneyError):
        services.identity_attempt_record(registration=registration, photo=b"jpeg")
    assert services.identity_attempt_decide(attempt=attempt, user=exam_world.invigilator, approve=True)
    assert not services.identity_attempt_decide(attempt=attempt, user=exam_world.invigilator, approve=False)
    registration.refresh_from_db()
    assert registration.stage == Stage.PHONE_PAIRING


def test_it_passes_identity_when_the_server_matches_the_registered_face(exam_world):
    from tests.media import material

    registration = exam_world.candidate
    _registered_photo(registration, material.astronaut())
    _at_identity(registration)
    frame = material.jpeg(material.webcam_like(material.astronaut()))
    attempt = services.identity_attempt_record(registration=registration, photo=frame)
    assert attempt.outcome == "matched" and attempt.score > 0.4
    assert registration.stage == Stage.PHONE_PAIRING
    event = AuditEvent.objects.get(event_type="journey.identity_attempt")
    assert event.data["faces_found"] == 1 and event.data["score"] == attempt.score


def test_another_face_fails_then_goes_to_the_invigilator_after_the_allowed_attempts(exam_world):
    from tests.media import material

    registration = exam_world.candidate
    exam_world.exam.rules = {"identity_attempts": 3}
    exam_world.exam.save(update_fields=["rules"])
    _registered_photo(registration, material.astronaut())
    _at_identity(registration)
    someone_else = material.jpeg(material.webcam_like(material.grace_hopper()))
    nobody = material.jpeg(material.FACELESS["blank"]())
    attempts = [services.identity_attempt_record(registration=registration, photo=frame)
                for frame in (someone_else, nobody, someone_else)]
    assert [attempt.outcome for attempt in attempts] == ["not_matched", "not_matched", "awaiting_review"]
    assert all(attempt.score is not None and attempt.score < 0.4 for attempt in attempts)
    faces = list(AuditEvent.objects.filter(event_type="journey.identity_attempt")
                 .order_by("pk").values_list("data__faces_found", flat=True))
    assert faces == [1, 0, 1]
    registration.refresh_from_db()
    assert registration.stage == Stage.IDENTITY_CHECK


def test_it_moves_on_from_pairing_only_once_a_phone_is_paired(exam_world):
    from invigilate.evidence import services as evidence_services

    registration = exam_world.candidate
    for stage in (Stage.DEVICE_CHECK, Stage.IDENTITY_CHECK, Stage.PHONE_PAIRING):
        services.registration_stage_set(registration=registration, stage=stage)
    with pytest.raises(JourneyError) as refused:
        services.phone_pairing_finish(registration=registration)
    assert refused.value.code == "no_phone"
    code = evidence_services.pairing_code_issue(registration=registration)
    evidence_services.pairing_code_redeem(token=code.token, session_key="phone-session")
    services.phone_pairing_finish(registration=registration)
    assert registration.stage == Stage.PAPER_CHECK


def test_it_needs_both_sides_of_the_paper(exam_world):
    registration = exam_world.candidate
    for stage in (Stage.DEVICE_CHECK, Stage.IDENTITY_CHECK, Stage.PHONE_PAIRING, Stage.PAPER_CHECK):
        services.registration_stage_set(registration=registration, stage=stage)
    services.paper_snapshot_store(registration=registration, side="front", image=b"front")
    with pytest.raises(JourneyError):
        services.paper_check_finish(registration=registration)
    services.paper_snapshot_store(registration=registration, side="back", image=b"back")
    services.paper_check_finish(registration=registration)
    assert registration.stage == Stage.WAITING


def test_it_opens_the_exam_only_at_the_start(exam_world):
    registration = exam_world.candidate
    exam = exam_world.exam
    for stage in (Stage.DEVICE_CHECK, Stage.IDENTITY_CHECK, Stage.PHONE_PAIRING, Stage.PAPER_CHECK, Stage.WAITING):
        services.registration_stage_set(registration=registration, stage=stage)
    session = open_session(registration)
    with time_machine.travel(after(exam.starts_at, seconds=-1)):
        services.journey_enter(registration=registration, session=session)
        assert registration.stage == Stage.WAITING
    with time_machine.travel(exam.starts_at):
        services.journey_enter(registration=registration, session=session)
        assert registration.stage == Stage.IN_EXAM


def test_it_rejects_answer_writes_after_the_deadline_with_a_clear_error(exam_world):
    registration = exam_world.candidate
    exam = exam_world.exam
    bring_to_exam(registration)
    services.question_advance(registration=registration, from_position=1, now=exam.starts_at)
    services.answer_write(registration=registration, position=2, client_id="a", revision=1, text="in time",
                          now=after(exam.ends_at, seconds=-1))
    with pytest.raises(JourneyError) as refused:
        services.answer_write(registration=registration, position=2, client_id="a", revision=2, text="late",
                              now=exam.ends_at)
    assert refused.value.code == "deadline_passed" and "ended at" in refused.value.message
    assert Answer.objects.get(registration=registration).text == "in time"


def test_it_keeps_questions_in_order(exam_world):
    registration = exam_world.candidate
    bring_to_exam(registration)
    with pytest.raises(JourneyError) as refused:
        services.answer_write(registration=registration, position=2, client_id="a", revision=1, text="ahead",
                              now=exam_world.exam.starts_at)
    assert refused.value.code == "not_open"
    services.question_advance(registration=registration, from_position=1, now=exam_world.exam.starts_at)
    # A double click or a replayed request moves once.
    progress = services.question_advance(registration=registration, from_position=1, now=exam_world.exam.starts_at)
    assert progress.question_position == 2


def test_it_limits_takes_and_keeps_recordings_only_with_the_declared_checksum(exam_world):
    registration = exam_world.candidate
    exam = exam_world.exam
    bring_to_exam(registration)
    data, sha, size = recording()
    at = after(exam.starts_at, minutes=1)
    for take in (1, 2):  # rerecord_allowed = 1: two takes
        services.answer_write(registration=registration, position=1, client_id="a", revision=take, take=take,
                              recording_sha256=sha, recording_size=size, recording_duration_ms=3000, now=at)
    with pytest.raises(JourneyError) as refused:
        services.answer_write(registration=registration, position=1, client_id="a", revision=3, take=3,
                              recording_sha256=sha, recording_size=size, now=at)
    assert refused.value.code == "takes_used"
    # Bytes damaged on the way: the evidence app rejects the upload, nothing is kept.
    damaged = upload_take(registration, position=1, take=2, data=data[:-1] + b"!", declared_sha256=sha)
    assert damaged.status == "rejected"
    with pytest.raises(JourneyError) as missing:
        services.answer_recording_confirm(registration=registration, position=1, take=2, now=at)
    assert missing.value.code == "not_received"
    # A take uploaded with other content than declared is not the declared take.
    upload_take(registration, position=1, take=2, data=WEBM_HEAD + b"another recording")
    with pytest.raises(JourneyError) as mismatch:
        services.answer_recording_confirm(registration=registration, position=1, take=2, now=at)
    assert mismatch.value.code == "checksum_mismatch"
    with pytest.raises(JourneyError) as undeclared:
        services.answer_recording_confirm(registration=registration, position=1, take=1, now=at)
    assert undeclared.value.code == "undeclared"  # take 2 replaced it


def test_it_keeps_a_take_uploaded_with_tus_that_hashes_to_the_declaration(exam_world):
    registration = exam_world.candidate
    bring_to_exam(registration)
    data, sha, size = recording()
    at = after(exam_world.exam.starts_at, minutes=1)
    services.answer_write(registration=registration, position=1, client_id="a", revision=1, take=1,
                          recording_sha256=sha, recording_size=size, recording_duration_ms=3000, now=at)
    upload_take(registration, position=1, take=1, data=data)
    answer = services.answer_recording_confirm(registration=registration, position=1, take=1, now=at)
    assert answer.recording_verified and answer.recording.read() == data
    again = services.answer_recording_confirm(registration=registration, position=1, take=1, now=at)
    assert again.recording_received_at == answer.recording_received_at
    assert AuditEvent.objects.filter(event_type="answer.recording_received").count() == 1


def test_it_refuses_a_recording_longer_than_the_answer_time(exam_world):
    registration = exam_world.candidate
    bring_to_exam(registration)
    _, sha, size = recording()
    with pytest.raises(JourneyError) as refused:
        services.answer_write(registration=registration, position=1, client_id="a", revision=1, take=1,
                              recording_sha256=sha, recording_size=size, recording_duration_ms=70_000,
                              now=exam_world.exam.starts_at)
    assert refused.value.code == "too_long"


def test_it_refuses_early_submission_unless_the_exam_allows_it(exam_world):
    registration = exam_world.candidate
    exam = exam_world.exam
    bring_to_exam(registration)
    with pytest.raises(JourneyError) as refused:
        services.submission_submit(registration=registration, how="candidate", now=after(exam.starts_at, minutes=5))
    assert refused.value.code == "early"
    exam.early_submission_allowed = True
    exam.save()
    assert services.submission_submit(registration=registration, how="candidate", now=after(exam.starts_at, minutes=5))
    assert registration.stage == Stage.COMPLETE  # nothing recorded, nothing outstanding


def test_it_completes_only_when_every_declared_recording_has_arrived(exam_world):
    registration = exam_world.candidate
    exam = exam_world.exam
    bring_to_exam(registration)
    data, sha, size = recording()
    services.answer_write(registration=registration, position=1, client_id="a", revision=1, take=1,
                          recording_sha256=sha, recording_size=size, now=exam.starts_at)
    services.submission_submit(registration=registration, how="forced", now=exam.ends_at)
    assert registration.stage == Stage.SUBMITTED
    assert services.submission_outstanding(registration=registration) == ["Recording of question 1"]
    # The upload may finish after the end, inside the incident window; the sweep (or the
    # page asking) completes the submission once it has arrived, even if no page confirms it.
    upload_take(registration, position=1, take=1, data=data)
    assert services.submission_completion_sweep(now=after(exam.ends_at, minutes=10)) == 1
    registration.refresh_from_db()
    assert registration.stage == Stage.COMPLETE
    assert Submission.objects.get(registration=registration).completed_at is not None


def test_it_refuses_uploads_and_reports_after_the_incident_window(exam_world):
    registration = exam_world.candidate
    exam = exam_world.exam
    bring_to_exam(registration)
    data, sha, size = recording()
    services.answer_write(registration=registration, position=1, client_id="a", revision=1, take=1,
                          recording_sha256=sha, recording_size=size, now=exam.starts_at)
    services.submission_submit(registration=registration, how="forced", now=exam.ends_at)
    last_minute = after(exam.incident_window_closes_at, seconds=-1)
    services.incident_report_file(registration=registration, text="Upload kept failing", now=last_minute)
    with pytest.raises(JourneyError) as refused:
        services.incident_report_file(registration=registration, text="Too late", now=exam.incident_window_closes_at)
    assert refused.value.code == "window_closed" and "60 minutes after the end" in refused.value.message
    with time_machine.travel(exam.incident_window_closes_at):
        upload_take(registration, position=1, take=1, data=data)
        with pytest.raises(JourneyError) as closed:
            services.answer_recording_confirm(registration=registration, position=1, take=1)
        assert closed.value.code == "window_closed"
        assert services.submission_outstanding(registration=registration) == ["Recording of question 1"]
    assert IncidentReport.objects.filter(registration=registration).count() == 1


def test_it_records_downtime_on_rejoin_without_extending_the_exam(exam_world):
    registration = exam_world.candidate
    exam = exam_world.exam
    bring_to_exam(registration)
    first = open_session(registration, at=exam.starts_at, key="pc-1")
    CandidateSession.objects.filter(pk=first.pk).update(last_seen_at=after(exam.starts_at, minutes=3),
                                                        ended_at=after(exam.starts_at, minutes=4), end_reason="replaced")
    second = open_session(registration, at=after(exam.starts_at, minutes=4, seconds=30), key="pc-2")
    services.journey_enter(registration=registration, session=second, now=second.started_at)
    services.journey_enter(registration=registration, session=second, now=second.started_at)  # a reload
    downtime = Downtime.objects.get(registration=registration)
    assert downtime.seconds == 90 and downtime.stage == Stage.IN_EXAM
    assert AuditEvent.objects.filter(event_type="registration.rejoined", registration_id=registration.pk).count() == 1
    assert exam.ends_at == exam.starts_at + exam.duration  # no time added back


def test_it_refuses_late_first_entry_unless_the_grace_allows_it(exam_world):
    from invigilate.accounts.services import CandidateLoginRefused, candidate_login

    exam = exam_world.exam
    with time_machine.travel(after(exam.starts_at, seconds=30)):
        with pytest.raises(CandidateLoginRefused) as refused:
            candidate_login(id_number=exam_world.candidate_id_number, ticket_number=exam_world.candidate.ticket_number,
                            session_key="s1", address="127.0.0.1")
        assert refused.value.code == "late_entry"
        exam.late_entry_grace_minutes = 5
        exam.save()
        session = candidate_login(id_number=exam_world.candidate_id_number,
                                  ticket_number=exam_world.candidate.ticket_number, session_key="s1", address="127.0.0.1")
        services.journey_enter(registration=session.registration, session=session)
        assert session.registration.stage == Stage.DEVICE_CHECK


def test_a_take_recording_at_the_end_is_declared_within_the_slack_and_uploaded_afterwards(exam_world):
    registration = exam_world.candidate
    exam = exam_world.exam
    bring_to_exam(registration)
    data, sha, size = recording()
    # The sweep got there first: the candidate is submitted while the take is still stopping.
    services.submission_submit(registration=registration, how="forced", now=exam.ends_at)
    assert registration.stage == Stage.SUBMITTED
    # Declared 2 s after the end (slack: 3 s), 4 s long, so started before the end: kept.
    result = services.answer_write(registration=registration, position=1, client_id="a", revision=1, take=1,
                                   recording_sha256=sha, recording_size=size, recording_duration_ms=4000,
                                   now=after(exam.ends_at, seconds=2))
    assert result.applied and result.answer.take == 1
    assert services.submission_outstanding(registration=registration) == ["Recording of question 1"]
    upload_take(registration, position=1, take=1, data=data)
    services.answer_recording_confirm(registration=registration, position=1, take=1,
                                      now=after(exam.ends_at, minutes=20))
    registration.refresh_from_db()
    assert registration.stage == Stage.COMPLETE


@pytest.mark.parametrize("seconds_after_end, duration_ms", [(3, 10_000), (2, 1000)], ids=["past-slack", "started-late"])
def test_a_take_declared_past_the_slack_or_started_after_the_end_is_refused(exam_world, seconds_after_end,
                                                                          duration_ms):
    registration = exam_world.candidate
    exam = exam_world.exam
    bring_to_exam(registration)
    _, sha, size = recording()
    with pytest.raises(JourneyError) as refused:
        services.answer_write(registration=registration, position=1, client_id="a", revision=1, take=1,
                              recording_sha256=sha, recording_size=size, recording_duration_ms=duration_ms,
                              now=after(exam.ends_at, seconds=seconds_after_end))
    assert refused.value.code == "deadline_passed"
    # A text answer gets no slack at all.
    services.question_advance(registration=registration, from_position=1, now=exam.starts_at)
    with pytest.raises(JourneyError):
        services.answer_write(registration=registration, position=2, client_id="a", revision=1, text="late",
                              now=after(exam.ends_at, seconds=1))
