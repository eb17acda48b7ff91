import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from invigilate.accounts.middleware import SESSION_ID_KEY
from invigilate.accounts.services import candidate_login
from invigilate.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_cookie(world) -> str:
    store = SessionStore()
    store.create()
    session = candidate_login(
        id_number=world.candidate_id_number, ticket_number=world.candidate.ticket_number,
        session_key=store.session_key, address="127.0.0.1",
    )
    store[SESSION_ID_KEY] = session.pk
    store.save()
    return f"sessionid={store.session_key}"


def communicator(cookie: str | None = None, origin: str = "http://127.0.0.1") -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, "/ws/candidate/", headers=headers)


async def test_it_refuses_a_socket_without_a_candidate_session(live_world):
    socket = communicator()
    connected, code = await socket.connect()
    assert not connected and code == 4401


async def test_it_refuses_a_foreign_origin(live_world):
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(signed_in_cookie)(live_world)
    connected, _ = await communicator(cookie, origin="http://evil.example").connect()
    assert not connected


async def test_it_answers_the_clock_and_rejects_unknown_messages(live_world):
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(signed_in_cookie)(live_world)
    socket = communicator(cookie)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "clock", "sent_at": 123})
    reply = await socket.receive_json_from()
    assert reply["type"] == "clock" and reply["echo"] == 123 and reply["server_time"]
    await socket.send_json_to({"type": "no-such-thing"})
    assert (await socket.receive_json_from())["error"] == "unknown_type"
    await socket.send_to(text_data="not json")
    assert (await socket.receive_json_from())["error"] == "unknown_type"
    await socket.disconnect()
