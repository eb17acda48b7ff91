"""WebRTC signalling on the candidate's websocket: the page's offer goes to a media worker.

The answer comes back as a ``media.answer`` event on the consumer's own channel (the worker
sends it there), so this works the same with the worker in-process or on another machine.
"""

import logging

from channels.db import database_sync_to_async
from django.conf import settings

from invigilate.realtime.handlers import candidate_handler, phone_handler

from . import services
from .models import MediaPeer

logger = logging.getLogger(__name__)

MAX_SDP = 64 * 1024
TRACK_NAMES = {"camera", "microphone", "screen"}


def _offer_fields(message: dict, *, device: str) -> tuple[str, str, dict[str, str]]:
    sdp = message.get("sdp")
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP:
        raise ValueError("sdp must be an SDP offer")
    # The socket decides which device speaks: a PC page cannot pose as the phone, nor the reverse.
    source = message.get("source", device)
    if source != device:
        raise ValueError(f"this socket sends the {device}'s media only")
    tracks = message.get("tracks") or {}
    if not isinstance(tracks, dict) or any(
        not isinstance(mid, str) or len(mid) > 16 or name not in TRACK_NAMES for mid, name in tracks.items()
    ):
        raise ValueError("tracks must map mids to camera, microphone or screen")
    return sdp, source, tracks


@candidate_handler("webrtc.offer")
@phone_handler("webrtc.offer")
async def webrtc_offer(consumer, message):
    """``{"type": "webrtc.offer", "sdp": "...", "source": "pc", "tracks": {"0": "camera", ...}}``

    On the PC's socket the source is "pc", on the paired phone's socket "phone".
    """
    sdp, source, tracks = _offer_fields(message, device=getattr(consumer, "device", MediaPeer.Source.PC))
    if settings.MEDIA_EMBEDDED_WORKER:
        from .worker import embedded_worker_ensure

        await embedded_worker_ensure()
    registration = consumer.registration
    try:
        peer, replaced = await database_sync_to_async(services.media_peer_assign)(registration=registration, source=source)
    except services.NoMediaWorker:
        logger.error("no media worker for candidate %s", registration.pk)
        return {"type": "media.reconnect", "source": source, "reason": "no_worker"}
    layer = consumer.channel_layer
    for old in replaced:
        await layer.send(old.worker.channel_name, {"type": "media.peer_close", "peer_id": old.pk, "reason": "replaced"})
    await layer.send(peer.worker.channel_name, {
        "type": "media.offer", "peer_id": peer.pk, "registration_id": registration.pk,
        "room_id": registration.room_id, "exam_id": registration.exam_id, "source": source,
        "sdp": sdp, "sdp_type": "offer", "tracks": tracks, "reply_channel": consumer.channel_name,
    })
    return None
