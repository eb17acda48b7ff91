"""Who may open the supervisor's view: the exam's supervisors (and admins), nobody else."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator

from invigilate.accounts.models import Role
from invigilate.asgi import application
from invigilate.exams.models import ExamRoom
from invigilate.exams.services import exam_staff_assign
from invigilate.supervision.models import AuditNote
from tests.personas import make_exam, make_user
from tests.proctoring.sockets import staff_cookie


@pytest.fixture
def other_supervisor(world):
    other_exam = make_exam(title="Another exam")
    ExamRoom.objects.create(exam=other_exam, name="Elsewhere")
    supervisor = make_user("other-supervisor", Role.SUPERVISOR)
    exam_staff_assign(exam=other_exam, user=supervisor, role=Role.SUPERVISOR)
    return supervisor


def pages(world):
    return [
        f"/supervision/exam/{world.exam.pk}/",
        f"/supervision/exam/{world.exam.pk}/invigilator/{world.invigilator.pk}/",
        f"/supervision/room/{world.room_a.pk}/",
    ]


def test_a_supervisor_of_another_exam_sees_nothing(world, client, other_supervisor):
    client.force_login(other_supervisor)
    for page in pages(world):
        assert client.get(page).status_code == 404, page
    response = client.post(f"/supervision/exam/{world.exam.pk}/notes/", {"room": world.room_a.pk, "text": "x", "severity": "info"})
    assert response.status_code == 404 and not AuditNote.objects.exists()
    assert client.get(f"/supervision/messages/?exam={world.exam.pk}").status_code == 404


@pytest.mark.parametrize("persona", ["invigilator", "technician", "reviewer", "outsider"])
def test_other_roles_cannot_open_the_supervisor_view(world, client, persona):
    client.force_login(getattr(world, persona))
    for page in pages(world):
        assert client.get(page).status_code == 403, page


def test_the_exams_supervisor_and_an_admin_may(world, client):
    for user in (world.supervisor, world.admin):
        client.force_login(user)
        for page in pages(world):
            assert client.get(page).status_code == 200, page


@pytest.mark.django_db(transaction=True)
async def test_the_supervisor_socket_refuses_everyone_but_the_exams_supervisors(live_world):
    other_exam = await sync_to_async(make_exam)(title="Another exam")
    stranger = await sync_to_async(make_user)("other-supervisor", Role.SUPERVISOR)
    await sync_to_async(exam_staff_assign)(exam=other_exam, user=stranger, role=Role.SUPERVISOR)
    for user, expected in [(live_world.supervisor, True), (stranger, False), (live_world.invigilator, False), (None, False)]:
        cookie = await sync_to_async(staff_cookie)(user) if user else ""
        headers = [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")] + ([(b"cookie", cookie.encode())] if cookie else [])
        socket = WebsocketCommunicator(application, f"/ws/supervision/exam/{live_world.exam.pk}/", headers=headers)
        connected, _ = await socket.connect()
        assert connected is expected, user
        await socket.disconnect()
