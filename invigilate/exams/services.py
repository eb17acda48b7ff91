import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from invigilate.accounts.models import Role, User
from invigilate.audit.services import actor_label_for_registration, actor_label_for_user, audit_record
from invigilate.media.faces import FaceMatch
from invigilate.realtime.groups import candidate_group, room_group
from invigilate.realtime.publish import publish_on_commit, tile_refresh_on_commit

from . import integrations
from .models import (
    Answer,
    DeviceCheck,
    Downtime,
    Exam,
    ExamRoom,
    ExamStaff,
    IdentityAttempt,
    IncidentReport,
    JourneyProgress,
    PaperSnapshot,
    Question,
    Registration,
    RoomInvigilator,
    Submission,
)
from .rules import exam_rules

EXAM_ROLES = {Role.SUPERVISOR, Role.TECHNICIAN, Role.REVIEWER}


class AssignmentError(Exception):
    pass


@transaction.atomic
def room_invigilator_assign(*, room: ExamRoom, user: User, actor=None) -> RoomInvigilator:
    if user.role != Role.INVIGILATOR:
        raise AssignmentError(f"{user} is not an invigilator")
    assignment, created = RoomInvigilator.objects.get_or_create(room=room, user=user)
    if created:
        audit_record(
            event_type="assignment.invigilator_added", actor=actor, subject=room, exam_id=room.exam_id,
            data={"user": user.pk, "username": user.username, "room": room.name},
        )
    return assignment


@transaction.atomic
def room_invigilator_unassign(*, room: ExamRoom, user: User, actor=None) -> bool:
    deleted, _ = RoomInvigilator.objects.filter(room=room, user=user).delete()
    if deleted:
        audit_record(
            event_type="assignment.invigilator_removed", actor=actor, subject=room, exam_id=room.exam_id,
            data={"user": user.pk, "username": user.username, "room": room.name},
        )
        # Live dashboards of this user for this room must close: the realtime app listens.
        for listener in assignment_removed_listeners:
            listener(user_id=user.pk, room_id=room.pk, exam_id=room.exam_id)
    return bool(deleted)


@transaction.atomic
def exam_staff_assign(*, exam, user: User, role: str, actor=None) -> ExamStaff:
    if role not in EXAM_ROLES:
        raise AssignmentError(f"{role} is not assigned per exam")
    assignment, created = ExamStaff.objects.get_or_create(exam=exam, user=user, role=role)
    if created:
        audit_record(
            event_type="assignment.staff_added", actor=actor, subject=exam, exam_id=exam.pk,
            data={"user": user.pk, "username": user.username, "role": role},
        )
    return assignment


@transaction.atomic
def exam_staff_unassign(*, exam, user: User, role: str, actor=None) -> bool:
    deleted, _ = ExamStaff.objects.filter(exam=exam, user=user, role=role).delete()
    if deleted:
        audit_record(
            event_type="assignment.staff_removed", actor=actor, subject=exam, exam_id=exam.pk,
            data={"user": user.pk, "username": user.username, "role": role},
        )
        for listener in assignment_removed_listeners:
            listener(user_id=user.pk, room_id=None, exam_id=exam.pk)
    return bool(deleted)


# Called (inside the transaction) when someone loses an assignment; the realtime app
# closes their sockets for it after commit.
assignment_removed_listeners: list = []


# --- The candidate's journey ------------------------------------------------------------------

Stage = Registration.Stage

# Every legal move of Registration.stage. Any stage between joining and the exam may end in a
# (forced) submission: a candidate stuck in the checks at the end is still submitted.
TRANSITIONS: dict[str, set[str]] = {
    Stage.NOT_JOINED: {Stage.DEVICE_CHECK},
    Stage.DEVICE_CHECK: {Stage.IDENTITY_CHECK, Stage.SUBMITTED},
    Stage.IDENTITY_CHECK: {Stage.PHONE_PAIRING, Stage.SUBMITTED},
    Stage.PHONE_PAIRING: {Stage.PAPER_CHECK, Stage.SUBMITTED},
    Stage.PAPER_CHECK: {Stage.WAITING, Stage.SUBMITTED},
    Stage.WAITING: {Stage.IN_EXAM, Stage.SUBMITTED},
    Stage.IN_EXAM: {Stage.SUBMITTED},
    Stage.SUBMITTED: {Stage.COMPLETE},
    Stage.COMPLETE: set(),
}
SUBMITTABLE_STAGES = {stage for stage, targets in TRANSITIONS.items() if Stage.SUBMITTED in targets}
FINISHED_STAGES = {Stage.SUBMITTED, Stage.COMPLETE}


