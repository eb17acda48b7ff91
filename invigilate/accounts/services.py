from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from invigilate.audit.services import actor_label_for_registration, audit_record
from invigilate.exams.models import Exam, Registration
from invigilate.exams.services import local_time_text

from . import throttle
from .id_numbers import id_number_hash, id_number_validate
from .models import CandidateSession

FINISHED_STAGES = {Registration.Stage.SUBMITTED, Registration.Stage.COMPLETE}


class CandidateLoginRefused(Exception):
    """The login was refused; ``message`` is for the candidate, ``code`` for the records."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class SecondLoginRefused:
    registration: Registration


# Called with SecondLoginRefused when a live session blocks a new login; the live-alerts
# app subscribes so that the refusal becomes an alert for the room's invigilators.
second_login_listeners: list = []


def _ticket_key(ticket: str) -> str:
    return f"login-fail:ticket:{ticket.strip().upper()}"


def _address_key(address: str | None) -> str:
    return f"login-fail:address:{address or '-'}"


def _in_incident_window(registration: Registration, now) -> bool:
    """After the end, a candidate who took part may come back until the incident window
    closes, to finish uploads or report what went wrong (the journey shows only the
    after-exam page then: a joined candidate still inside is force-submitted on arrival)."""
    exam = registration.exam
    return registration.stage != Registration.Stage.NOT_JOINED and exam.ends_at <= now < exam.incident_window_closes_at


def _choose_registration(matches: list[Registration], now) -> Registration:
    """Pick the registration whose join window is open, else one whose incident window is;
    otherwise say when one opens."""
    open_now = [r for r in matches if r.exam.is_join_window_open(now)]
    if open_now:
        return min(open_now, key=lambda r: r.exam.ends_at)
    after_exam = [r for r in matches if _in_incident_window(r, now)]
    if after_exam:
        return max(after_exam, key=lambda r: r.exam.ends_at)
    upcoming = sorted((r for r in matches if r.exam.join_opens_at > now), key=lambda r: r.exam.join_opens_at)
    if upcoming:
        exam = upcoming[0].exam
        raise CandidateLoginRefused(
            _("Sign-in for %(exam)s opens at %(time)s (%(minutes)s minutes before the start).")
            % {"exam": exam.title, "time": local_time_text(exam.join_opens_at), "minutes": exam.join_opens_minutes_before},
            code="window_not_open",
        )
    exam = max(matches, key=lambda r: r.exam.ends_at).exam
    raise CandidateLoginRefused(
        _("%(exam)s ended at %(time)s; sign-in is closed.") % {"exam": exam.title, "time": local_time_text(exam.ends_at)},
        code="window_closed",
    )


def _check_exam_rules(registration: Registration, now) -> None:
    exam = registration.exam
    # A finished mock is not taken again; one whose uploads are still outstanding (submitted,
    # not complete) may come back to the after-exam page to finish them.
    if exam.kind == Exam.Kind.MOCK and registration.stage == Registration.Stage.COMPLETE:
        raise CandidateLoginRefused(_("You have already taken this mock exam; it can be taken once."), code="mock_taken")
    if exam.required_mock_id:
        took_mock = Registration.objects.filter(
            exam_id=exam.required_mock_id, candidate_id=registration.candidate_id, stage__in=FINISHED_STAGES
        ).exists()
        if not took_mock:
            raise CandidateLoginRefused(
                _("You did not complete the mock exam, which is required before the formal exam."),
                code="mock_missing",
            )
    first_entry = registration.stage == Registration.Stage.NOT_JOINED
    if first_entry and now >= exam.late_entry_closes_at:
        raise CandidateLoginRefused(
            _("The exam started at %(time)s and late entry is not allowed.") % {"time": local_time_text(exam.starts_at)},
            code="late_entry",
        )


def candidate_login(
    *, id_number: str, ticket_number: str, session_key: str, address: str | None, user_agent: str = ""
) -> CandidateSession:
    """Sign a candidate in, or raise CandidateLoginRefused with a message they can act on."""
    now = timezone.now()
    ticket_number = ticket_number.strip().upper()
    lockout = int(settings.CANDIDATE_LOGIN_LOCKOUT.total_seconds())
    if (
        throttle.failures_count(_ticket_key(ticket_number)) >= settings.CANDIDATE_LOGIN_FAILURES_PER_TICKET
        or throttle.failures_count(_address_key(address)) >= settings.CANDIDATE_LOGIN_FAILURES_PER_ADDRESS
    ):
        raise CandidateLoginRefused(
            _("Too many failed attempts. Please wait %(minutes)s minutes or call support.")
            % {"minutes": lockout // 60},
            code="throttled",
        )
    try:
        number = id_number_validate(id_number)
    except ValidationError as error:
        raise CandidateLoginRefused(error.messages[0], code="bad_id_number") from None

    matches = list(
        Registration.objects.select_related("exam", "candidate").filter(
            ticket_number=ticket_number, candidate__id_number_hash=id_number_hash(number)
        )
    )
    if not matches:
        throttle.failure_record(_ticket_key(ticket_number), lifetime_seconds=lockout)
        throttle.failure_record(_address_key(address), lifetime_seconds=lockout)
        with transaction.atomic():
            audit_record(
                event_type="candidate.login_failed",
                data={"ticket": ticket_number, "address": address, "reason": "no_match"},
            )
        raise CandidateLoginRefused(
            _("The ID number and admission ticket number do not match a registration. Please check both."),
            code="no_match",
        )

    registration = _choose_registration(matches, now)
    _check_exam_rules(registration, now)
    throttle.failures_clear(_ticket_key(ticket_number))
    return _session_open(
        registration=registration, session_key=session_key, address=address, user_agent=user_agent, now=now
    )


def _session_open(*, registration: Registration, session_key: str, address, user_agent: str, now) -> CandidateSession:
    actor = actor_label_for_registration(registration.pk)
    live_after = now - timedelta(seconds=settings.CANDIDATE_SESSION_LIVE_SECONDS)
    try:
        with transaction.atomic():
            Registration.objects.select_for_update().get(pk=registration.pk)
            current = CandidateSession.objects.filter(registration=registration, ended_at__isnull=True).first()
            if current and current.session_key != session_key and current.last_seen_at >= live_after:
                audit_record(
                    event_type="candidate.second_login_refused",
                    actor_label=actor,
                    subject=registration,
                    exam_id=registration.exam_id,
                    registration_id=registration.pk,
                    data={"address": address, "user_agent": user_agent[:200], "live_session": current.pk},
                )
                for listener in second_login_listeners:
                    listener(SecondLoginRefused(registration=registration))
                refused = True
            else:
                refused = False
                if current:
                    session_end(session=current, reason=CandidateSession.EndReason.REPLACED, now=now)
                session = CandidateSession.objects.create(
                    registration=registration,
                    session_key=session_key,
                    started_at=now,
                    last_seen_at=now,
                    address=address,
                    user_agent=user_agent[:300],
                )
                audit_record(
                    event_type="candidate.login",
                    actor_label=actor,
                    subject=session,
                    exam_id=registration.exam_id,
                    registration_id=registration.pk,
                    data={"address": address, "user_agent": user_agent[:200], "replaced": current.pk if current else None},
                )
    except IntegrityError:
        refused = True  # another login won the race for the one open session
    if refused:
        raise CandidateLoginRefused(
            _("You are already signed in on another computer. Close that page first; "
              "if that computer has failed, wait %(seconds)s seconds and sign in again.")
            % {"seconds": settings.CANDIDATE_SESSION_LIVE_SECONDS},
            code="second_login",
        )
    return session


def session_end(*, session: CandidateSession, reason: str, now=None) -> bool:
    """End a session; False if it had already ended (another request got there first)."""
    now = now or timezone.now()
    with transaction.atomic():
        ended = CandidateSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=now, end_reason=reason
        )
        if ended:
            registration = session.registration
            audit_record(
                event_type="candidate.session_ended",
                actor_label=actor_label_for_registration(registration.pk),
                subject=session,
                exam_id=registration.exam_id,
                registration_id=registration.pk,
                data={"reason": reason},
            )
    return bool(ended)


def session_touch(*, session: CandidateSession, now=None) -> None:
    """Record that the session's browser was heard from (at most one write per 5 s)."""
    now = now or timezone.now()
    if now - session.last_seen_at >= timedelta(seconds=5):
        CandidateSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(last_seen_at=now)
        session.last_seen_at = now


def sessions_touch(*, session_ids, now=None) -> int:
    """``session_touch`` for many live sessions in one statement (the live-alerts heartbeats)."""
    now = now or timezone.now()
    return CandidateSession.objects.filter(pk__in=list(session_ids), ended_at__isnull=True).update(last_seen_at=now)
