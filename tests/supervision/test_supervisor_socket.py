"""The supervisor's socket: rooms and escalations arrive rendered, live."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator

from invigilate.asgi import application
from invigilate.proctoring.services import alert_acknowledge, alert_escalate, signal_record
from tests.proctoring.sockets import receive_until, room_socket, staff_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def supervisor_socket(world):
    cookie = await sync_to_async(staff_cookie)(world.supervisor)
    socket = WebsocketCommunicator(application, f"/ws/supervision/exam/{world.exam.pk}/", headers=[
        (b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())])
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "sync"})
    first = await receive_until(socket, "synced")
    return socket, first


async def test_it_sends_every_room_on_sync_and_a_room_again_when_its_alert_escalates(live_world):
    socket, first = await supervisor_socket(live_world)
    assert {m["room_id"] for m in first if m["type"] == "room"} == {live_world.room_a.pk, live_world.room_b.pk}
    assert [m["new"] for m in first if m["type"] == "escalations"] == [False]

    alert = (await sync_to_async(signal_record)(registration=live_world.candidate, kind="paste", source="browser")).alert
    row = await socket.receive_json_from(timeout=3)
    assert row["type"] == "room" and row["room_id"] == live_world.room_a.pk
    await sync_to_async(alert_escalate)(alert=alert)
    messages = [await socket.receive_json_from(timeout=3) for _ in range(2)]
    by_type = {message["type"]: message for message in messages}
    assert by_type["escalations"]["new"] is True and by_type["escalations"]["count"] == 1
    assert "Pasted into the exam page." in by_type["escalations"]["html"]
    assert by_type["room"]["attention"] >= 1000 and "has-escalations" in by_type["room"]["html"]

    await sync_to_async(alert_acknowledge)(alert=alert, actor=live_world.supervisor)
    messages = [await socket.receive_json_from(timeout=3) for _ in range(2)]
    escalations = next(m for m in messages if m["type"] == "escalations")
    assert escalations["count"] == 0 and escalations["new"] is False
    await socket.disconnect()


async def test_it_shows_an_invigilator_going_online_and_a_supervisor_dropping_in(live_world):
    socket, _first = await supervisor_socket(live_world)
    invigilator = room_socket(live_world.room_a.pk, await sync_to_async(staff_cookie)(live_world.invigilator))
    assert (await invigilator.connect())[0]
    row = await socket.receive_json_from(timeout=3)
    assert row["room_id"] == live_world.room_a.pk and "presence-online" in row["html"]

    visitor = room_socket(live_world.room_a.pk, await sync_to_async(staff_cookie)(live_world.supervisor))
    assert (await visitor.connect())[0]
    told = await invigilator.receive_json_from(timeout=3)
    assert told == {"type": "supervision.presence", "room_id": live_world.room_a.pk,
                    "user_id": live_world.supervisor.pk, "role": "supervisor", "online": True}
    await visitor.disconnect()
    assert (await invigilator.receive_json_from(timeout=3))["online"] is False
    await invigilator.disconnect()
    await socket.disconnect()
