"""Every write of supervision: dashboard presence, candidate views, audit notes, staff messages.

Each change that matters later is audited in its transaction; pushes leave after commit.
"""

import logging
from datetime import timedelta

from django.db import OperationalError, transaction
from django.db import connection as db_connection
from django.utils import timezone
from django.utils.translation import gettext as _

from invigilate.accounts.models import Role, User
from invigilate.audit.services import audit_record
from invigilate.exams.models import Exam, ExamRoom, Registration
from invigilate.realtime.groups import exam_group, helpdesk_group, room_group
from invigilate.realtime.publish import publish_on_commit

from . import selectors
from .models import AuditNote, CandidateView, DashboardConnection, Severity, StaffMessage

logger = logging.getLogger(__name__)

# Refreshes of an open drawer (every signal re-renders it) extend the same look, not a new one.
CANDIDATE_VIEW_MERGE = timedelta(minutes=2)
# A dashboard syncs every 10 s; one silent this long is gone (its process died).
CONNECTION_SILENT_AFTER = timedelta(seconds=45)


class SupervisionError(ValueError):
    """A request supervision refuses; the message says why, for the person who made it."""


def _role_of(user: User) -> str:
    return user.role or (Role.EXAM_ADMIN if user.is_superuser else "")


def _presence_publish(connection: DashboardConnection) -> None:
    # The room hears of supervisors coming and going; the exam's supervisors of everyone.
    groups = [exam_group(connection.exam_id)]
    if connection.role != Role.INVIGILATOR:
        groups.append(room_group(connection.room_id))
    publish_on_commit(
        groups, "supervision.presence",
        room_id=connection.room_id, user_id=connection.user_id, role=connection.role,
        online=connection.disconnected_at is None,
    )


# --- Dashboard presence -----------------------------------------------------------------

def dashboard_connection_open(*, user: User, room: ExamRoom, channel_name: str, now=None) -> DashboardConnection:
    """A room dashboard's socket was accepted (invigilator at work, or a supervisor dropping in)."""
    now = now or timezone.now()
    with transaction.atomic():
        connection = DashboardConnection.objects.create(
            exam_id=room.exam_id, room=room, user=user, role=_role_of(user), channel_name=channel_name[:200],
            connected_at=now, last_seen_at=now,
        )
        _presence_publish(connection)
    return connection


def dashboard_connection_touch(*, channel_name: str, now=None) -> None:
    DashboardConnection.objects.filter(channel_name=channel_name, disconnected_at__isnull=True).update(
        last_seen_at=now or timezone.now()
    )


def dashboard_connection_close(*, channel_name: str, now=None) -> None:
    """The socket went away. Never waits long for a lock: sockets close in bulk when a server
    or a test database goes down, and a close given up is closed by the sweep at its last sign
    of life (at most one sync interval later than the truth)."""
    now = now or timezone.now()
    try:
        _dashboard_connection_close(channel_name=channel_name, now=now)
    except OperationalError:
        logger.warning("dashboard connection %s not closed now; the sweep will close it", channel_name)


def _dashboard_connection_close(*, channel_name: str, now) -> None:
    with transaction.atomic():
        if db_connection.vendor == "postgresql":
            with db_connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
        for connection in DashboardConnection.objects.filter(channel_name=channel_name, disconnected_at__isnull=True):
            moved = DashboardConnection.objects.filter(pk=connection.pk, disconnected_at__isnull=True).update(
                disconnected_at=now, last_seen_at=now
            )
            if moved:
                connection.disconnected_at = now
                _presence_publish(connection)


def dashboard_connections_sweep(*, now=None) -> int:
    """Close connections silent for too long at their last sign of life. Idempotent."""
    now = now or timezone.now()
    closed = 0
    stale = DashboardConnection.objects.filter(disconnected_at__isnull=True, last_seen_at__lt=now - CONNECTION_SILENT_AFTER)
    for connection in stale:
        with transaction.atomic():
            moved = DashboardConnection.objects.filter(
                pk=connection.pk, disconnected_at__isnull=True, last_seen_at=connection.last_seen_at
            ).update(disconnected_at=connection.last_seen_at)
            if moved:
                closed += 1
                connection.disconnected_at = connection.last_seen_at
                _presence_publish(connection)
    return closed


def room_drop_in(*, supervisor: User, room: ExamRoom) -> None:
    """A supervisor opened a room's wall: on the record, and the invigilators see it live."""
    with transaction.atomic():
        audit_record(
            event_type="supervision.dropped_in", actor=supervisor, subject=room, exam_id=room.exam_id,
            data={"room": room.pk, "role": _role_of(supervisor)},
        )


