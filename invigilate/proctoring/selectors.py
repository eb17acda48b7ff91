"""Reads for live alerts, always scoped to the member of staff who asks."""

from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from invigilate.accounts.models import Role, User
from invigilate.exams.models import ExamRoom, Registration

from .models import ACTIVE_STATUSES, Alert, InvigilatorAction, Signal

# A dashboard that missed more than this many alert changes reloads instead of catching up.
CATCH_UP_LIMIT = 200


def room_list_for_viewer(*, user: User) -> QuerySet[ExamRoom]:
    """Rooms whose wall the user may watch: invigilators their rooms, supervisors their exams'."""
    rooms = ExamRoom.objects.select_related("exam").order_by("exam__starts_at", "name")
    if not user.is_active:
        return rooms.none()
    if user.is_exam_admin:
        return rooms
    if user.role == Role.INVIGILATOR:
        return rooms.filter(invigilator_assignments__user=user).distinct()
    if user.role == Role.SUPERVISOR:
        return rooms.filter(exam__staff_assignments__user=user, exam__staff_assignments__role=Role.SUPERVISOR).distinct()
    return rooms.none()


def room_get_for_viewer(*, user: User, room_id: int) -> ExamRoom | None:
    return room_list_for_viewer(user=user).filter(pk=room_id).first()


def registration_get_for_viewer(*, user: User, registration_id: int) -> Registration | None:
    rooms = room_list_for_viewer(user=user)
    return (
        Registration.objects.select_related("candidate", "exam", "room")
        .filter(pk=registration_id, room__in=rooms)
        .first()
    )


def alert_get_for_viewer(*, user: User, alert_id: int) -> Alert | None:
    return Alert.objects.select_related("registration__candidate", "room").filter(
        pk=alert_id, room__in=room_list_for_viewer(user=user)
    ).first()


def tile_list_for_room(*, room: ExamRoom) -> QuerySet[Registration]:
    """The wall: every registration of the room with its open-alert count and last signal."""
    open_alerts = (
        Alert.objects.filter(registration=OuterRef("pk"), status__in=ACTIVE_STATUSES)
        .values("registration").annotate(n=Count("pk")).values("n")
    )
    last_signal = Signal.objects.filter(registration=OuterRef("pk")).order_by("-received_at").values("received_at")[:1]
    return (
        Registration.objects.filter(room=room)
        .select_related("candidate")
        .annotate(
            open_alerts=Coalesce(Subquery(open_alerts, output_field=IntegerField()), 0),
            last_signal_at=Subquery(last_signal),
        )
        .order_by("seat")
    )


def tiles_annotate(registrations: list[Registration]) -> list[Registration]:
    """Attach what other apps show on a tile, a fixed number of queries for a whole wall:
    ``help_summary`` (help desk), ``phone_silent_since`` and ``evidence_late`` (evidence)."""
    from invigilate.evidence.selectors import evidence_late_counts, phone_silences_open
    from invigilate.helpdesk.selectors import help_request_summaries_for_tiles

    ids = [registration.pk for registration in registrations]
    summaries = help_request_summaries_for_tiles(registration_ids=ids) if ids else {}
    silences = phone_silences_open(registration_ids=ids) if ids else {}
    late = evidence_late_counts(registration_ids=ids) if ids else {}
    for registration in registrations:
        registration.help_summary = summaries.get(registration.pk)
        registration.phone_silent_since = silences.get(registration.pk)
        registration.evidence_late = late.get(registration.pk, 0)
    return registrations


def tiles_for_room(*, room: ExamRoom) -> list[Registration]:
    """The wall's tiles, ready to render."""
    return tiles_annotate(list(tile_list_for_room(room=room)))


def tile_get(*, room: ExamRoom, registration_id: int) -> Registration | None:
    registration = tile_list_for_room(room=room).filter(pk=registration_id).first()
    return tiles_annotate([registration])[0] if registration is not None else None


def alert_feed_for_room(*, room: ExamRoom, limit: int = 100) -> list[Alert]:
    """Newest first: every live alert, then the most recent closed ones up to ``limit``."""
    base = Alert.objects.filter(room=room).select_related("registration__candidate", "acknowledged_by")
    active = list(base.filter(status__in=ACTIVE_STATUSES).order_by("-sequence"))
    closed = list(base.exclude(status__in=ACTIVE_STATUSES).order_by("-sequence")[: max(0, limit - len(active))])
    return sorted(active + closed, key=lambda alert: -alert.sequence)


def alert_changes_for_room(*, room: ExamRoom, since: datetime | None) -> list[Alert] | None:
    """Alerts of the room changed at or after ``since`` (oldest change first); None if too many."""
    base = Alert.objects.filter(room=room).select_related("registration__candidate", "acknowledged_by")
    if since is None:
        changes = base.filter(status__in=ACTIVE_STATUSES)
    else:
        changes = base.filter(changed_at__gte=since)
    changes = list(changes.order_by("changed_at", "sequence")[: CATCH_UP_LIMIT + 1])
    return None if len(changes) > CATCH_UP_LIMIT else changes


def timeline_for_registration(*, registration: Registration, limit: int = 200) -> list[dict]:
    """The candidate's signals, alerts and staff actions, newest first."""
    entries = []
    for signal in Signal.objects.filter(registration=registration).order_by("-received_at")[:limit]:
        entries.append({"at": signal.received_at, "type": "signal", "item": signal})
    for alert in Alert.objects.filter(registration=registration).order_by("-sequence")[:limit]:
        entries.append({"at": alert.first_seen_at, "type": "alert", "item": alert})
    for action in InvigilatorAction.objects.filter(registration=registration).select_related("author")[:limit]:
        entries.append({"at": action.created_at, "type": "action", "item": action})
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return entries[:limit]
