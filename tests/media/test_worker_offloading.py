"""What the worker keeps off its event loop: a room's wall thumbnails go out as one event per batch
interval; rotated recording segments are finished in a thread of their own."""

import asyncio

import pytest
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers, get_channel_layer

from invigilate.media.worker import WallThumbnails
from invigilate.realtime.groups import room_group


class Runtime:
    def __init__(self):
        # A layer of its own: the process-wide one may hold a receive lock of an earlier
        # test's event loop (channels_redis binds them to the loop that made them).
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.tasks = []

    def spawn(self, coroutine):
        self.tasks.append(asyncio.ensure_future(coroutine))


def thumbnail(registration_id: int, taken_ms: int) -> dict:
    return {"registration_id": registration_id, "url": f"/media/thumbnails/{registration_id}/camera/{taken_ms}.jpg",
            "taken_at": f"2026-01-01T00:00:{taken_ms // 1000:02d}+00:00"}


async def test_a_rooms_thumbnails_go_out_together_and_a_newer_picture_replaces_an_unsent_one():
    runtime = Runtime()
    layer = runtime.layer
    walls = {room: await layer.new_channel() for room in (9001, 9002)}
    for room, channel in walls.items():
        await layer.group_add(room_group(room), channel)
    wall = WallThumbnails(runtime, interval=0.2)

    wall.add(9001, thumbnail(1, 1000))
    wall.add(9001, thumbnail(2, 1000))
    wall.add(9002, thumbnail(3, 1000))
    wall.add(9001, thumbnail(1, 2000))  # candidate 1's newer picture, before the batch left
    started = asyncio.get_running_loop().time()

    first = await asyncio.wait_for(layer.receive(walls[9001]), 3)
    waited = asyncio.get_running_loop().time() - started
    assert first == {"type": "media.thumbnails", "thumbnails": [thumbnail(1, 2000), thumbnail(2, 1000)]}
    assert 0.15 <= waited < 1.5
    assert await asyncio.wait_for(layer.receive(walls[9002]), 3) == {
        "type": "media.thumbnails", "thumbnails": [thumbnail(3, 1000)]}

    # The next picture starts a new batch; nothing was sent twice.
    wall.add(9001, thumbnail(2, 3000))
    assert (await asyncio.wait_for(layer.receive(walls[9001]), 3))["thumbnails"] == [thumbnail(2, 3000)]
    assert wall.pending == {}
    for room, channel in walls.items():
        await layer.group_discard(room_group(room), channel)


async def test_the_worker_finishes_rotated_segments_in_its_closer_thread_and_reports_on_the_loop():
    import threading

    from invigilate.media.worker import MediaWorkerRuntime

    runtime = MediaWorkerRuntime(name="closer-test")
    where, reported = [], asyncio.Event()

    def finish():
        where.append(threading.current_thread().name)
        return {"sequence": 1}

    def then(**fields):
        where.append((threading.current_thread().name, fields))
        reported.set()

    runtime.segment_finish_defer(finish, then)
    await asyncio.wait_for(reported.wait(), 3)
    assert where[0].startswith("segment-close")
    assert where[1] == (threading.main_thread().name, {"sequence": 1})
    runtime.segment_closer.shutdown()


@pytest.mark.django_db(transaction=True)
async def test_the_rooms_thumbnail_socket_forwards_the_batches_and_nothing_else_of_the_room(live_world):
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from invigilate.asgi import application
    from tests.proctoring.sockets import staff_cookie

    cookie = await database_sync_to_async(staff_cookie)(live_world.invigilator)
    socket = WebsocketCommunicator(application, f"/ws/media/room/{live_world.room_a.pk}/", headers=[
        (b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())])
    connected, _ = await socket.connect(timeout=5)
    assert connected
    layer = get_channel_layer()
    await layer.group_send(room_group(live_world.room_a.pk), {"type": "tile.refresh", "registration_id": 1})
    batch = {"type": "media.thumbnails", "thumbnails": [thumbnail(live_world.candidate.pk, 1000)]}
    await layer.group_send(room_group(live_world.room_a.pk), batch)
    assert await socket.receive_json_from(timeout=3) == batch
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_a_stopping_worker_waits_for_the_last_segments_records_and_cancels_only_after_its_timeout(settings):
    from invigilate.media.worker import MediaWorkerRuntime

    settings.MEDIA_WORKER_STOP_DRAIN_SECONDS = 5
    runtime = MediaWorkerRuntime(name="drain-test")
    recorded, stuck = [], asyncio.Event()

    async def record(**fields):  # the segment's database and audit record, after its close
        await asyncio.sleep(0.3)
        recorded.append(fields)

    runtime.segment_finish_defer(lambda: {"sequence": 7}, lambda **fields: runtime.spawn(record(**fields)))
    await runtime.stop()
    assert recorded == [{"sequence": 7}]
    assert runtime.stopped.is_set()

    # Something that never finishes does not hold the stop beyond the timeout: it is cancelled.
    settings.MEDIA_WORKER_STOP_DRAIN_SECONDS = 0.3
    runtime = MediaWorkerRuntime(name="drain-test-2")
    runtime.spawn(stuck.wait())
    task = next(iter(runtime._background))
    started = asyncio.get_running_loop().time()
    await runtime.stop()
    assert asyncio.get_running_loop().time() - started < 3
    await asyncio.sleep(0)
    assert task.cancelled()