class JourneyError(Exception):
    """A refused step; ``message`` is for the candidate (or staff), ``code`` for the page and records."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def local_time_text(moment: datetime) -> str:
    """A moment as the reader's locale writes date and time, in the project's time zone (for messages)."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


@transaction.atomic
def registration_save(*, registration: Registration, previous: dict[str, Any], actor) -> None:
    """Save a registration that a member of staff edited (the admin) and record the change.

    ``previous`` maps each edited field to its value before the edit (foreign keys as ids).
    Who sits where decides who invigilates them, so every such change is audited.
    """
    created = registration.pk is None
    registration.save()
    audit_record(
        event_type="registration.added" if created else "registration.changed",
        actor=actor, subject=registration, exam_id=registration.exam_id, registration_id=registration.pk,
        data={
            name: [old, getattr(registration, f"{name}_id", getattr(registration, name))]
            for name, old in previous.items()
        },
    )


@transaction.atomic
def registration_delete(*, registration: Registration, actor) -> None:
    audit_record(
        event_type="registration.deleted", actor=actor, subject=registration, exam_id=registration.exam_id,
        registration_id=registration.pk,
        data={"ticket": registration.ticket_number, "room": registration.room.name, "seat": registration.seat},
    )
    registration.delete()


def registration_stage_set(*, registration: Registration, stage: str, actor_label: str | None = None) -> bool:
    """Move a registration to ``stage`` along ``TRANSITIONS``; False if it was already there.

    The row is locked for the move, so two racing moves cannot both pass the check. An
    illegal move raises JourneyError. Other apps hook their live updates on the audit event.
    """
    with transaction.atomic():
        current = Registration.objects.select_for_update().values_list("stage", flat=True).get(pk=registration.pk)
        if current == stage:
            registration.stage = stage
            return False
        if stage not in TRANSITIONS[current]:
            raise JourneyError(
                _("This step is not possible now (from %(from)s to %(to)s).")
                % {"from": Stage(current).label, "to": Stage(stage).label},
                code="illegal_stage",
            )
        now = timezone.now()
        Registration.objects.filter(pk=registration.pk).update(stage=stage, stage_changed_at=now)
        audit_record(
            event_type="registration.stage",
            actor_label=actor_label,
            subject=registration,
            exam_id=registration.exam_id,
            registration_id=registration.pk,
            data={"from": current, "to": stage},
        )
        publish_on_commit(candidate_group(registration.pk), "journey.changed", stage=stage)
        # The room's dashboards re-render this candidate's tile (live alerts).
        tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
        registration.stage = stage
        registration.stage_changed_at = now
    return True


def _candidate(registration: Registration) -> str:
    return actor_label_for_registration(registration.pk)


def _require_stage(registration: Registration, *stages: str) -> None:
    if registration.stage not in stages:
        raise JourneyError(
            _("This step is not open now: you are at “%(stage)s”.") % {"stage": registration.get_stage_display()},
            code="wrong_stage",
        )


def journey_enter(*, registration: Registration, session, now: datetime | None = None) -> Registration:
    """Called on every visit of the journey page: join, record a rejoin, open or close the exam.

    Idempotent: a reload changes nothing that is already true.
    """
    now = now or timezone.now()
    exam = registration.exam
    if session is not None:
        downtime_record(session=session)
    if registration.stage == Stage.NOT_JOINED:
        registration_stage_set(registration=registration, stage=Stage.DEVICE_CHECK, actor_label=_candidate(registration))
    if registration.stage in SUBMITTABLE_STAGES and now >= exam.ends_at:
        submission_submit(registration=registration, how=Submission.How.FORCED, now=now)
    elif registration.stage == Stage.WAITING and now >= exam.starts_at:
        exam_open_for(registration=registration, now=now)
    if registration.stage == Stage.SUBMITTED:
        submission_completion_check(registration=registration, now=now)
    return registration


