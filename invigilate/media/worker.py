"""The media worker: aiortc peers for candidates' devices and for focus viewers.

One ``MediaWorkerRuntime`` per process (``manage.py media_worker``), or one inside the web
process in the embedded default. It listens on its own channel-layer channel; the web side
finds it through the database (``MediaWorker.channel_name``), so signalling is the same
whether the worker is in-process or on another machine.

Messages it understands (``type``):
- ``media.offer``: a candidate device's offer -> ``media.answer`` to ``reply_channel``;
- ``media.peer_close``: drop a peer (the device reconnected elsewhere);
- ``media.viewer_offer`` / ``media.viewer_close``: a focus view opens / closes;
- ``media.stats``: frames received per track, event-loop lag, recent heap trims and the
  detectors' timeliness (``DetectorPipeline.timeliness``) ->
  ``media.stats`` to ``reply_channel`` (what ``bench/media`` and an operator read; the
  worker's CPU, its pool's included, is the load of its heartbeat, in the admin).

What it sends a room's dashboards: ``media.thumbnails``, the room's new wall thumbnails of
the last ``MEDIA_THUMBNAIL_BATCH_SECONDS`` in one event (``WallThumbnails``).
"""

import asyncio
import functools
import logging
import os
import random
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psutil
from aiortc import RTCPeerConnection, RTCSessionDescription
from channels.layers import get_channel_layer
from django.conf import settings

from invigilate.realtime.events import event_build
from invigilate.realtime.groups import device_group, room_group

from . import services
from .datagrams import datagram_reads_drain_install
from .db import db
from .ice import ice_servers_for_worker
from .native_memory import heap_trim
from .passthrough import (
    EncodedFrame,
    EncodedTrackHub,
    ForwardingTrack,
    aiortc_rate_counter_replace,
    receiver_tap,
    sender_forward_keyframe_requests,
)
from .recording import SegmentRecorder
from .thumbnails import thumbnail_from_keyframe, thumbnail_interval, thumbnail_url

logger = logging.getLogger(__name__)

VIDEO_TRACKS = ("camera", "screen")
VIEWER_VIDEO_ORDER = ("camera", "screen", "phone")


def sdp_ask_audio_ptime(sdp: str, ptime_ms: int) -> str:
    """Ask the sender for audio packets of ``ptime_ms`` (``a=ptime`` in our answer's audio
    sections, RFC 4566). Opus at 60 ms instead of the browsers' 20 ms is a third of the
    packets, and per-packet work is most of a media worker's cost (bench/media)."""
    if not ptime_ms:
        return sdp
    lines, audio = [], False
    for line in sdp.split("\r\n"):
        if line.startswith("m=") or not line:  # a section ends: its attributes come last
            if audio:
                lines.append(f"a=ptime:{ptime_ms}")
            audio = line.startswith("m=audio")
        if not (audio and line.startswith("a=ptime:")):
            lines.append(line)
    return "\r\n".join(lines)


