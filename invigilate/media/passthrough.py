"""Encoded-packet passthrough over aiortc: the one module that reaches into its receiver/sender.

aiortc decodes every received frame and re-encodes every sent one. The media worker needs
neither: recording copies packets into WebM, focus viewers get the candidate's own encoded
frames, and thumbnails need only a keyframe now and then. This module:

- taps a receiver's encoded frames (``receiver_tap``): each reassembled frame goes to an
  ``EncodedTrackHub``, and none to aiortc's decoder thread (a thumbnail takes the next
  keyframe as it is, ``take_next_keyframe``, and decodes it in one worker thread with the
  JPEG: waking a decoder thread per track cost the event loop more than the decoding);
- forwards encoded frames to another peer connection (``ForwardingTrack``): its ``recv``
  returns ``av.Packet``, which aiortc's sender packetises without encoding;
- carries keyframe requests both ways: a viewer's PLI becomes a PLI to the candidate.

It relies on two aiortc internals, checked at install time so an upgrade that moves them
fails loudly: the receiver's decoder queue (``queue.Queue`` of ``(codec, JitterFrame)``,
read by the decoder thread started in ``receive()``) and the sender's ``_send_keyframe``.

It also replaces aiortc's ``RateCounter`` (the incoming bitrate behind REMB, one per video
receiver) with ``SparseRateCounter``, which gives the same rates (``test_passthrough``). The
original keeps 1000 one-millisecond buckets: after a second without packets (a screen at
1 frame a second, every frame) it walks all 1000 in Python and makes 1000 new objects, ~1 ms
a frame, a tenth of the worker's loop at 50 candidates (py-spy).
"""

import asyncio
import functools
import logging
import queue
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver, RTCRtpSender
from aiortc.mediastreams import MediaStreamError

logger = logging.getLogger(__name__)

KEYFRAME_REQUEST_MIN_INTERVAL = 0.25  # seconds; PLIs closer than this add nothing
FORWARD_QUEUE_FRAMES = 30


def vp8_is_keyframe(data: bytes) -> bool:
    """RFC 6386 9.1: bit 0 of the frame tag is 0 for a keyframe."""
    return len(data) > 0 and (data[0] & 0x01) == 0


def vp8_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 keyframe header, or None for other frames."""
    if len(data) < 10 or not vp8_is_keyframe(data) or data[3:6] != b"\x9d\x01\x2a":
        return None
    return int.from_bytes(data[6:8], "little") & 0x3FFF, int.from_bytes(data[8:10], "little") & 0x3FFF


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    data: bytes
    timestamp: int  # RTP clock units, starting near 0 for the track
    clock_rate: int
    kind: str  # "audio" or "video"
    keyframe: bool
    received_at: float  # time.monotonic()

    @property
    def time_base(self) -> Fraction:
        return Fraction(1, self.clock_rate)


class EncodedTrackHub:
    """Fan-out of one received track's encoded frames, and the gate to its decoder."""

    def __init__(self, *, kind: str, name: str = ""):
        self.kind = kind
        self.name = name
        self.subscribers: list[Callable[[EncodedFrame], None]] = []
        self.frames = 0
        self.keyframes = 0
        self.last_frame_at: float | None = None
        self.last_keyframe_at: float | None = None
        self.codec_name: str | None = None
        self.dimensions: tuple[int, int] | None = None
        self._on_next_keyframe: Callable[[EncodedFrame], None] | None = None
        self._keyframe_requester: Callable[[], None] | None = None
        self._last_keyframe_request = 0.0
        self._timestamp_origin: int | None = None
        self._last_timestamp = 0

    # --- the receiving side ----------------------------------------------------------
    def publish(self, codec, frame) -> None:
        """Called (on the event loop) for each reassembled frame."""
        now = time.monotonic()
        data = bytes(frame.data)
        self.codec_name = codec.name
        keyframe = self.kind == "video" and codec.name == "VP8" and vp8_is_keyframe(data)
        if self.kind == "audio":
            keyframe = True  # every Opus packet stands on its own
        if keyframe and self.kind == "video":
            self.keyframes += 1
            self.last_keyframe_at = now
            self.dimensions = vp8_dimensions(data) or self.dimensions
        self.frames += 1
        self.last_frame_at = now
        encoded = EncodedFrame(data, frame.timestamp, codec.clockRate, self.kind, keyframe, now)
        subscribers = list(self.subscribers)
        if keyframe and self.kind == "video" and self._on_next_keyframe is not None:
            subscribers.append(self._on_next_keyframe)
            self._on_next_keyframe = None
        for subscriber in subscribers:
            try:
                subscriber(encoded)
            except Exception:  # one broken consumer must not starve the others
                logger.exception("subscriber of %s failed", self.name)

    def take_next_keyframe(self, callback: Callable[[EncodedFrame], None]) -> None:
        """Hand the next keyframe (only that one) to ``callback``, and ask the sender for one.
        Replaces a callback still waiting: one keyframe serves whoever asked last."""
        self._on_next_keyframe = callback
        self.request_keyframe()

    # --- keyframes -------------------------------------------------------------------
    def set_keyframe_requester(self, requester: Callable[[], None]) -> None:
        self._keyframe_requester = requester

    def request_keyframe(self) -> None:
        now = time.monotonic()
        if self._keyframe_requester is None or now - self._last_keyframe_request < KEYFRAME_REQUEST_MIN_INTERVAL:
            return
        self._last_keyframe_request = now
        self._keyframe_requester()

    # --- subscribers -----------------------------------------------------------------
    def subscribe(self, subscriber: Callable[[EncodedFrame], None]) -> Callable[[], None]:
        self.subscribers.append(subscriber)
        if self.kind == "video":
            self.request_keyframe()  # a new consumer can start only at a keyframe

        def unsubscribe():
            if subscriber in self.subscribers:
                self.subscribers.remove(subscriber)

        return unsubscribe


