import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from invigilate.exams.services import registration_stage_set, room_invigilator_unassign
from invigilate.proctoring.models import Alert
from invigilate.proctoring.services import alert_acknowledge, signal_record
from invigilate.realtime.groups import room_group

from .sockets import receive_until, room_socket, staff_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def connected_socket(user, room):
    cookie = await sync_to_async(staff_cookie)(user)
    socket = room_socket(room.pk, cookie)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    return socket


async def test_it_pushes_a_rendered_alert_and_tile_to_the_rooms_invigilator(live_world):
    socket = await connected_socket(live_world.invigilator, live_world.room_a)
    await sync_to_async(signal_record)(registration=live_world.candidate, kind="page_hidden", source="browser")
    alert = await socket.receive_json_from(timeout=3)
    assert alert["type"] == "alert" and alert["sequence"] == 1 and alert["new"] and alert["severity"] == "high"
    assert 'id="alert-' in alert["html"] and "hidden" in alert["html"]
    tile = await socket.receive_json_from(timeout=3)
    assert tile["type"] == "tile" and 'data-open-alerts="1"' in tile["html"]
    signal = await socket.receive_json_from(timeout=3)
    assert signal["type"] == "signal.recorded" and signal["kind"] == "page_hidden"
    await socket.disconnect()


async def test_it_sends_nothing_about_another_room(live_world):
    socket = await connected_socket(live_world.invigilator, live_world.room_a)
    await sync_to_async(signal_record)(registration=live_world.other_candidate, kind="paste", source="browser")
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_it_renders_in_the_viewers_language(live_world):
    cookie = await sync_to_async(staff_cookie)(live_world.invigilator)
    socket = room_socket(live_world.room_a.pk, cookie + "; django_language=zh-hans")
    assert (await socket.connect(timeout=5))[0]
    await sync_to_async(signal_record)(registration=live_world.candidate, kind="paste", source="browser")
    alert = await socket.receive_json_from(timeout=3)
    assert "座位" in alert["html"]
    await socket.disconnect()


async def test_it_catches_up_from_a_cursor(live_world):
    before = timezone.now()
    await sync_to_async(signal_record)(registration=live_world.candidate, kind="copy", source="browser")
    await sync_to_async(signal_record)(registration=live_world.candidate, kind="paste", source="browser")
    socket = await connected_socket(live_world.invigilator, live_world.room_a)
    await socket.send_json_to({"type": "sync", "since": before.isoformat()})
    messages = await receive_until(socket, "synced")
    assert [m["sequence"] for m in messages if m["type"] == "alert"] == [1, 2]
    tiles = [m for m in messages if m["type"] == "tile"]
    assert len(tiles) == 1 and 'data-open-alerts="2"' in tiles[0]["html"]  # the badge catches up too
    await socket.send_json_to({"type": "sync", "since": "yesterday"})
    assert (await socket.receive_json_from())["error"] == "bad_message"
    await socket.send_json_to({"type": "hello"})
    assert (await socket.receive_json_from())["error"] == "unknown_type"
    await socket.disconnect()


async def test_it_asks_a_dashboard_too_far_behind_to_reload(live_world, monkeypatch):
    monkeypatch.setattr("invigilate.proctoring.selectors.CATCH_UP_LIMIT", 2)
    before = timezone.now()
    for kind in ["copy", "paste", "cut"]:
        await sync_to_async(signal_record)(registration=live_world.candidate, kind=kind, source="browser")
    socket = await connected_socket(live_world.invigilator, live_world.room_a)
    await socket.send_json_to({"type": "sync", "since": before.isoformat()})
    assert (await socket.receive_json_from())["type"] == "reload"
    await socket.disconnect()


async def test_an_overfilled_slow_dashboard_recovers_every_alert_by_catching_up(live_world, settings):
    """The channel layer drops what a full consumer cannot take; catching up loses nothing."""
    layer = get_channel_layer()
    layer.capacity = 2  # a tiny inbox, so the burst below overflows it
    try:
        before = timezone.now()
        socket = await connected_socket(live_world.invigilator, live_world.room_a)
        kinds = [f"burst_{n}" for n in range(12)]

        def burst():
            from django.db import transaction

            with transaction.atomic():  # every push leaves at once, on commit
                for kind in kinds:
                    signal_record(registration=live_world.candidate, kind=kind, source="detector")

        await sync_to_async(burst)()
        pushed = set()
        while not await socket.receive_nothing(timeout=0.5):
            message = await socket.receive_json_from()
            if message["type"] == "alert":
                pushed.add(message["sequence"])
        assert len(pushed) < len(kinds), "the burst should have overflowed the inbox"
        await socket.send_json_to({"type": "sync", "since": before.isoformat()})
        caught_up = {m["sequence"] for m in await receive_until(socket, "synced") if m["type"] == "alert"}
        assert pushed | caught_up == set(range(1, 13))
        await socket.disconnect()
    finally:
        layer.capacity = 100


