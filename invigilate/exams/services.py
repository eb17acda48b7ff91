from typing import Any

from django.db import transaction
from django.utils import timezone

from invigilate.accounts.models import Role, User
from invigilate.audit.services import audit_record

from .models import ExamRoom, ExamStaff, Registration, RoomInvigilator

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
    """Move a registration to ``stage`` by compare-and-set; False if it was already there."""
    with transaction.atomic():
        moved = (
            Registration.objects.filter(pk=registration.pk)
            .exclude(stage=stage)
            .update(stage=stage, stage_changed_at=timezone.now())
        )
        if moved:
            audit_record(
                event_type="registration.stage",
                actor_label=actor_label,
                subject=registration,
                exam_id=registration.exam_id,
                registration_id=registration.pk,
                data={"from": registration.stage, "to": stage},
            )
            registration.stage = stage
    return bool(moved)