# --- Attention --------------------------------------------------------------------------

def candidate_view_record(*, viewer: User, registration: Registration, kind: str, now=None) -> CandidateView:
    """A member of staff opened (or is still looking at) a candidate's drawer or live view."""
    if kind not in CandidateView.Kind.values:
        raise SupervisionError(f"unknown view kind {kind!r}")
    now = now or timezone.now()
    with transaction.atomic():
        current = (
            CandidateView.objects.select_for_update()
            .filter(registration=registration, viewer=viewer, kind=kind, last_seen_at__gte=now - CANDIDATE_VIEW_MERGE)
            .order_by("-last_seen_at").first()
        )
        if current is not None:
            current.last_seen_at = now
            current.save(update_fields=["last_seen_at"])
            return current
        return CandidateView.objects.create(
            exam_id=registration.exam_id, room_id=registration.room_id, registration=registration, viewer=viewer,
            viewer_role=_role_of(viewer), kind=kind, opened_at=now, last_seen_at=now,
        )


# --- Audit notes ------------------------------------------------------------------------

def audit_note_add(
    *, author: User, exam: Exam, text: str, severity: str = Severity.INFO, room: ExamRoom | None = None,
    subject_user: User | None = None, registration: Registration | None = None,
) -> AuditNote:
    """A supervisor's note on an invigilator or a room of their exam (it goes on the review timeline)."""
    text = (text or "").strip()
    if not text:
        raise SupervisionError(_("Write what you observed."))
    if severity not in Severity.values:
        raise SupervisionError(_("Choose a severity."))
    if selectors.exam_get_for_supervisor(user=author, exam_id=exam.pk) is None:
        raise SupervisionError(_("You do not supervise this exam."))
    if room is None and subject_user is None:
        raise SupervisionError(_("Say which invigilator or room the note is about."))
    if room is not None and room.exam_id != exam.pk:
        raise SupervisionError(_("That room is not part of this exam."))
    if subject_user is not None and not selectors.invigilator_rooms(user=subject_user, exam=exam).exists():
        raise SupervisionError(_("That person does not invigilate this exam."))
    if registration is not None and (registration.exam_id != exam.pk or (room and registration.room_id != room.pk)):
        raise SupervisionError(_("That candidate is not in this room."))
    with transaction.atomic():
        note = AuditNote.objects.create(
            exam=exam, room=room, subject_user=subject_user, registration=registration, severity=severity,
            text=text[:2000], author=author, created_at=timezone.now(),
        )
        audit_record(
            event_type="supervision.note_added", actor=author, subject=note, exam_id=exam.pk,
            registration_id=registration.pk if registration else None,
            data={"room": room.pk if room else None, "about": subject_user.pk if subject_user else None,
                  "severity": severity, "text": note.text},
        )
        publish_on_commit(exam_group(exam.pk), "supervision.note_added", note_id=note.pk, exam_id=exam.pk)
    return note


# --- Staff messages ---------------------------------------------------------------------

def staff_message_post(
    *, author: User, exam: Exam, text: str, room: ExamRoom | None = None, registration: Registration | None = None,
) -> StaffMessage:
    """Post a message to the staff of a room (its invigilators, the supervisors, the technicians),
    or with no room to the exam's supervisors and technicians."""
    text = (text or "").strip()
    if not text:
        raise SupervisionError(_("Write a message."))
    if registration is not None:
        room = room or registration.room
        if registration.room_id != room.pk:
            raise SupervisionError(_("That candidate is not in this room."))
    if not selectors.staff_message_may_post(user=author, exam=exam, room=room):
        raise SupervisionError(_("You cannot write to the staff of this room."))
    with transaction.atomic():
        message = StaffMessage.objects.create(
            exam=exam, room=room, registration=registration, author=author, author_role=_role_of(author),
            text=text[:1000], created_at=timezone.now(),
        )
        audit_record(
            event_type="staff.message_posted", actor=author, subject=message, exam_id=exam.pk,
            registration_id=registration.pk if registration else None,
            data={"room": room.pk if room else None, "text": message.text},
        )
        groups = [exam_group(exam.pk), helpdesk_group(exam.pk)] + ([room_group(room.pk)] if room else [])
        publish_on_commit(
            groups, "staff_message.posted", message_id=message.pk, exam_id=exam.pk, room_id=room.pk if room else None
        )
    return message
