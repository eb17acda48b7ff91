import pytest
from django.core.cache import cache

from invigilate.accounts.models import Role
from invigilate.exams.services import exam_staff_assign
from invigilate.helpdesk.models import HelpCategory
from invigilate.helpdesk.services import help_request_submit, technician_presence_connect
from tests.personas import make_registration, make_user


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()


@pytest.fixture
def world(transactional_db):
    """The personas, committed: routing and pushes run after commit, as in production."""
    from tests.personas import make_world

    return make_world()


def add_technician(exam, name: str, *, online: bool = True):
    user = make_user(name, Role.TECHNICIAN)
    user.phone = "0931-8000" + str(user.pk)[-3:].rjust(3, "0")
    user.save(update_fields=["phone"])
    exam_staff_assign(exam=exam, user=user, role=Role.TECHNICIAN)
    if online:
        technician_presence_connect(user=user)
    return user


def ask_help(registration, *, category=HelpCategory.CAMERA_MICROPHONE, description="My camera is black",
             phone="13900000001"):
    request, _created = help_request_submit(
        registration=registration, category=category, description=description, phone=phone,
        diagnostics={"browser": "test"},
    )
    return request


def more_candidates(world, count: int):
    return [make_registration(exam=world.exam, room=world.room_a, seat=seat)[0] for seat in range(2, 2 + count)]
