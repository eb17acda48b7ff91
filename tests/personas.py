"""Named people for every role, in one exam with two rooms, built from plain ORM calls."""

from dataclasses import dataclass
from datetime import timedelta
from itertools import count

from django.utils import timezone

from invigilate.accounts.id_numbers import id_number_check_character, id_number_hash, id_number_mask
from invigilate.accounts.models import Role, User
from invigilate.exams.models import Candidate, Exam, ExamRoom, Registration
from invigilate.exams.services import exam_staff_assign, room_invigilator_assign

PASSWORD = "correct-horse-battery"
# Starts above the explicit serials that tests/exams/importfiles.py uses (10..99), so a
# world made before an import test never shares an ID number with an imported row.
_serial = count(100)


def make_id_number(serial: int | None = None) -> str:
    serial = next(_serial) if serial is None else serial
    first = f"62010219900101{serial % 1000:03d}"
    return first + id_number_check_character(first)


def make_user(username: str, role: str = "") -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, first_name=username.title())
    return user


def make_exam(*, title="Formal interview", starts_in=timedelta(minutes=10), **fields) -> Exam:
    return Exam.objects.create(title=title, starts_at=timezone.now() + starts_in, **fields)


def make_registration(*, exam: Exam, room: ExamRoom, seat: int, ticket: str | None = None, id_number=None,
                      name="Candidate") -> tuple[Registration, str]:
    id_number = id_number or make_id_number()
    candidate, _ = Candidate.objects.get_or_create(
        id_number_hash=id_number_hash(id_number),
        defaults={"full_name": f"{name} {seat}", "id_number_masked": id_number_mask(id_number), "phone": "13900000000"},
    )
    registration = Registration.objects.create(
        exam=exam, candidate=candidate, room=room, seat=seat, ticket_number=ticket or f"T{exam.pk:03d}{room.pk:03d}{seat:03d}"
    )
    return registration, id_number


@dataclass
class World:
    exam: Exam
    room_a: ExamRoom
    room_b: ExamRoom
    candidate: Registration  # seat 1 in room A
    candidate_id_number: str
    other_candidate: Registration  # seat 1 in room B
    other_candidate_id_number: str
    invigilator: User  # room A
    other_invigilator: User  # room B
    supervisor: User
    technician: User
    reviewer: User
    admin: User
    outsider: User  # staff, assigned to nothing


def make_world(**exam_fields) -> World:
    exam = make_exam(**exam_fields)
    room_a = ExamRoom.objects.create(exam=exam, name="Room A")
    room_b = ExamRoom.objects.create(exam=exam, name="Room B")
    candidate, candidate_id = make_registration(exam=exam, room=room_a, seat=1)
    other, other_id = make_registration(exam=exam, room=room_b, seat=1)
    invigilator = make_user("invigilator", Role.INVIGILATOR)
    other_invigilator = make_user("other-invigilator", Role.INVIGILATOR)
    supervisor = make_user("supervisor", Role.SUPERVISOR)
    technician = make_user("technician", Role.TECHNICIAN)
    reviewer = make_user("reviewer", Role.REVIEWER)
    admin = make_user("admin", Role.EXAM_ADMIN)
    admin.is_staff = admin.is_superuser = True  # as seed_demo makes it: the admin site is theirs
    admin.save(update_fields=["is_staff", "is_superuser"])
    outsider = make_user("outsider", Role.INVIGILATOR)
    room_invigilator_assign(room=room_a, user=invigilator)
    room_invigilator_assign(room=room_b, user=other_invigilator)
    exam_staff_assign(exam=exam, user=supervisor, role=Role.SUPERVISOR)
    exam_staff_assign(exam=exam, user=technician, role=Role.TECHNICIAN)
    exam_staff_assign(exam=exam, user=reviewer, role=Role.REVIEWER)
    return World(exam, room_a, room_b, candidate, candidate_id, other, other_id, invigilator, other_invigilator,
                 supervisor, technician, reviewer, admin, outsider)