def exam_open_for(*, registration: Registration, now: datetime | None = None) -> JourneyProgress:
    """The waiting room opens into the exam at the start time (for everyone, by the server's clock)."""
    now = now or timezone.now()
    if now < registration.exam.starts_at:
        raise JourneyError(
            _("The exam starts at %(time)s.") % {"time": local_time_text(registration.exam.starts_at)}, code="not_started"
        )
    with transaction.atomic():
        progress, _created = JourneyProgress.objects.get_or_create(
            registration=registration, defaults={"question_position": 1, "question_opened_at": now}
        )
        registration_stage_set(registration=registration, stage=Stage.IN_EXAM, actor_label=_candidate(registration))
    return progress


def downtime_record(*, session) -> Downtime | None:
    """Record the gap a rejoin closes: from the last sign of the previous session to this login.

    One row per resuming session (unique), so calling this on every page view is harmless.
    Only gaps while the candidate was inside the journey count; the time is not added back.
    """
    registration = session.registration
    if registration.stage in {Stage.NOT_JOINED, *FINISHED_STAGES}:
        return None
    if Downtime.objects.filter(resumed_session=session).exists():
        return None
    previous = (
        registration.sessions.filter(started_at__lt=session.started_at, ended_at__isnull=False)
        .order_by("-started_at")
        .first()
    )
    if previous is None or previous.last_seen_at >= session.started_at:
        return None
    with transaction.atomic():
        downtime, created = Downtime.objects.get_or_create(
            resumed_session=session,
            defaults={
                "registration": registration,
                "lost_at": previous.last_seen_at,
                "resumed_at": session.started_at,
                "stage": registration.stage,
            },
        )
        if created:
            audit_record(
                event_type="registration.rejoined",
                actor_label=_candidate(registration),
                subject=downtime,
                exam_id=registration.exam_id,
                registration_id=registration.pk,
                data={
                    "lost_at": downtime.lost_at.isoformat(),
                    "resumed_at": downtime.resumed_at.isoformat(),
                    "seconds": downtime.seconds,
                    "stage": registration.stage,
                    "previous_session": previous.pk,
                    "previous_end": previous.end_reason,
                },
            )
    return downtime if created else None


# --- Device check -------------------------------------------------------------------------------


def device_check_record(
    *, registration: Registration, results: dict, bandwidth_mbps: float | None, user_agent: str = "",
    now: datetime | None = None,
) -> DeviceCheck:
    """Store one run of the device check. The browser reports what it saw; the server judges the
    bandwidth from its own measurement and decides whether the run passed."""
    now = now or timezone.now()
    _require_stage(registration, Stage.DEVICE_CHECK)
    rules = exam_rules(registration.exam)
    judged = {}
    for item in DeviceCheck.ITEMS:
        if item == "bandwidth":
            continue
        reported = results.get(item) if isinstance(results.get(item), dict) else {}
        judged[item] = {"ok": reported.get("ok") is True, "detail": str(reported.get("detail", ""))[:200]}
    if bandwidth_mbps is None:
        judged["bandwidth"] = {"ok": False, "detail": _("not measured")}
    else:
        judged["bandwidth"] = {
            "ok": bandwidth_mbps >= rules.min_upload_mbps,
            "detail": _("%(measured).1f Mbit/s measured, %(needed).1f needed")
            % {"measured": bandwidth_mbps, "needed": rules.min_upload_mbps},
            "mbps": round(bandwidth_mbps, 2),
        }
    passed = all(entry["ok"] for entry in judged.values())
    with transaction.atomic():
        check = DeviceCheck.objects.create(
            registration=registration, checked_at=now, passed=passed, results=judged, user_agent=user_agent[:300]
        )
        audit_record(
            event_type="journey.device_check",
            actor_label=_candidate(registration),
            subject=check,
            exam_id=registration.exam_id,
            registration_id=registration.pk,
            data={"passed": passed, "failed": sorted(k for k, v in judged.items() if not v["ok"])},
        )
        if passed:
            registration_stage_set(
                registration=registration, stage=Stage.IDENTITY_CHECK, actor_label=_candidate(registration)
            )
    return check


# --- Identity -----------------------------------------------------------------------------------


def identity_match(*, registration: Registration, photo: bytes) -> FaceMatch | None:
    """The face match of a live frame against the registered photo (~150 ms of CPU, more on a
    process's first use; Django runs each request's sync view in a thread of its own)."""
    return integrations.face_match_for(
        registered=integrations.registered_photo(registration=registration), frame=photo,
        max_distance=exam_rules(registration.exam).face_match_max_distance,
    )


