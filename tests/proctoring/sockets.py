"""Helpers for the staff dashboard socket tests."""

from channels.testing import WebsocketCommunicator
from django.test import Client

from invigilate.asgi import application


def staff_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def room_socket(room_id, cookie: str | None, origin: str | None = "http://127.0.0.1") -> WebsocketCommunicator:
    headers = [(b"host", b"127.0.0.1")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, f"/ws/room/{room_id}/", headers=headers)


async def receive_until(socket, message_type, timeout=3):
    """Messages up to and including the first of ``message_type``."""
    seen = []
    while True:
        message = await socket.receive_json_from(timeout=timeout)
        seen.append(message)
        if message["type"] == message_type:
            return seen


async def connect_outcome(socket) -> tuple[bool, int | None]:
    """Connect, then always end the application: a refused socket's consumer would otherwise
    stay alive, receiving from the channel layer, until the event loop is torn down."""
    outcome = await socket.connect(timeout=5)
    await socket.disconnect()
    return outcome
