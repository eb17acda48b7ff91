"""The paired phone as a media peer: pinned to its PC's worker so one focus view shows both,
told to reconnect as the phone (not the PC) when its worker dies."""

from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from invigilate.media import services, tasks
from invigilate.media.models import MediaPeer, MediaWorker
from invigilate.realtime.groups import candidate_group, phone_group
from tests.media.peers import answer, candidate_peer, staff_cookie, viewer_peer, wait_connected
from tests.media.test_media_worker import receive_type, socket
from tests.realtime.test_candidate_socket import signed_in_cookie


def make_worker(name: str, load: float) -> MediaWorker:
    now = timezone.now()
    return MediaWorker.objects.create(name=name, channel_name=f"chan-{name}", started_at=now, heartbeat_at=now,
                                      load=load, accepting=load < 0.8)


@pytest.mark.django_db
def test_the_phone_joins_the_worker_holding_its_pc_even_when_another_is_calmer(world):
    busy = make_worker("busy", 0.9)
    pc, _ = services.media_peer_assign(registration=world.candidate, source="pc")
    assert pc.worker == busy
    make_worker("calm", 0.1)
    phone, _ = services.media_peer_assign(registration=world.candidate, source="phone")
    assert phone.worker == busy
    # Another candidate goes to the calm worker as before.
    other, _ = services.media_peer_assign(registration=world.other_candidate, source="pc")
    assert other.worker.name == "calm"
    # A PC reconnecting follows its phone the same way.
    again, replaced = services.media_peer_assign(registration=world.candidate, source="pc")
    assert again.worker == busy and [p.pk for p in replaced] == [pc.pk]


@pytest.mark.django_db
def test_a_phone_whose_pcs_worker_is_dead_goes_to_a_live_one(world):
    old = make_worker("old", 0.1)
    services.media_peer_assign(registration=world.candidate, source="pc")
    MediaWorker.objects.filter(pk=old.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    fresh = make_worker("fresh", 0.5)
    phone, _ = services.media_peer_assign(registration=world.candidate, source="phone")
    assert phone.worker == fresh


@pytest.mark.django_db(transaction=True)
def test_a_dead_worker_tells_each_device_to_reconnect_as_itself(live_world):
    world = live_world
    make_worker("doomed", 0.1)
    for source in ("pc", "phone"):
        peer, _ = services.media_peer_assign(registration=world.candidate, source=source)
        services.media_peer_mark_live(peer_id=peer.pk)
    layer = get_channel_layer()
    pc_page, phone_page = async_to_sync(layer.new_channel)(), async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(candidate_group(world.candidate.pk), pc_page)
    async_to_sync(layer.group_add)(phone_group(world.candidate.pk), phone_page)
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert tasks.media_worker_sweep() == 2
    assert async_to_sync(layer.receive)(pc_page) == {"type": "media.reconnect", "source": "pc", "reason": "worker_lost"}
    assert async_to_sync(layer.receive)(phone_page) == {
        "type": "media.reconnect", "source": "phone", "reason": "worker_lost"}


async def phone_peer():
    """A phone sending only its camera, as the phone page does."""
    from aiortc import RTCConfiguration, RTCPeerConnection

    from tests.media.peers import PatternTrack

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    transceiver = pc.addTransceiver(PatternTrack(240, 320, 5), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, {"type": "webrtc.offer", "source": "phone", "sdp": pc.localDescription.sdp,
                "tracks": {transceiver.mid: "camera"}}


@pytest.mark.django_db(transaction=True)
async def test_the_focus_view_shows_the_phone_beside_the_pc(live_world, media_worker):
    from tests.evidence.test_placement import paired_phone_cookie

    world = live_world
    pc_socket = socket("/ws/candidate/", await sync_to_async(signed_in_cookie)(world))
    phone_socket = socket("/ws/phone/", await sync_to_async(paired_phone_cookie)(world.candidate))
    assert (await pc_socket.connect())[0] and (await phone_socket.connect())[0]
    pc, pc_offer = await candidate_peer()
    phone, phone_offer = await phone_peer()
    viewer = None
    try:
        await pc_socket.send_json_to(pc_offer)
        await phone_socket.send_json_to(phone_offer)
        await answer(pc, await receive_type(pc_socket, "media.answer"))
        phone_answer = await receive_type(phone_socket, "media.answer")
        assert phone_answer["source"] == "phone"
        await answer(phone, phone_answer)
        await wait_connected(pc)
        await wait_connected(phone)
        peers = await sync_to_async(lambda: list(MediaPeer.objects.filter(registration=world.candidate)))()
        assert sorted(p.source for p in peers) == ["pc", "phone"] and len({p.worker_id for p in peers}) == 1

        viewer_socket = socket(f"/ws/media/focus/{world.candidate.pk}/", await sync_to_async(staff_cookie)(world.invigilator))
        assert (await viewer_socket.connect())[0]
        viewer, viewer_offer = await viewer_peer()
        await viewer_socket.send_json_to(viewer_offer)
        reply = await receive_type(viewer_socket, "media.viewer_answer")
        assert sorted(reply["tracks"].values()) == ["camera", "microphone", "phone", "screen"]
        await answer(viewer, reply)
        phone_mid = next(mid for mid, name in reply["tracks"].items() if name == "phone")
        track = next(t for t in viewer.getTransceivers() if t.mid == phone_mid).receiver.track
        import asyncio

        frame = await asyncio.wait_for(track.recv(), 10)
        assert (frame.width, frame.height) == (240, 320)  # the phone's picture, not the PC camera's
        await viewer_socket.disconnect()
    finally:
        for peer in (pc, phone, viewer):
            if peer is not None:
                await peer.close()
        await pc_socket.disconnect()
        await phone_socket.disconnect()