def identity_attempt_record(*, registration: Registration, photo: bytes, now: datetime | None = None) -> IdentityAttempt:
    """Compare a live camera frame with the registered photo, on the server (face match).

    When the server cannot decide (no registered photo, or none with a face), or after
    ``identity_attempts`` failed matches, the attempt waits for an invigilator, who sees both
    pictures side by side. The match runs before any lock is taken.
    """
    now = now or timezone.now()
    _require_stage(registration, Stage.IDENTITY_CHECK)
    if not photo:
        raise JourneyError(_("No picture was received. Please try again."), code="empty_photo")
    rules = exam_rules(registration.exam)
    match = identity_match(registration=registration, photo=photo)
    score = match.score if match is not None else None
    with transaction.atomic():
        Registration.objects.select_for_update().get(pk=registration.pk)
        attempts = IdentityAttempt.objects.filter(registration=registration)
        if attempts.filter(outcome=IdentityAttempt.Outcome.AWAITING_REVIEW).exists():
            raise JourneyError(_("Your picture is with the invigilator. Please wait."), code="awaiting_review")
        if attempts.filter(outcome=IdentityAttempt.Outcome.REJECTED).exists():
            raise JourneyError(
                _("The invigilator did not accept your identity. Please use the Help button."), code="rejected"
            )
        failures = attempts.filter(outcome=IdentityAttempt.Outcome.NOT_MATCHED).count()
        if match is not None and match.matched:
            outcome = IdentityAttempt.Outcome.MATCHED
        elif match is None or failures + 1 >= rules.identity_attempts:
            outcome = IdentityAttempt.Outcome.AWAITING_REVIEW
        else:
            outcome = IdentityAttempt.Outcome.NOT_MATCHED
        attempt = IdentityAttempt(registration=registration, attempted_at=now, score=score, outcome=outcome)
        attempt.photo.save(f"{registration.pk}-{int(now.timestamp() * 1000)}.jpg", ContentFile(photo), save=False)
        attempt.save()
        audit_record(
            event_type="journey.identity_attempt",
            actor_label=_candidate(registration),
            subject=attempt,
            exam_id=registration.exam_id,
            registration_id=registration.pk,
            data={"score": score, "faces_found": match.faces_found if match is not None else None,
                  "outcome": outcome, "failures_before": failures},
        )
        if outcome == IdentityAttempt.Outcome.MATCHED:
            registration_stage_set(registration=registration, stage=Stage.PHONE_PAIRING, actor_label=_candidate(registration))
        elif outcome == IdentityAttempt.Outcome.AWAITING_REVIEW:
            publish_on_commit(room_group(registration.room_id), "identity.review_requested",
                              registration_id=registration.pk, attempt_id=attempt.pk)
    return attempt


def identity_attempt_decide(*, attempt: IdentityAttempt, user, approve: bool, reason: str = "") -> bool:
    """The invigilator's decision on an attempt awaiting review; False if someone decided first.

    The caller has checked that ``user`` may invigilate the candidate's room.
    """
    outcome = IdentityAttempt.Outcome.APPROVED if approve else IdentityAttempt.Outcome.REJECTED
    registration = attempt.registration
    with transaction.atomic():
        decided = IdentityAttempt.objects.filter(
            pk=attempt.pk, outcome=IdentityAttempt.Outcome.AWAITING_REVIEW
        ).update(outcome=outcome, decided_by=user, decided_at=timezone.now(), reason=reason[:300])
        if not decided:
            return False
        audit_record(
            event_type="journey.identity_decided",
            actor=user,
            subject=attempt,
            exam_id=registration.exam_id,
            registration_id=registration.pk,
            data={"outcome": outcome, "reason": reason[:300], "score": attempt.score},
        )
        publish_on_commit(room_group(registration.room_id), "identity.decided",
                          registration_id=registration.pk, attempt_id=attempt.pk)
        if approve:
            registration_stage_set(registration=registration, stage=Stage.PHONE_PAIRING, actor_label=actor_label_for_user(user))
        else:
            publish_on_commit(candidate_group(registration.pk), "journey.changed", stage=registration.stage)
    attempt.outcome = outcome
    return True


# --- Phone pairing and blank paper --------------------------------------------------------------


