"""A candidate's aiortc peer against a real media worker: signalling, thumbnails, focus view,
recording and gaps. The worker runs in-process (embedded) or as ``manage.py media_worker``
with the Redis channel layer, whichever the settings say."""

import asyncio
import hashlib
import time

import av
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from invigilate.asgi import application
from invigilate.audit.models import AuditEvent
from invigilate.media.models import MediaPeer, RecordingGap, RecordingSegment
from invigilate.media.worker import embedded_worker_stop
from invigilate.realtime.groups import room_group
from tests.media.peers import answer, candidate_peer, staff_cookie, viewer_peer, wait_connected
from tests.realtime.test_candidate_socket import signed_in_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def socket(path: str, cookie: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=[
        (b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie.encode()),
    ])


async def receive_type(communicator, wanted: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = await communicator.receive_json_from(timeout=max(0.1, deadline - time.monotonic()))
        if message["type"] == wanted:
            return message


async def wait_for(predicate, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while not await sync_to_async(predicate)():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.1)


async def test_it_carries_a_candidate_to_thumbnails_focus_view_recording_and_gap(live_world, media_worker, media_root):
    world = live_world
    # The test pattern is a flat colour: to the detectors, a covered camera.
    world.exam.rules = {"camera_blocked_seconds": 1}
    await sync_to_async(world.exam.save)()
    layer = get_channel_layer()
    wall = await layer.new_channel()
    await layer.group_add(room_group(world.room_a.pk), wall)

    candidate = socket("/ws/candidate/", await sync_to_async(signed_in_cookie)(world))
    assert (await candidate.connect())[0]
    pc, offer = await candidate_peer()
    try:
        started = time.monotonic()
        await candidate.send_json_to(offer)
        await answer(pc, await receive_type(candidate, "media.answer"))
        await wait_connected(pc)

        # A camera thumbnail reaches the room's dashboards, served only to those who may watch.
        deadline = time.monotonic() + 10
        while True:
            event = await asyncio.wait_for(layer.receive(wall), max(0.1, deadline - time.monotonic()))
            if event["type"] == "media.thumbnails":
                break
        assert set(event) == {"type", "thumbnails"}
        [event] = event["thumbnails"]
        assert set(event) == {"registration_id", "url", "taken_at"}
        assert event["registration_id"] == world.candidate.pk
        assert time.monotonic() - started < 5
        invigilator = Client()
        await sync_to_async(invigilator.force_login)(world.invigilator)
        response = await sync_to_async(invigilator.get)(event["url"])
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
        other = Client()
        await sync_to_async(other.force_login)(world.other_invigilator)
        assert (await sync_to_async(other.get)(event["url"])).status_code == 403

        peer = await sync_to_async(MediaPeer.objects.get)(registration=world.candidate)
        assert peer.status == MediaPeer.Status.LIVE

        # Focus view: the worker forwards the candidate's packets; the viewer decodes them.
        viewer_socket = socket(f"/ws/media/focus/{world.candidate.pk}/", await sync_to_async(staff_cookie)(world.invigilator))
        assert (await viewer_socket.connect())[0]
        viewer, viewer_offer = await viewer_peer()
        tracks = {}
        viewer.on("track", lambda track: tracks.setdefault(len(tracks), track))
        opened = time.monotonic()
        await viewer_socket.send_json_to(viewer_offer)
        reply = await receive_type(viewer_socket, "media.viewer_answer")
        assert sorted(reply["tracks"].values()) == ["camera", "microphone", "screen"]
        await answer(viewer, reply)
        camera_mid = next(mid for mid, name in reply["tracks"].items() if name == "camera")
        camera = next(t for t in viewer.getTransceivers() if t.mid == camera_mid).receiver.track
        first = await asyncio.wait_for(camera.recv(), 10)
        assert (first.width, first.height) == (320, 240)
        assert time.monotonic() - opened < 3
        later = [await asyncio.wait_for(camera.recv(), 5) for _ in range(5)]
        assert later[-1].pts > first.pts
        await viewer_socket.disconnect()
        await viewer.close()

        # The detectors (in their own process) flag it, with the frame kept as evidence.
        from invigilate.proctoring.models import Signal

        detected = Signal.objects.filter(registration=world.candidate, kind="camera_blocked", source="detector")
        await wait_for(lambda: detected.exists(), 20)
        flag = await sync_to_async(detected.get)()
        assert flag.alert_id and (media_root / flag.data["snapshot"]).exists()
    finally:
        await pc.close()
    sent_for = time.monotonic() - started

    # The candidate dropped: the connection ends, a gap opens, the segment is closed and hashed.
    await wait_for(lambda: RecordingGap.objects.filter(registration=world.candidate, ended_at__isnull=True).exists(), 15)
    await wait_for(lambda: RecordingSegment.objects.filter(registration=world.candidate, track="camera").exists(), 10)
    segment = await sync_to_async(RecordingSegment.objects.get)(registration=world.candidate, track="camera")
    path = media_root / segment.path
    with av.open(str(path)) as container:
        kinds = sorted(stream.type for stream in container.streams)
        duration = container.duration / 1_000_000
        frames = sum(1 for _ in container.decode(video=0))
    assert kinds == ["audio", "video"]
    assert abs(duration - segment.duration_seconds) < 1.0
    assert frames >= 10 * (segment.duration_seconds - 1)  # 10 fps sent, every frame kept
    assert hashlib.sha256(path.read_bytes()).hexdigest() == segment.sha256
    assert segment.duration_seconds == pytest.approx(sent_for, abs=2.5)
    assert await sync_to_async(
        AuditEvent.objects.filter(event_type="media.segment_recorded", data__sha256=segment.sha256).exists
    )()
    await candidate.disconnect()
    await embedded_worker_stop()