class CandidatePeer:
    """One device's connection: taps every track, makes thumbnails, records, feeds viewers."""

    def __init__(self, runtime: "MediaWorkerRuntime", message: dict):
        self.runtime = runtime
        self.peer_id: int = message["peer_id"]
        self.registration_id: int = message["registration_id"]
        self.room_id: int = message["room_id"]
        self.exam_id: int = message["exam_id"]
        self.source: str = message.get("source", "pc")
        self.track_names: dict[str, str] = message.get("tracks") or {}
        self.pc = RTCPeerConnection(ice_servers_for_worker())
        self.hubs: dict[str, EncodedTrackHub] = {}
        self.remote_tracks: dict[str, object] = {}
        self.tasks: list[asyncio.Task] = []
        self.recorders: list[SegmentRecorder] = []
        self.viewers: set[ViewerPeer] = set()
        self.closed = False
        self.live = False
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    def _name_for(self, track) -> str:
        transceiver = next((t for t in self.pc.getTransceivers() if t.receiver.track is track), None)
        name = self.track_names.get(str(transceiver.mid)) if transceiver else None
        if name:
            return name
        if track.kind == "audio":
            return "microphone"
        # Without a map from the page: the device's first video is its camera.
        taken = [n for n in self.hubs if n in VIDEO_TRACKS]
        return VIDEO_TRACKS[len(taken)] if len(taken) < len(VIDEO_TRACKS) else f"video{len(taken)}"

    def _on_track(self, track) -> None:
        name = self._name_for(track)
        if self.source == "phone" and name == "camera":
            name = "phone"
        transceiver = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
        hub = EncodedTrackHub(kind=track.kind, name=f"{self.registration_id}/{name}")
        receiver_tap(transceiver.receiver, hub)
        self.hubs[name] = hub
        self.remote_tracks[name] = track
        if track.kind == "video":
            self.tasks.append(asyncio.ensure_future(self._ask_for_keyframes(name, hub, thumbnail_interval(name))))
        detectors = self.runtime.detectors
        if detectors is not None:
            detectors.attach(self, name, hub)

    async def _ask_for_keyframes(self, name: str, hub: EncodedTrackHub, interval: float) -> None:
        # The tap passes no frame to aiortc's decoder, so its track never yields one: no
        # decoded frames pile up, and nothing needs to read them.
        while not self.closed:
            hub.take_next_keyframe(functools.partial(self._on_keyframe, name))
            await asyncio.sleep(interval)

    def _on_keyframe(self, name: str, frame: EncodedFrame) -> None:
        if not self.closed:
            self.runtime.spawn(self._thumbnail(name, frame))

    async def _thumbnail(self, name: str, frame: EncodedFrame) -> None:
        taken_at = time.time()
        detectors = self.runtime.detectors if name == "camera" else None
        try:
            # One worker thread decodes the keyframe, makes the JPEG (and the detectors'
            # picture summary) and stores it: ~1.5 ms, off the event loop, one hand-over.
            jpeg, picture, taken_ms = await asyncio.get_running_loop().run_in_executor(None, functools.partial(
                thumbnail_from_keyframe, frame.data, registration_id=self.registration_id, track=name,
                taken_at=taken_at, summary=detectors is not None,
            ))
            if detectors is not None:
                detectors.video_frame(self, name, jpeg, taken_at, picture)
            if name == "camera":  # the wall's tile shows the camera; screens are kept for the review
                self.runtime.wall.add(self.room_id, {
                    "registration_id": self.registration_id,
                    "url": thumbnail_url(registration_id=self.registration_id, track=name, taken_ms=taken_ms),
                    "taken_at": datetime.fromtimestamp(taken_at, UTC).isoformat(),
                })
        except Exception:
            logger.exception("thumbnail of %s/%s failed", self.registration_id, name)

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected" and not self.live:
            self.live = True
            await db(services.media_peer_mark_live)(peer_id=self.peer_id)
            self._start_recording()
        elif state in ("failed", "closed"):
            await self.close(reason="connection_" + state)

    def _start_recording(self) -> None:
        if not settings.MEDIA_RECORDING or self.source != "pc":
            return
        directory = Path(settings.MEDIA_ROOT) / "recordings" / str(self.registration_id)
        groups = [("camera", "camera", "microphone"), ("screen", "screen", None)]
        segment = settings.MEDIA_RECORDING_SEGMENT_SECONDS
        # A room joins within the same minute: a random first length spreads its rotations.
        first = segment * random.uniform(0.5, 1.0)
        for track, video, audio in groups:
            if video not in self.hubs:
                continue
            self.recorders.append(SegmentRecorder(
                directory=directory, name=f"{track}-{self.peer_id}", video=self.hubs[video],
                audio=self.hubs.get(audio) if audio else None,
                segment_seconds=segment, first_segment_seconds=first,
                on_segment=self._segment_done(track), defer=self.runtime.segment_finish_defer,
            ))

    def _segment_done(self, track: str):
        def done(*, path: str, **fields) -> None:
            relative = os.path.relpath(path, settings.MEDIA_ROOT)
            self.runtime.spawn(db(services.recording_segment_record)(
                registration_id=self.registration_id, peer_id=self.peer_id, track=track, path=relative, **fields
            ))

        return done

    async def answer(self, *, sdp: str, sdp_type: str) -> RTCSessionDescription:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=sdp_type))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        local = self.pc.localDescription
        return RTCSessionDescription(sdp=sdp_ask_audio_ptime(local.sdp, settings.MEDIA_AUDIO_PTIME_MS), type=local.type)

    async def close(self, *, reason: str, record: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        self.runtime.peers.pop(self.peer_id, None)
        for viewer in list(self.viewers):
            await viewer.close()
        for recorder in self.recorders:
            try:
                recorder.stop()
            except Exception:
                logger.exception("closing a recording of %s failed", self.registration_id)
        for task in self.tasks:
            task.cancel()
        if self.runtime.detectors is not None:
            self.runtime.detectors.detach(self)
        await self.pc.close()
        if record:
            await db(services.media_peer_end)(peer_id=self.peer_id, reason=reason)


class ViewerPeer:
    """A focus view: the candidate's own encoded frames forwarded to a member of staff."""

    def __init__(self, runtime: "MediaWorkerRuntime", *, viewer_id: str, registration_id: int, reply_channel: str):
        self.runtime = runtime
        self.viewer_id = viewer_id
        self.registration_id = registration_id
        self.reply_channel = reply_channel
        self.pc = RTCPeerConnection(ice_servers_for_worker())
        self.tracks: list[ForwardingTrack] = []
        self.sources: list[CandidatePeer] = []
        self.closed = False
        self.pc.on("connectionstatechange", self._on_state)

    async def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            await self.close()

    async def answer(self, *, sdp: str, sdp_type: str, sources: list[CandidatePeer]) -> tuple[RTCSessionDescription, dict]:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=sdp_type))
        hubs: dict[str, EncodedTrackHub] = {}
        for peer in sources:
            hubs.update(peer.hubs)
            peer.viewers.add(self)
        self.sources = sources
        names: dict[str, str] = {}
        video = [hubs[name] for name in VIEWER_VIDEO_ORDER if name in hubs]
        audio = [hubs["microphone"]] if "microphone" in hubs else []
        for transceiver in self.pc.getTransceivers():
            queue = video if transceiver.kind == "video" else audio
            if not queue:
                continue
            hub = queue.pop(0)
            track = ForwardingTrack(hub)
            self.tracks.append(track)
            sender = self.pc.addTrack(track)
            sender_forward_keyframe_requests(sender, track)
            names[str(transceiver.mid)] = hub.name.split("/", 1)[1]
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription, names

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.runtime.viewers.pop(self.viewer_id, None)
        for track in self.tracks:
            track.stop()
        for peer in self.sources:
            peer.viewers.discard(self)
            await self.runtime.quality_update(peer)
        await self.pc.close()