def phone_pairing_finish(*, registration: Registration) -> None:
    _require_stage(registration, Stage.PHONE_PAIRING)
    if not integrations.phone_ready(registration=registration):
        raise JourneyError(_("Your phone has not reported in yet. Scan the code with the phone app."), code="no_phone")
    registration_stage_set(registration=registration, stage=Stage.PAPER_CHECK, actor_label=_candidate(registration))


def paper_snapshot_store(*, registration: Registration, side: str, image: bytes, now: datetime | None = None) -> PaperSnapshot:
    """Keep the picture of one side of the blank sheet (a retake replaces it; the audit keeps both)."""
    now = now or timezone.now()
    _require_stage(registration, Stage.PAPER_CHECK)
    if side not in PaperSnapshot.Side.values or not image:
        raise JourneyError(_("No picture was received. Please try again."), code="empty_photo")
    with transaction.atomic():
        snapshot = PaperSnapshot.objects.filter(registration=registration, side=side).first() or PaperSnapshot(
            registration=registration, side=side
        )
        snapshot.taken_at = now
        snapshot.image.save(f"{registration.pk}-{side}-{int(now.timestamp() * 1000)}.jpg", ContentFile(image), save=False)
        snapshot.save()
        audit_record(
            event_type="journey.paper_snapshot",
            actor_label=_candidate(registration),
            subject=snapshot,
            exam_id=registration.exam_id,
            registration_id=registration.pk,
            data={"side": side, "sha256": hashlib.sha256(image).hexdigest(), "file": snapshot.image.name},
        )
    return snapshot


def paper_check_finish(*, registration: Registration) -> None:
    _require_stage(registration, Stage.PAPER_CHECK)
    sides = set(PaperSnapshot.objects.filter(registration=registration).values_list("side", flat=True))
    if sides != set(PaperSnapshot.Side.values):
        raise JourneyError(_("Show both sides of the blank sheet to the camera first."), code="paper_missing")
    registration_stage_set(registration=registration, stage=Stage.WAITING, actor_label=_candidate(registration))


# --- Answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerWriteResult:
    answer: Answer
    applied: bool  # False: a replay or an older write; the stored answer is unchanged


def _require_writable(registration: Registration, now: datetime) -> None:
    exam = registration.exam
    if registration.stage in FINISHED_STAGES:
        raise JourneyError(_("Your answers have been submitted; they can no longer be changed."), code="submitted")
    if now >= exam.ends_at:
        raise JourneyError(
            _("The exam ended at %(time)s; answers written after the end are not accepted.")
            % {"time": local_time_text(exam.ends_at)},
            code="deadline_passed",
        )
    _require_stage(registration, Stage.IN_EXAM)


def answer_write(
    *,
    registration: Registration,
    position: int,
    client_id: str,
    revision: int,
    text: str | None = None,
    take: int | None = None,
    recording_sha256: str | None = None,
    recording_size: int | None = None,
    recording_duration_ms: int | None = None,
    now: datetime | None = None,
) -> AnswerWriteResult:
    """Apply one answer write if its revision is newer than the stored one.

    A text write carries ``text``; a recorded answer's write declares its take (1-based), the
    size and SHA-256 of the recording, and its length. Only the question on screen and the
    ones before it may be written, before the deadline.
    """
    now = now or timezone.now()
    if not client_id or len(client_id) > 64 or "\x00" in client_id or revision < 1:
        raise JourneyError(_("The answer could not be read. Please reload the page."), code="bad_write")
    with transaction.atomic():
        progress = JourneyProgress.objects.select_for_update().filter(registration=registration).first()
        registration.refresh_from_db(fields=["stage"])
        question = Question.objects.filter(exam_id=registration.exam_id, position=position).first()
        if not _late_take_allowed(registration, question, take, recording_duration_ms, now):
            _require_writable(registration, now)
        if progress is None or position > progress.question_position:
            raise JourneyError(_("This question is not open yet."), code="not_open")
        if question is None:
            raise JourneyError(_("There is no such question."), code="no_question")
        answer = Answer.objects.filter(registration=registration, question=question).first()
        if answer is not None and revision <= answer.revision:
            return AnswerWriteResult(answer, applied=False)
        answer = answer or Answer(registration=registration, question=question)
        if question.is_recorded:
            _recording_declare(answer, question, registration, take, recording_sha256, recording_size, recording_duration_ms)
        else:
            if text is None:
                raise JourneyError(_("This question is answered in writing."), code="wrong_mode")
            # PostgreSQL text cannot hold NUL, and no candidate types one: drop it rather than fail the write.
            answer.text = text.replace("\x00", "")[:20000]
        answer.client_id = client_id
        answer.revision = revision
        answer.updated_at = now
        answer.save()
        if question.is_recorded:
            audit_record(
                event_type="answer.take_declared",
                actor_label=_candidate(registration),
                subject=answer,
                exam_id=registration.exam_id,
                registration_id=registration.pk,
                data={"question": position, "take": answer.take, "sha256": answer.recording_sha256,
                      "size": answer.recording_size, "revision": revision, "client": client_id},
            )
    return AnswerWriteResult(answer, applied=True)


