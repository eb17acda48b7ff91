"""The demo exam that ``make run`` loads: idempotent, so running it again only moves the clock."""

import hashlib
import io
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from invigilate.accounts.id_numbers import id_number_check_character, id_number_hash, id_number_mask
from invigilate.accounts.models import Role, User

from .models import Candidate, Exam, ExamRoom, Question, Registration
from .services import exam_staff_assign, room_invigilator_assign

DEMO_PASSWORD = "invigilate-demo"
FORMAL_TITLE = "Demo formal interview"
MOCK_TITLE = "Demo mock interview"
STAFF = [
    ("admin", Role.EXAM_ADMIN, "Ada", "Admin"),
    ("invigilator1", Role.INVIGILATOR, "Li", "Wei"),
    ("invigilator2", Role.INVIGILATOR, "Zhang", "Min"),
    ("supervisor", Role.SUPERVISOR, "Wang", "Fang"),
    ("technician1", Role.TECHNICIAN, "Chen", "Jie"),
    ("technician2", Role.TECHNICIAN, "Liu", "Yang"),
    ("reviewer", Role.REVIEWER, "Zhao", "Lei"),
]
QUESTIONS = [
    (Question.Mode.VIDEO, "Introduce yourself and tell us why you want to work for the trade union.", 30, 120),
    (Question.Mode.TEXT, "A worker tells you their wages have been held back for two months. Write the steps you would take.", 0, 600),
    (Question.Mode.VIDEO, "Describe a time you settled a disagreement between colleagues. What did you learn?", 60, 180),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@dataclass
class DemoLogin:
    who: str
    username: str
    secret: str


def demo_id_number(index: int) -> str:
    first = f"620121199{index % 10}{(index % 12) + 1:02d}{(index % 28) + 1:02d}{index:03d}"
    return first + id_number_check_character(first)


def demo_photo(index: int) -> bytes:
    """A plain drawn face, different per candidate (real faces come from the face tests)."""
    hue = (index * 47) % 255
    image = Image.new("RGB", (240, 320), (200, 210 + hue % 40, 230))
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 70, 180, 220), fill=(240, 200, 170))
    draw.ellipse((90, 120, 105, 135), fill=(40, 30, 30))
    draw.ellipse((135, 120, 150, 135), fill=(40, 30, 30))
    draw.arc((95, 160, 145, 195), 20, 160, fill=(150, 60, 60), width=4)
    draw.rectangle((40, 240, 200, 320), fill=(hue, 90, 140))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _photo_name(data: bytes) -> str:
    name = f"photos/{hashlib.sha256(data).hexdigest()}.jpg"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))
    return name


@transaction.atomic
def demo_seed(*, starts_in: timedelta = timedelta(minutes=5)) -> list[DemoLogin]:
    now = timezone.now()
    logins = []
    users = {}
    for username, role, first, last in STAFF:
        user, created = User.objects.get_or_create(
            username=username, defaults={"role": role, "first_name": first, "last_name": last}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role == Role.EXAM_ADMIN
            user.is_superuser = role == Role.EXAM_ADMIN
            user.save()
        users[username] = user
        logins.append(DemoLogin(role.label, username, DEMO_PASSWORD))

    mock, _ = Exam.objects.get_or_create(
        title=MOCK_TITLE,
        defaults={"kind": Exam.Kind.MOCK, "starts_at": now - timedelta(days=1), "duration": timedelta(hours=14)},
    )
    formal, _ = Exam.objects.get_or_create(
        title=FORMAL_TITLE,
        defaults={"kind": Exam.Kind.FORMAL, "starts_at": now + starts_in, "required_mock": mock,
                  "support_phone": "0931-8888000"},
    )
    formal.starts_at = now + starts_in
    formal.duration = timedelta(minutes=60)
    formal.save(update_fields=["starts_at", "duration"])

    for exam in (mock, formal):
        exam_staff_assign(exam=exam, user=users["supervisor"], role=Role.SUPERVISOR)
        exam_staff_assign(exam=exam, user=users["technician1"], role=Role.TECHNICIAN)
        exam_staff_assign(exam=exam, user=users["technician2"], role=Role.TECHNICIAN)
        exam_staff_assign(exam=exam, user=users["reviewer"], role=Role.REVIEWER)
        for number in (1, 2):
            room, _ = ExamRoom.objects.get_or_create(exam=exam, name=f"Room {number}")
            room_invigilator_assign(room=room, user=users[f"invigilator{number}"])

    for exam, questions in ((mock, QUESTIONS[:2]), (formal, QUESTIONS)):
        for position, (mode, prompt, preparation, answer) in enumerate(questions, start=1):
            Question.objects.get_or_create(
                exam=exam, position=position,
                defaults={"mode": mode, "prompt": prompt, "preparation_seconds": preparation, "answer_seconds": answer},
            )

    index = 0
    for number in (1, 2):
        for seat in range(1, 13):
            index += 1
            id_number = demo_id_number(index)
            photo = _photo_name(demo_photo(index))
            candidate, _ = Candidate.objects.get_or_create(
                id_number_hash=id_number_hash(id_number),
                defaults={
                    "full_name": SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)],
                    "id_number_masked": id_number_mask(id_number),
                    "phone": f"1390931{index:04d}",
                    "photo": photo,
                },
            )
            ticket = f"2022{number}{seat:03d}"
            Registration.objects.get_or_create(
                exam=mock, ticket_number=ticket,
                defaults={"candidate": candidate, "room": mock.rooms.get(name=f"Room {number}"), "seat": seat,
                          "stage": Registration.Stage.COMPLETE, "submitted_at": now - timedelta(hours=20)},
            )
            Registration.objects.get_or_create(
                exam=formal, ticket_number=ticket,
                defaults={"candidate": candidate, "room": formal.rooms.get(name=f"Room {number}"), "seat": seat},
            )
            logins.append(DemoLogin(f"candidate, Room {number} seat {seat}", id_number, ticket))
    return logins
