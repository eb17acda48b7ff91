import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from invigilate.asgi import application
from invigilate.helpdesk.models import HelpStatus, TechnicianPresence
from tests.personas import PASSWORD

from .conftest import ask_help

pytestmark = pytest.mark.django_db(transaction=True)


def staff_cookie(username: str) -> str:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return f"sessionid={client.cookies['sessionid'].value}"


def console_socket(cookie: str) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie.encode())]
    return WebsocketCommunicator(application, "/ws/helpdesk/", headers=headers)


async def test_the_console_socket_brings_the_technician_online_and_pushes_new_requests(world):
    socket = console_socket(await sync_to_async(staff_cookie)("technician"))
    connected, _ = await socket.connect()
    assert connected
    presence = await TechnicianPresence.objects.aget(user=world.technician)
    assert presence.status == "online" and presence.connections == 1
    request = await sync_to_async(ask_help)(world.candidate)
    assert request.status == HelpStatus.OFFERED
    statuses = set()
    while "offered" not in statuses:
        event = await socket.receive_json_from(timeout=2)
        assert event["type"] == "help.changed" and event["exam_id"] == world.exam.pk
        statuses.add(event["status"])
    await socket.send_json_to({"type": "ping"})
    while (await socket.receive_json_from(timeout=2))["type"] != "pong":
        pass
    await socket.disconnect()
    presence = await TechnicianPresence.objects.aget(user=world.technician)
    assert presence.status == "offline" and presence.connections == 0
    await request.arefresh_from_db()
    assert request.status == HelpStatus.QUEUED


async def test_the_console_socket_refuses_other_roles(world):
    for username in ("invigilator", "supervisor"):
        connected, code = await console_socket(await sync_to_async(staff_cookie)(username)).connect()
        assert not connected and code == 4401