def _late_take_allowed(registration: Registration, question, take, duration_ms, now: datetime) -> bool:
    """A take still recording when the exam ended is kept: it may be declared up to
    ``recording_slack_seconds`` after the end if it started before the end (its length says
    when), even if the forced submission got there first. Its bytes follow in the incident window."""
    exam = registration.exam
    if question is None or not question.is_recorded or not take or duration_ms is None:
        return False
    if registration.stage not in (Stage.IN_EXAM, Stage.SUBMITTED):
        return False
    slack = timedelta(seconds=exam_rules(exam).recording_slack_seconds)
    started = now - timedelta(milliseconds=duration_ms)
    return exam.ends_at <= now < exam.ends_at + slack and started <= exam.ends_at


def _recording_declare(answer, question, registration, take, sha256, size, duration_ms) -> None:
    rules = exam_rules(registration.exam)
    if not take or not sha256 or len(sha256) != 64 or not size:
        raise JourneyError(_("This question is answered by recording."), code="wrong_mode")
    if take > 1 + rules.rerecord_allowed:
        raise JourneyError(
            _("You may record this answer at most %(n)s times.") % {"n": 1 + rules.rerecord_allowed},
            code="takes_used",
        )
    if take < answer.take:
        raise JourneyError(_("A later recording of this answer is already kept."), code="older_take")
    if duration_ms is not None and duration_ms > (question.answer_seconds + rules.recording_slack_seconds) * 1000:
        raise JourneyError(_("The recording is longer than the answer time."), code="too_long")
    if take != answer.take or sha256.lower() != answer.recording_sha256:
        answer.recording = None
        answer.recording_received_at = None
    answer.take = take
    answer.recording_sha256 = sha256.lower()
    answer.recording_size = size
    answer.recording_duration_ms = duration_ms


def _window_open(registration: Registration, moment: datetime) -> None:
    exam = registration.exam
    if moment >= exam.incident_window_closes_at:
        raise JourneyError(
            _("Uploads closed at %(time)s, %(minutes)s minutes after the end of the exam.")
            % {"time": local_time_text(exam.incident_window_closes_at), "minutes": exam.incident_window_minutes},
            code="window_closed",
        )


def _answer_take_attach(answer: Answer, registration: Registration, now: datetime) -> bool:
    """Keep the declared take if its tus upload has arrived whole, in time, with the declared
    SHA-256 and size; True if the answer now holds it. Call with the answer's row locked."""
    if answer.recording_verified:
        return True
    received = integrations.answer_take_received(
        registration=registration, position=answer.question.position, take=answer.take
    )
    if received is None or received.completed_at >= registration.exam.incident_window_closes_at:
        return False
    if received.sha256 != answer.recording_sha256 or received.size != answer.recording_size:
        raise JourneyError(_("The recording arrived damaged. It will be sent again."), code="checksum_mismatch")
    answer.recording.name = received.file_name  # the evidence app's file: kept, never deleted
    answer.recording_received_at = received.completed_at
    answer.save(update_fields=["recording", "recording_received_at"])
    audit_record(
        event_type="answer.recording_received",
        actor_label=_candidate(registration),
        subject=answer,
        exam_id=registration.exam_id,
        registration_id=registration.pk,
        data={"question": answer.question.position, "take": answer.take, "sha256": received.sha256,
              "size": received.size, "file": received.file_name, "confirmed_at": now.isoformat()},
    )
    return True