async def test_it_pushes_an_acknowledgement_to_every_dashboard_of_the_room(live_world):
    from invigilate.exams.services import exam_staff_assign

    await sync_to_async(exam_staff_assign)(exam=live_world.exam, user=live_world.supervisor, role="supervisor")
    first = await connected_socket(live_world.invigilator, live_world.room_a)
    supervisor = await connected_socket(live_world.supervisor, live_world.room_a)
    signal = await sync_to_async(signal_record)(registration=live_world.candidate, kind="paste", source="browser")
    await receive_until(first, "signal.recorded")
    await receive_until(supervisor, "signal.recorded")
    await sync_to_async(alert_acknowledge)(alert=signal.alert, actor=live_world.invigilator)
    for socket in (first, supervisor):
        # Other apps' pushes (the supervision app's presence) may come in between.
        update = (await receive_until(socket, "alert"))[-1]
        assert update["type"] == "alert" and update["status"] == "acknowledged" and not update["new"]
        assert "Acknowledged by" in update["html"]
        await socket.disconnect()


async def test_it_refreshes_a_tile_when_the_stage_changes(live_world):
    socket = await connected_socket(live_world.invigilator, live_world.room_a)
    await sync_to_async(registration_stage_set)(registration=live_world.candidate, stage="device_check")
    tile = await socket.receive_json_from(timeout=3)
    assert tile["type"] == "tile" and "Device check" in tile["html"]
    # Other apps may ask for a refresh of any tile; a tile of another room is not sent.
    await get_channel_layer().group_send(
        room_group(live_world.room_a.pk), {"type": "tile.refresh", "registration_id": live_world.other_candidate.pk}
    )
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_it_forwards_thumbnails(live_world):
    socket = await connected_socket(live_world.invigilator, live_world.room_a)
    event = {"type": "media.thumbnails", "thumbnails": [
        {"registration_id": live_world.candidate.pk, "url": "/media/t/1.jpg", "taken_at": "2026-01-01T00:00:00+00:00"},
    ]}
    await get_channel_layer().group_send(room_group(live_world.room_a.pk), event)
    assert await socket.receive_json_from(timeout=3) == event
    await socket.disconnect()


async def test_it_closes_when_the_invigilator_loses_the_room(live_world):
    socket = await connected_socket(live_world.invigilator, live_world.room_a)
    await sync_to_async(room_invigilator_unassign)(room=live_world.room_a, user=live_world.invigilator)
    assert (await socket.receive_json_from(timeout=3)) == {"type": "session.revoked", "reason": "unassigned"}
    assert (await socket.receive_output(timeout=3))["type"] == "websocket.close"
    await socket.disconnect()


async def test_it_stays_open_when_another_room_is_unassigned(live_world):
    from invigilate.exams.services import room_invigilator_assign

    await sync_to_async(room_invigilator_assign)(room=live_world.room_b, user=live_world.invigilator)
    socket = await connected_socket(live_world.invigilator, live_world.room_a)
    await sync_to_async(room_invigilator_unassign)(room=live_world.room_b, user=live_world.invigilator)
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_it_closes_on_sign_out(live_world):
    from django.test import Client

    def sign_in():
        client = Client()
        client.force_login(live_world.invigilator)
        return client

    client = await sync_to_async(sign_in)()
    socket = room_socket(live_world.room_a.pk, f"sessionid={client.cookies['sessionid'].value}")
    assert (await socket.connect(timeout=5))[0]
    await sync_to_async(client.post)("/staff/logout/")
    assert (await socket.receive_json_from(timeout=3))["type"] == "session.revoked"
    assert (await socket.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4403}
    await socket.disconnect()


async def test_it_still_counts_alerts_in_the_database_after_a_push(live_world):
    socket = await connected_socket(live_world.invigilator, live_world.room_a)
    await sync_to_async(signal_record)(registration=live_world.candidate, kind="paste", source="browser")
    await receive_until(socket, "signal.recorded")
    assert await sync_to_async(Alert.objects.count)() == 1
    await socket.disconnect()