class WallThumbnails:
    """Wall thumbnails to the rooms' dashboards, one ``media.thumbnails`` event per room per
    ``interval``: a room of 50 cameras at one picture a second is 5 channel-layer messages a
    second at 0.2 s instead of 50, for the worker and for every dashboard's socket. A
    candidate's newer picture replaces an older one not yet sent; each keeps its own
    ``taken_at``."""

    def __init__(self, runtime: "MediaWorkerRuntime", *, interval: float):
        self.runtime = runtime
        self.interval = interval
        self.pending: dict[int, dict[int, dict]] = {}

    def add(self, room_id: int, thumbnail: dict) -> None:
        batch = self.pending.get(room_id)
        if batch is None:
            batch = self.pending[room_id] = {}
            asyncio.get_running_loop().call_later(self.interval, self._flush, room_id)
        batch[thumbnail["registration_id"]] = thumbnail

    def _flush(self, room_id: int) -> None:
        batch = self.pending.pop(room_id, None)
        if batch:
            self.runtime.spawn(self.runtime.layer.group_send(
                room_group(room_id), event_build("media.thumbnails", thumbnails=list(batch.values()))
            ))


class LoopLagProbe:
    """How late the event loop wakes up: the first sign of a worker running out of core.

    Sleeps ``interval`` again and again and keeps the last ``window`` overshoots (seconds).
    """

    def __init__(self, *, interval: float = 0.05, window: int = 400):
        self.interval = interval
        self.samples: deque[float] = deque(maxlen=window)

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, time.monotonic() - started - self.interval))

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.samples) or [0.0]
        return {"lag_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
                "lag_max_ms": round(ordered[-1] * 1000, 1)}