def answer_recording_confirm(*, registration: Registration, position: int, take: int, now: datetime | None = None) -> Answer:
    """The page's word that a take's tus upload has finished: keep the take if it is the one
    declared and its bytes hash to the declaration (the evidence app checked the whole file).

    Bytes may arrive after the deadline, but only for a take declared in time, and no later
    than the incident window. Confirming the same take twice is harmless.
    """
    now = now or timezone.now()
    _window_open(registration, now)
    with transaction.atomic():
        answer = (
            Answer.objects.select_for_update().select_related("question")
            .filter(registration=registration, question__exam_id=registration.exam_id, question__position=position)
            .first()
        )
        if answer is None or answer.take != take:
            raise JourneyError(_("This recording was not declared before the end; it cannot be kept."), code="undeclared")
        if not _answer_take_attach(answer, registration, now):
            raise JourneyError(_("The recording has not arrived yet. It will be sent again."), code="not_received")
    registration.refresh_from_db(fields=["stage"])
    if registration.stage == Stage.SUBMITTED:
        submission_completion_check(registration=registration, now=now)
    return answer


def question_advance(*, registration: Registration, from_position: int, now: datetime | None = None) -> JourneyProgress:
    """Go on to the next question; questions come in order and there is no going back.

    Compare-and-set on the position, so a double click or a replayed request moves once.
    """
    now = now or timezone.now()
    last = Question.objects.filter(exam_id=registration.exam_id).count()
    with transaction.atomic():
        registration.refresh_from_db(fields=["stage"])
        _require_writable(registration, now)
        if from_position >= last:
            raise JourneyError(_("This is the last question."), code="last_question")
        moved = JourneyProgress.objects.filter(registration=registration, question_position=from_position).update(
            question_position=from_position + 1, question_opened_at=now
        )
        if moved:
            audit_record(
                event_type="journey.question_opened",
                actor_label=_candidate(registration),
                subject=registration,
                exam_id=registration.exam_id,
                registration_id=registration.pk,
                data={"question": from_position + 1},
            )
    return JourneyProgress.objects.get(registration=registration)


# --- Submission ---------------------------------------------------------------------------------


def submission_submit(*, registration: Registration, how: str, now: datetime | None = None) -> bool:
    """Submit once; False if it was already submitted (by the candidate, or by a sweep that got there first).

    The candidate may submit before the end only if the exam allows it; a forced submission
    happens only at or after the end.
    """
    now = now or timezone.now()
    exam = registration.exam
    if now < exam.ends_at:
        if how == Submission.How.FORCED:
            raise JourneyError("forced submission before the end", code="not_ended")
        if not exam.early_submission_allowed:
            raise JourneyError(
                _("Early submission is not allowed. Your answers are submitted at %(time)s.")
                % {"time": local_time_text(exam.ends_at)},
                code="early",
            )
    with transaction.atomic():
        current = Registration.objects.select_for_update().values_list("stage", flat=True).get(pk=registration.pk)
        registration.stage = current
        if current in FINISHED_STAGES:
            return False
        if current not in SUBMITTABLE_STAGES:
            raise JourneyError(_("You have not joined this exam."), code="not_joined")
        Submission.objects.create(registration=registration, submitted_at=now, how=how)
        Registration.objects.filter(pk=registration.pk).update(submitted_at=now)
        registration.submitted_at = now
        answers = {
            str(position): {"revision": revision, "take": take, "sha256": sha}
            for position, revision, take, sha in Answer.objects.filter(registration=registration).values_list(
                "question__position", "revision", "take", "recording_sha256"
            )
        }
        audit_record(
            event_type="submission.submitted",
            actor_label=_candidate(registration) if how == Submission.How.CANDIDATE else None,
            subject=registration,
            exam_id=exam.pk,
            registration_id=registration.pk,
            data={"how": how, "stage": current, "answers": answers},
        )
        registration_stage_set(
            registration=registration, stage=Stage.SUBMITTED,
            actor_label=_candidate(registration) if how == Submission.How.CANDIDATE else None,
        )
    submission_completion_check(registration=registration, now=now)
    return True


def submission_outstanding(*, registration: Registration, now: datetime | None = None) -> list[str]:
    """What the server still expects before the submission is complete (empty: complete):
    every declared take of a recorded answer, and the PC's whole-exam recordings."""
    now = now or timezone.now()
    missing = []
    pending = Answer.objects.filter(
        registration=registration, question__mode__in=[Question.Mode.VIDEO, Question.Mode.AUDIO],
        recording_received_at__isnull=True,
    ).exclude(recording_sha256="")
    for answer_id in pending.values_list("pk", flat=True):
        with transaction.atomic():
            answer = Answer.objects.select_for_update().select_related("question").get(pk=answer_id)
            try:
                held = _answer_take_attach(answer, registration, now)
            except JourneyError:
                held = False  # damaged: the page sends it again
        if not held:
            missing.append(_("Recording of question %(n)s") % {"n": answer.question.position})
    return missing + integrations.evidence_outstanding(registration=registration)


