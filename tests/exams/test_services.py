import pytest
from django.db import transaction

from invigilate.audit.models import AuditEvent
from invigilate.exams import services
from invigilate.exams.models import Registration, RoomInvigilator
from invigilate.exams.services import (
    AssignmentError,
    exam_staff_assign,
    registration_delete,
    registration_save,
    registration_stage_set,
    room_invigilator_assign,
    room_invigilator_unassign,
)


def test_it_moves_a_stage_once_and_audits_it(world):
    registration = world.candidate
    assert registration_stage_set(registration=registration, stage="device_check", actor_label="candidate:1")
    assert not registration_stage_set(registration=Registration.objects.get(pk=registration.pk), stage="device_check")
    [event] = AuditEvent.objects.filter(event_type="registration.stage")
    assert event.data == {"from": "not_joined", "to": "device_check"} and event.registration_id == registration.pk
    assert Registration.objects.get(pk=registration.pk).stage_changed_at is not None


def test_only_invigilators_are_put_in_rooms_and_only_per_exam_roles_on_exams(world):
    with pytest.raises(AssignmentError):
        room_invigilator_assign(room=world.room_a, user=world.supervisor)
    with pytest.raises(AssignmentError):
        exam_staff_assign(exam=world.exam, user=world.invigilator, role="invigilator")


def test_assigning_twice_records_once(world):
    before = AuditEvent.objects.filter(event_type="assignment.invigilator_added").count()
    room_invigilator_assign(room=world.room_a, user=world.invigilator, actor=world.admin)
    assert AuditEvent.objects.filter(event_type="assignment.invigilator_added").count() == before


def test_losing_a_room_tells_the_listeners_and_a_rollback_leaves_the_assignment(world, monkeypatch):
    heard = []
    monkeypatch.setattr(services, "assignment_removed_listeners", [lambda **kwargs: heard.append(kwargs)])
    with pytest.raises(RuntimeError), transaction.atomic():
        room_invigilator_unassign(room=world.room_a, user=world.invigilator, actor=world.admin)
        raise RuntimeError("the admin's request failed later")
    assert RoomInvigilator.objects.filter(room=world.room_a, user=world.invigilator).exists()
    assert not AuditEvent.objects.filter(event_type="assignment.invigilator_removed").exists()
    assert room_invigilator_unassign(room=world.room_a, user=world.invigilator, actor=world.admin)
    assert heard[-1] == {"user_id": world.invigilator.pk, "room_id": world.room_a.pk, "exam_id": world.exam.pk}


def test_staff_edits_of_a_registration_are_recorded_with_before_and_after(world):
    registration = world.candidate
    registration.seat = 9
    registration_save(registration=registration, previous={"seat": 1}, actor=world.admin)
    changed = AuditEvent.objects.get(event_type="registration.changed")
    assert (changed.data, changed.actor) == ({"seat": [1, 9]}, world.admin)
    registration_delete(registration=registration, actor=world.admin)
    deleted = AuditEvent.objects.get(event_type="registration.deleted")
    assert deleted.data == {"ticket": registration.ticket_number, "room": "Room A", "seat": 9}
    assert not Registration.objects.filter(pk=changed.registration_id).exists()