def cpu_seconds_by_process(processes: list[psutil.Process]) -> dict[int, float]:
    """User + system CPU seconds of each of ``processes`` still running, by pid."""
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:  # gone since it was listed
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


class CpuMeter:
    """CPU seconds used by this process and its detector pool since the last reading: a
    worker's load. The pool's share of the core counts like the worker's own (issue 8 counts
    detector work wherever it runs), so a worker whose pool cannot keep up stops taking
    candidates. ``pool`` gives the pool's process ids (``DetectorPipeline.process_ids``): in
    the embedded default the worker lives in the web process, whose other children are not
    the worker's. A pool process first read now counts from now (its CPU before would come as
    one spike), one that exited since counts for nothing, not for minus its total. The first
    reading only sets the starting point (and returns 0)."""

    def __init__(self, *, pool: Callable[[], list[int]]):
        self.process = psutil.Process()
        self.pool = pool
        self.last: dict[int, float] = {}

    def _pool_processes(self) -> list[psutil.Process]:
        processes = []
        for pid in self.pool():
            try:
                processes.append(psutil.Process(pid))
            except psutil.Error:  # gone since the pool listed it
                continue
        return processes

    def used(self) -> float:
        now = cpu_seconds_by_process([self.process, *self._pool_processes()])
        used = sum(max(0.0, seconds - self.last.get(pid, seconds)) for pid, seconds in now.items())
        self.last = now
        return used