class _DecoderGate(queue.Queue):
    """Stands in for RTCRtpReceiver's decoder queue: every frame goes to the hub first."""

    def __init__(self, hub: EncodedTrackHub):
        super().__init__()
        self.hub = hub

    def put(self, item, block=True, timeout=None):
        if item is None:  # the receiver stopping its decoder thread
            return super().put(item, block, timeout)
        codec, frame = item
        self.hub.publish(codec, frame)


_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"


def receiver_tap(receiver: RTCRtpReceiver, hub: EncodedTrackHub) -> None:
    """Route ``receiver``'s encoded frames through ``hub``. Call from the "track" event,
    before the connection starts receiving (aiortc hands the queue to its decoder thread in
    ``receive()``)."""
    if not isinstance(getattr(receiver, _DECODER_QUEUE, None), queue.Queue):
        raise RuntimeError("this aiortc has no decoder queue where passthrough expects it")
    if getattr(receiver, _DECODER_THREAD, None) is not None:
        raise RuntimeError("receiver_tap must run before the receiver starts")
    setattr(receiver, _DECODER_QUEUE, _DecoderGate(hub))
    hub.set_keyframe_requester(functools.partial(receiver_keyframe_request, receiver))


def receiver_keyframe_request(receiver: RTCRtpReceiver) -> None:
    """Ask the sender of what ``receiver`` receives for a keyframe (a PLI), once it has sent."""
    sources = receiver.getSynchronizationSources()
    if sources:
        asyncio.ensure_future(receiver._send_rtcp_pli(sources[0].source))


class ForwardingTrack(MediaStreamTrack):
    """A track that re-sends a hub's encoded frames as they are (no decode, no encode).

    Starts at a keyframe; if the viewer falls behind (its queue fills) it drops to the next
    keyframe instead of sending a stream the decoder cannot use.
    """

    def __init__(self, hub: EncodedTrackHub):
        super().__init__()
        self.kind = hub.kind
        self.hub = hub
        self.queue: asyncio.Queue[EncodedFrame] = asyncio.Queue(maxsize=FORWARD_QUEUE_FRAMES)
        self.waiting_for_keyframe = hub.kind == "video"
        self.frames_forwarded = 0
        self.frames_dropped = 0
        self._origin: int | None = None
        self._unsubscribe = hub.subscribe(self._push)

    def _push(self, frame: EncodedFrame) -> None:
        if self.readyState != "live":
            return
        if self.waiting_for_keyframe:
            if not frame.keyframe:
                self.frames_dropped += 1
                self.hub.request_keyframe()
                return
            self.waiting_for_keyframe = False
        if self.queue.full():
            self.frames_dropped += self.queue.qsize() + 1
            while not self.queue.empty():
                self.queue.get_nowait()
            if self.kind == "video":
                self.waiting_for_keyframe = True
                self.hub.request_keyframe()
                return
        self.queue.put_nowait(frame)

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self.queue.get()
        if self._origin is None:
            self._origin = frame.timestamp
        packet = av.Packet(frame.data)
        packet.pts = (frame.timestamp - self._origin) & 0xFFFFFFFF
        packet.time_base = frame.time_base
        self.frames_forwarded += 1
        return packet

    def stop(self) -> None:
        self._unsubscribe()
        super().stop()


def sender_forward_keyframe_requests(sender: RTCRtpSender, track: ForwardingTrack) -> None:
    """A viewer's PLI/FIR asks the candidate for a keyframe (we cannot make one ourselves)."""
    if not callable(getattr(sender, "_send_keyframe", None)):
        raise RuntimeError("this aiortc has no sender keyframe hook where passthrough expects it")
    sender._send_keyframe = track.hub.request_keyframe


class SparseRateCounter:
    """aiortc's ``rate.RateCounter`` (same ``add``, ``rate``, ``reset`` and results), keeping
    only the samples received within the window instead of a bucket per millisecond."""

    def __init__(self, window_size: int, scale: int = 8000) -> None:
        self._window_size = window_size
        self._scale = scale
        self.reset()

    def reset(self) -> None:
        self._samples: deque[tuple[int, int]] = deque()
        self._origin_ms: int | None = None
        self._count = 0
        self._value = 0

    def add(self, value: int, now_ms: int) -> None:
        if self._origin_ms is None:
            self._origin_ms = now_ms
        else:
            self._erase_old(now_ms)
        self._samples.append((now_ms, value))
        self._count += 1
        self._value += value

    def rate(self, now_ms: int) -> int | None:
        if self._origin_ms is not None:
            self._erase_old(now_ms)
            active_window_size = now_ms - self._origin_ms + 1
            if self._count > 0 and active_window_size > 1:
                return round(self._scale * self._value / active_window_size)
        return None

    def _erase_old(self, now_ms: int) -> None:
        new_origin_ms = now_ms - self._window_size + 1
        if self._origin_ms >= new_origin_ms:
            return
        samples = self._samples
        while samples and samples[0][0] < new_origin_ms:
            _, value = samples.popleft()
            self._count -= 1
            self._value -= value
        self._origin_ms = new_origin_ms


def aiortc_rate_counter_replace() -> None:
    """Make new aiortc receivers count their incoming bitrate with ``SparseRateCounter``."""
    import aiortc.rate

    if not hasattr(aiortc.rate, "RateCounter") or not hasattr(aiortc.rate, "RemoteBitrateEstimator"):
        raise RuntimeError("this aiortc has no rate.RateCounter where passthrough expects it")
    aiortc.rate.RateCounter = SparseRateCounter