def _take_may_be_running(registration: Registration) -> bool:
    """Forced out on a recorded question: its take may have been recording at the end."""
    if not Submission.objects.filter(registration=registration, how=Submission.How.FORCED).exists():
        return False
    progress = JourneyProgress.objects.filter(registration=registration).first()
    return progress is not None and Question.objects.filter(
        exam_id=registration.exam_id, position=progress.question_position,
        mode__in=[Question.Mode.VIDEO, Question.Mode.AUDIO],
    ).exists()


def submission_completion_check(*, registration: Registration, now: datetime | None = None) -> bool:
    """Mark the submission complete once the server holds everything expected; True if complete."""
    now = now or timezone.now()
    if registration.stage == Stage.COMPLETE:
        return True
    if registration.stage != Stage.SUBMITTED:
        return False
    exam = registration.exam
    slack_ends = exam.ends_at + timedelta(seconds=exam_rules(exam).recording_slack_seconds)
    if now < slack_ends and _take_may_be_running(registration):
        return False  # a take recording at the end may still be declared
    if submission_outstanding(registration=registration, now=now):
        return False
    with transaction.atomic():
        if Submission.objects.filter(registration=registration, completed_at__isnull=True).update(completed_at=now):
            audit_record(
                event_type="submission.complete",
                subject=registration,
                exam_id=registration.exam_id,
                registration_id=registration.pk,
                data={},
            )
        registration_stage_set(registration=registration, stage=Stage.COMPLETE)
    return True


def submission_force_due(*, now: datetime | None = None) -> int:
    """Force-submit every candidate still in an exam that has ended; returns how many this run did.

    Each registration is submitted in its own transaction, so a worker that dies half way
    leaves the rest for the next run, and a second run (or two schedulers) changes nothing.
    """
    now = now or timezone.now()
    submitted = 0
    for exam in Exam.objects.filter(starts_at__lte=now, registrations__stage__in=SUBMITTABLE_STAGES).distinct():
        if exam.ends_at > now:
            continue
        for registration in exam.registrations.filter(stage__in=SUBMITTABLE_STAGES).select_related("exam"):
            if submission_submit(registration=registration, how=Submission.How.FORCED, now=now):
                submitted += 1
    return submitted


def submission_completion_sweep(*, now: datetime | None = None) -> int:
    """Re-check submitted registrations of ended exams whose incident window is open: their
    last uploads may have arrived while no page asked. Returns how many completed."""
    now = now or timezone.now()
    completed = 0
    for exam in Exam.objects.filter(starts_at__lte=now, registrations__stage=Stage.SUBMITTED).distinct():
        if not exam.ends_at <= now < exam.incident_window_closes_at:
            continue
        for registration in exam.registrations.filter(stage=Stage.SUBMITTED).select_related("exam"):
            if submission_completion_check(registration=registration, now=now):
                completed += 1
    return completed


# --- After the exam -----------------------------------------------------------------------------


def incident_report_file(*, registration: Registration, text: str, now: datetime | None = None) -> IncidentReport:
    """A candidate's report of what went wrong, accepted until the incident window closes."""
    now = now or timezone.now()
    exam = registration.exam
    text = text.strip()
    if not text:
        raise JourneyError(_("Please describe what went wrong."), code="empty")
    if now >= exam.incident_window_closes_at:
        raise JourneyError(
            _("Reports were accepted until %(time)s, %(minutes)s minutes after the end of the exam; "
              "this one is too late. Please call the support number.")
            % {"time": local_time_text(exam.incident_window_closes_at), "minutes": exam.incident_window_minutes},
            code="window_closed",
        )
    with transaction.atomic():
        report = IncidentReport.objects.create(registration=registration, filed_at=now, text=text[:5000])
        audit_record(
            event_type="journey.incident_reported",
            actor_label=_candidate(registration),
            subject=report,
            exam_id=exam.pk,
            registration_id=registration.pk,
            data={"length": len(text)},
        )
    return report