class MediaWorkerRuntime:
    def __init__(self, *, name: str | None = None, detectors=None):
        aiortc_rate_counter_replace()
        datagram_reads_drain_install()
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.peers: dict[int, CandidatePeer] = {}
        self.viewers: dict[str, ViewerPeer] = {}
        self.detectors = detectors
        self.layer = None
        self.channel_name = ""
        self.worker_id: int | None = None
        self._tasks: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()
        self.stopped = asyncio.Event()
        self.lag = LoopLagProbe()
        self.heap_trims: deque = deque(maxlen=60)
        self.wall = WallThumbnails(self, interval=settings.MEDIA_THUMBNAIL_BATCH_SECONDS)
        # Rotated recording segments are closed and hashed here, one at a time.
        self.segment_closer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment-close")

    def spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def segment_finish_defer(self, finish, then) -> None:
        """A recorder's ``defer``: ``finish`` (trailer + SHA-256) in the closer's thread, then
        ``then(**fields)`` back on the loop. Handed to the thread now, not when a task first
        runs: a segment rotated just before ``stop()`` is still finished."""
        finishing = asyncio.get_running_loop().run_in_executor(self.segment_closer, finish)

        async def run() -> None:
            try:
                fields = await finishing
            except Exception:
                logger.exception("closing a recording segment failed")
                return
            then(**fields)

        self.spawn(run())

    async def start(self) -> "MediaWorkerRuntime":
        self.layer = get_channel_layer()
        self.channel_name = await self.layer.new_channel()
        await self._register()
        if self.detectors is not None:
            self.detectors.start(self)
        self._tasks = [asyncio.ensure_future(self._receive_loop()), asyncio.ensure_future(self._heartbeat_loop()),
                       asyncio.ensure_future(self.lag.run())]
        if settings.MEDIA_WORKER_HEAP_TRIM_SECONDS > 0:
            self._tasks.append(asyncio.ensure_future(self.heap_trim_loop(settings.MEDIA_WORKER_HEAP_TRIM_SECONDS)))
        logger.info("media worker %s listening on %s", self.name, self.channel_name)
        return self

    async def _register(self) -> None:
        worker = await db(services.media_worker_register)(
            name=self.name, channel_name=self.channel_name, host=socket.gethostname(), pid=os.getpid()
        )
        self.worker_id = worker.pk

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for peer in list(self.peers.values()):
            await peer.close(reason="worker_stopped", record=False)
            await self.layer.group_send(
                device_group(peer.registration_id, peer.source),
                event_build("media.reconnect", source=peer.source, reason="worker_stopped"),
            )
        if self.detectors is not None:
            self.detectors.stop()
        await asyncio.get_running_loop().run_in_executor(None, self.segment_closer.shutdown)
        await self._background_drain(timeout=settings.MEDIA_WORKER_STOP_DRAIN_SECONDS)
        if self.worker_id is not None:
            await db(services.media_worker_stop)(worker_id=self.worker_id)
        self.stopped.set()

    async def _background_drain(self, *, timeout: float) -> None:
        """Let what the peers' closing started finish: the last segments' database and
        audit-chain records (a recording without them is evidence nobody can find), then the
        thumbnails and messages still in flight. What is still running after ``timeout`` is
        cancelled and named in the log."""
        deadline = time.monotonic() + timeout
        def pending() -> set[asyncio.Task]:
            return self._background - {asyncio.current_task()}

        while pending() and (left := deadline - time.monotonic()) > 0:
            # A finished task may have spawned the next (a segment's record after its close).
            await asyncio.wait(pending(), timeout=left)
        if unfinished := pending():
            logger.warning("media worker %s stopped with %d background tasks unfinished", self.name, len(unfinished))
            for task in unfinished:
                task.cancel()

    async def heap_trim_loop(self, interval: float) -> None:
        """Every ``interval`` seconds, give the C heap's free pages back (``native_memory``):
        without it a steady worker's RSS creeps up by what glibc keeps after frees."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            trim = await loop.run_in_executor(None, heap_trim)
            if trim is None:
                return  # not glibc: nothing to do, ever
            self.heap_trims.append(trim)
            logger.debug("heap trim: %.1f MB back in %.1f ms", trim.freed_bytes / 2**20, trim.seconds * 1000)

    async def _heartbeat_loop(self) -> None:
        interval = settings.MEDIA_WORKER_HEARTBEAT_SECONDS
        cpu = CpuMeter(pool=self.detectors.process_ids if self.detectors is not None else list)
        cpu.used()
        last_wall = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            wall = time.monotonic()
            load = cpu.used() / max(wall - last_wall, 1e-6)
            last_wall = wall
            try:
                alive = await db(services.media_worker_heartbeat)(
                    worker_id=self.worker_id, load=round(load, 3), peer_count=len(self.peers)
                )
                if not alive:
                    # Declared dead while we stalled: our peers were handed back; start afresh.
                    logger.warning("media worker %s was declared dead; re-registering", self.name)
                    for peer in list(self.peers.values()):
                        await peer.close(reason="worker_lost", record=False)
                    self.name = f"{self.name.rsplit('-', 1)[0]}-{uuid.uuid4().hex[:6]}"
                    await self._register()
            except Exception:
                logger.exception("heartbeat of media worker %s failed", self.name)

    async def _receive_loop(self) -> None:
        while True:
            message = await self.layer.receive(self.channel_name)
            handler = getattr(self, "on_" + message.get("type", "").replace(".", "_"), None)
            if handler is None:
                logger.warning("media worker: unknown message %s", message.get("type"))
                continue
            self.spawn(self._handle(handler, message))

    async def _handle(self, handler, message) -> None:
        try:
            await handler(message)
        except Exception:
            logger.exception("media worker failed on %s", message.get("type"))

    async def on_media_offer(self, message: dict) -> None:
        peer = CandidatePeer(self, message)
        self.peers[peer.peer_id] = peer
        try:
            answer = await peer.answer(sdp=message["sdp"], sdp_type=message.get("sdp_type", "offer"))
        except Exception:
            await peer.close(reason="bad_offer")
            raise
        await self.layer.send(message["reply_channel"], event_build(
            "media.answer", source=peer.source, sdp=answer.sdp, sdp_type=answer.type
        ))

    async def on_media_peer_close(self, message: dict) -> None:
        peer = self.peers.get(message["peer_id"])
        if peer is not None:
            await peer.close(reason=message.get("reason", "replaced"), record=False)

    async def on_media_viewer_offer(self, message: dict) -> None:
        registration_id = message["registration_id"]
        sources = [peer for peer in self.peers.values() if peer.registration_id == registration_id and peer.hubs]
        if not sources:
            await self.layer.send(message["reply_channel"], event_build("media.viewer_unavailable", reason="no_media"))
            return
        old = self.viewers.get(message["viewer_id"])
        if old is not None:
            await old.close()
        viewer = ViewerPeer(self, viewer_id=message["viewer_id"], registration_id=registration_id,
                            reply_channel=message["reply_channel"])
        self.viewers[viewer.viewer_id] = viewer
        answer, names = await viewer.answer(sdp=message["sdp"], sdp_type=message.get("sdp_type", "offer"), sources=sources)
        await self.layer.send(message["reply_channel"], event_build(
            "media.viewer_answer", sdp=answer.sdp, sdp_type=answer.type, tracks=names
        ))
        for peer in sources:
            await self.quality_update(peer)

    async def on_media_viewer_close(self, message: dict) -> None:
        viewer = self.viewers.get(message["viewer_id"])
        if viewer is not None:
            await viewer.close()

    async def on_media_stats(self, message: dict) -> None:
        await self.layer.send(message["reply_channel"], {
            "type": "media.stats", "worker": self.name, **self.lag.summary(),
            "heap_trim": self.heap_trim_summary(),
            "detectors": self.detectors.timeliness() if self.detectors is not None else None,
            "peers": {str(peer_id): {name: hub.frames for name, hub in peer.hubs.items()}
                      for peer_id, peer in self.peers.items()},
            "viewers": {viewer_id: {str(track.hub.name): track.frames_forwarded for track in viewer.tracks}
                        for viewer_id, viewer in self.viewers.items()},
        })

    def heap_trim_summary(self) -> dict:
        trims = list(self.heap_trims)
        return {"count": len(trims), "freed_mb": round(sum(t.freed_bytes for t in trims) / 2**20, 1),
                "max_ms": round(max((t.seconds for t in trims), default=0.0) * 1000, 1),
                # RSS just after the last trim: what the worker holds, without the freed pages.
                "rss_after_mb": round(trims[-1].rss_after / 2**20, 1) if trims else None}

    async def quality_update(self, peer: CandidatePeer) -> None:
        """Someone watching: the device sends its best; nobody: it sends little."""
        level = "high" if peer.viewers else "low"
        if getattr(peer, "quality", "low") == level or peer.closed:
            return
        peer.quality = level
        await self.layer.group_send(device_group(peer.registration_id, peer.source),
                                    event_build("media.quality", level=level))


_embedded: MediaWorkerRuntime | None = None
_embedded_lock: asyncio.Lock | None = None


async def embedded_worker_ensure() -> MediaWorkerRuntime:
    """Start the in-process worker on the web process's event loop (embedded default)."""
    global _embedded, _embedded_lock
    if _embedded is not None:
        return _embedded
    if _embedded_lock is None:
        _embedded_lock = asyncio.Lock()
    async with _embedded_lock:
        if _embedded is None:
            from .detectors import detector_pipeline_for_worker

            _embedded = await MediaWorkerRuntime(
                name=f"embedded-{socket.gethostname()}-{os.getpid()}", detectors=detector_pipeline_for_worker()
            ).start()
    return _embedded


async def embedded_worker_stop() -> None:
    """Stop the in-process worker (tests; a web process just exits)."""
    global _embedded, _embedded_lock
    if _embedded is not None:
        await _embedded.stop()
    _embedded = None
    _embedded_lock = None
