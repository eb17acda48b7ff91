"""Media-worker capacity: N synthetic candidates against one worker core, and bare aiortc.

    REDIS_URL=redis://... DATABASE_URL=postgres://... python -m bench.media \\
        [--start 20] [--step 10] [--max 150] [--bare-max 0] [--hold 12] [--soak-minutes 2]
        [--soak-candidates 0] [--targets full,bare,bare_default,bare_sparse,bare_keyframes]

A load generator (this process, pinned to the last core) starts synthetic candidates as
aiortc peers. Each sends what a real candidate's page sends while nobody watches it
(``static/js/media-sender.js``, "low"): a VP8 camera 320x240 at 10 fps, the screen
1280x720 at 1 fps, Opus in 60 ms packets (the worker's answer asks for them; Chromium
complies). Everything is encoded once at start and the packets replayed, so the generator
is cheap; a keyframe request (PLI) is answered with the next frame encoded as a keyframe,
as a browser does. Five candidates are watched (a focus
view each, and they switch to "high": camera 20 fps, screen 5 fps, when the worker says so).

Targets, each its own process pinned to core 0:
- ``full``: ``manage.py media_worker`` with thumbnails, recording and all detectors on;
  its detector pool inherits the pinning, so the detectors' CPU is on the same core and
  counted. Signalling, thumbnails and stats go over the Redis channel layer; the worker
  writes to PostgreSQL, as in production.
- ``bare``: aiortc peers that receive the same streams and discard the encoded frames
  (no decoding, no processing): the baseline.
- ``bare_keyframes``: the same, asking each camera for a keyframe every
  ``MEDIA_THUMBNAIL_CAMERA_SECONDS`` and each screen every ``MEDIA_THUMBNAIL_SCREEN_SECONDS``
  as the worker does for its thumbnails (and discarding them): bare aiortc receiving the
  same packets as the worker, keyframes included. ``ratio_keyframes`` against it says what
  our processing costs on top of aiortc's; ``ratio`` also charges us for receiving the
  keyframes the thumbnails ask for.
- ``bare_sparse``: the same as ``bare`` with the worker's replacement for aiortc's incoming-bitrate
  counter (``passthrough.SparseRateCounter``), so the ratio can be read both ways.
- ``no_detectors``, ``no_recording``, ``no_processing``: the worker with its detectors, its
  recording, or all three of detectors, recording and thumbnails switched off (its settings),
  the same focus views; each gives ``<part>_cost=``, full's CPU a candidate less its own (run
  them at one N, ``--start N --max N``, for the costs to compare like with like).
- ``bare_default``: bare aiortc as a browser feeds it when the receiver asks for nothing:
  the same camera and screen, Opus in 20 ms packets (aiortc's answer carries no
  ``a=ptime``; Chromium then sends 50 packets a second, ``test_media_e2e`` prints it). The
  60 ms packets are a saving the worker negotiates ("savings in what is sent", issue 8), so
  ``ratio_default`` credits it and ``ratio`` (against ``bare``, the same packets) does not.

``--bare-max`` takes the bare targets further than ``--max`` (they have no knee within it).
Candidates whose connection fails (ICE consent expires when a process is starved) offer
again after 2 s, as the page does; a step where that happened says ``reconnected=N``.

For each target N steps up from ``--start`` by ``--step``; after ``--hold`` seconds at each
step it compares, per stream, frames received with frames sent (and, for ``full``, the
wall's thumbnail age and the viewers' frames). The knee is the first N where a stream falls
behind (receives < 95 % of what was sent), or, for ``full``, the thumbnail age p95 reaches
2 s or the detectors fall behind (more than 5 % of their batches answered 2 s or more after
the sample, or of their samples skipped; the pool runs nicer than the worker, so on a full
core it is what gives way), in two windows in a row: a step that fails once is measured again, since a 1 fps
screen has only ~11 frames in a window and one frame late at each edge reads as 82 %. Then
``full`` runs ``--soak-minutes`` at its capacity (the step before the knee) to see whether
memory per candidate stays flat (30 for the issue's run).

Ends with one line: ``knee_full=.. knee_bare=.. ratio=.. ...``. With ``full`` and
``no_processing`` and a bare target in the run it also gives the 0.7 target's arithmetic:
``processing_budget_<ratio>=``, what a candidate's processing may cost for full to reach
0.7 x that bare target (bare's CPU a candidate / 0.7, less ``no_processing``'s), and
``processing_floor_per_candidate=``, what it costs at the least: thumbnails made one by one
in this process after the targets stopped (``thumbnail_ms_camera=``, ``_screen=``) at the
worker's rates, plus the detector pool's CPU as measured in ``full``. The generator must keep up
for the figures to mean anything: its own lateness is printed per step and a step where it
fell behind is marked ``generator_behind``.
"""

import argparse
import asyncio
import fractions
import io
import logging
import os
import queue
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invigilate.settings")
os.environ.setdefault("EMBEDDED_SCHEDULER", "0")
os.environ["MEDIA_ICE_LOOPBACK_ONLY"] = "1"
os.environ["MEDIA_EMBEDDED_WORKER"] = "0"
if "--serve-bare" not in sys.argv:
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="bench-media-"))

import django  # noqa: E402

django.setup()

for _noisy in ("aioice", "aiortc"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

import av  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from asgiref.sync import sync_to_async  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from django.conf import settings  # noqa: E402

from invigilate.media.ice import ice_loopback_restrict  # noqa: E402
from invigilate.media.passthrough import _DECODER_QUEUE, receiver_keyframe_request  # noqa: E402
from invigilate.media.thumbnails import thumbnail_interval  # noqa: E402
from invigilate.media.worker import LoopLagProbe, cpu_seconds_by_process  # noqa: E402
from invigilate.realtime.groups import candidate_group, room_group  # noqa: E402

VIDEO_CLOCK = 90000
AUDIO_CLOCK = 48000
BEHIND = 0.95  # a stream receiving less than this share of what was sent falls behind
THUMBNAIL_AGE_LIMIT = 2.0
DETECTORS_LATE_SHARE = 0.05  # of a window's detector batches late, or of its samples skipped
QUALITY = {"low": {"camera": 10, "screen": 1}, "high": {"camera": 20, "screen": 5}}
WATCHED = 5
BARE_DEFAULT_PTIME_MS = 20  # Opus packets a browser sends a receiver that asks for no ptime
RATIOS = {"bare": "ratio", "bare_sparse": "ratio_sparse", "bare_default": "ratio_default",
          "bare_keyframes": "ratio_keyframes"}  # full against each
# The worker with parts of its work switched off (its settings): what each part costs a
# candidate is full's CPU less the variant's, measured in the same run (``no_<part>`` gives
# ``<part>_cost=``).
WORKER_VARIANTS = {
    "full": {},
    "no_detectors": {"MEDIA_DETECTORS": "0"},
    "no_recording": {"MEDIA_RECORDING": "0"},
    "no_processing": {"MEDIA_DETECTORS": "0", "MEDIA_RECORDING": "0",
                      "MEDIA_THUMBNAIL_CAMERA_SECONDS": "86400", "MEDIA_THUMBNAIL_SCREEN_SECONDS": "86400"},
}
TARGETS = (*WORKER_VARIANTS, *RATIOS)
WORKER_CORE, GENERATOR_CORE = 0, (os.cpu_count() or 2) - 1


# --- Pre-encoded media ------------------------------------------------------------------
@dataclass
class Clip:
    """One loop of encoded frames: each frame as a delta of the one before, and as a keyframe."""

    deltas: list[bytes]
    keyframes: list[bytes]


def _vp8_encoder(width: int, height: int, fps: int, bitrate: int):
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, fps)
    codec.framerate = fractions.Fraction(fps, 1)
    codec.bit_rate = bitrate
    codec.gop_size = 100000  # one keyframe, then deltas (a browser sends keyframes when asked)
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "auto-alt-ref": "0"}
    return codec


def _encode(codec, image: np.ndarray, index: int) -> bytes:
    frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
    frame.pts = index
    data = b"".join(bytes(packet) for packet in codec.encode(frame))
    if not data:
        raise RuntimeError("the VP8 encoder held a frame back (lag-in-frames should be 0)")
    return data


def vp8_clip(images: list[np.ndarray], fps: int, bitrate: int, keyframe_qmin: int = 4) -> Clip:
    """``keyframe_qmin`` keeps a lone keyframe near the size a browser's rate control gives it
    (a fresh encoder spends far more on its first frame than one answering a PLI mid-stream)."""
    height, width = images[0].shape[:2]
    running = _vp8_encoder(width, height, fps, bitrate)
    deltas = [_encode(running, image, index) for index, image in enumerate(images)]
    keyframes = []
    for image in images:
        encoder = _vp8_encoder(width, height, fps, bitrate)
        encoder.options = {**encoder.options, "qmin": str(keyframe_qmin)}
        keyframes.append(_encode(encoder, image, 0))
    return Clip(deltas=deltas, keyframes=keyframes)


def camera_images(count: int) -> list[np.ndarray]:
    """A face (scikit-image's astronaut) moving a little, with sensor noise: a live camera."""
    from skimage import data, transform

    face = (transform.resize(data.astronaut()[:400, 60:460], (260, 260), anti_aliasing=True) * 255).astype(np.uint8)
    random = np.random.default_rng(7)
    images = []
    for index in range(count):
        image = np.full((240, 320, 3), 96, np.uint8)
        dx = int(20 + 12 * np.sin(index / 15))
        image[:, dx:dx + 260] = face[10:250]
        noise = random.integers(-2, 3, image.shape, dtype=np.int16)
        images.append(np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8))
    return images


def screen_images(count: int) -> list[np.ndarray]:
    """An exam page: lines of 'text' and a caret, one line changing per frame."""
    random = np.random.default_rng(11)
    page = np.full((720, 1280, 3), 250, np.uint8)
    page[:60] = (40, 70, 140)
    for line in range(30):
        y = 90 + line * 20
        for word in range(random.integers(4, 14)):
            x = 60 + word * 80 + random.integers(0, 20)
            page[y:y + 10, x:x + random.integers(30, 70)] = 30
    images = []
    for index in range(count):
        image = page.copy()
        y = 90 + (index % 30) * 20
        image[y:y + 10, 60 + (index * 37) % 900:80 + (index * 37) % 900] = (200, 40, 40)
        images.append(image)
    return images


def opus_clip(seconds: float, ptime_ms: int) -> list[bytes]:
    """Room noise (quiet, about -49 dBFS) with a voice-loud stretch in the last fifth (a
    murmur: harmonics at a syllable rate, about -21 dBFS), as Opus packets of ``ptime_ms``:
    the speech detector has something to listen to for a fifth of the time."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = AUDIO_CLOCK, "mono", "s16"
    codec.bit_rate = 32000
    codec.options = {"frame_duration": str(ptime_ms), "application": "voip"}
    samples = AUDIO_CLOCK * ptime_ms // 1000
    random = np.random.default_rng(3)
    packets = []
    for index in range(int(seconds * 1000 / ptime_ms)):
        signal = random.normal(0, 120, samples)
        if index * ptime_ms >= seconds * 800:
            t = (index * samples + np.arange(samples)) / AUDIO_CLOCK
            voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6))
            signal += 3000 * voice * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
        pcm = np.clip(signal, -32768, 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts = AUDIO_CLOCK, index * samples
        packets += [bytes(packet) for packet in codec.encode(frame)]
    return packets


@dataclass
class Media:
    camera: Clip
    screen: Clip
    audio: list[bytes]
    ptime_ms: int


def media_build(ptime_ms: int) -> Media:
    """The bench's pre-encoded streams; ``audio_repacked`` gives the same with other Opus packets."""
    started = time.monotonic()
    media = Media(camera=vp8_clip(camera_images(100), 10, 220_000, keyframe_qmin=20), screen=vp8_clip(screen_images(20), 1, 250_000),
                  audio=opus_clip(10, ptime_ms), ptime_ms=ptime_ms)
    kb = lambda frames: sum(map(len, frames)) / len(frames) / 1024  # noqa: E731
    print(f"encoded once in {time.monotonic() - started:.1f}s: camera delta {kb(media.camera.deltas):.1f} KB "
          f"key {kb(media.camera.keyframes):.1f} KB; screen delta {kb(media.screen.deltas):.1f} KB "
          f"key {kb(media.screen.keyframes):.1f} KB; opus {kb(media.audio) * 1024:.0f} B / {ptime_ms} ms", flush=True)
    return media


def audio_repacked(media: Media, ptime_ms: int) -> Media:
    if ptime_ms == media.ptime_ms:
        return media
    return replace(media, audio=opus_clip(10, ptime_ms), ptime_ms=ptime_ms)


class ReplayTrack(MediaStreamTrack):
    """Replays encoded frames as ``av.Packet`` (aiortc packetises them without encoding)."""

    def __init__(self, *, kind: str, fps: float, clip: Clip | None = None, packets: list[bytes] | None = None,
                 ptime_ms: int = 20, phase: int = 0):
        super().__init__()
        self.kind = kind
        self.fps = fps
        self.clip, self.packets = clip, packets
        self.ptime_ms = ptime_ms
        self.index = phase
        self.keyframe_wanted = True
        self.keyframes_sent = 0
        self.sent = 0
        self.late = 0.0  # seconds the generator sent frames behind their schedule, summed
        self._due: float | None = None
        self._pts = 0

    def request_keyframe(self) -> None:
        self.keyframe_wanted = True

    async def recv(self) -> av.Packet:
        now = time.monotonic()
        if self._due is None:
            self._due = now
        if self._due > now:
            await asyncio.sleep(self._due - now)
        else:
            self.late += now - self._due
        interval = self.ptime_ms / 1000 if self.kind == "audio" else 1 / self.fps
        self._due += interval
        if self.kind == "audio":
            data = self.packets[self.index % len(self.packets)]
            clock, step = AUDIO_CLOCK, AUDIO_CLOCK * self.ptime_ms // 1000
        else:
            position = self.index % len(self.clip.deltas)
            key = self.keyframe_wanted or position == 0
            data = self.clip.keyframes[position] if key else self.clip.deltas[position]
            self.keyframe_wanted = False
            self.keyframes_sent += key
            clock, step = VIDEO_CLOCK, int(VIDEO_CLOCK * interval)
        packet = av.Packet(data)
        packet.pts, packet.time_base = self._pts, fractions.Fraction(1, clock)
        self._pts += step
        self.index += 1
        self.sent += 1
        return packet


# --- Counting receivers (bare baseline, viewers): frames reassembled, never decoded -------
class CountingGate(queue.Queue):
    """Stands in for aiortc's decoder queue (as ``passthrough.receiver_tap`` does): counts
    frames and lets only the receiver's stop signal through to its decoder thread."""

    def __init__(self):
        super().__init__()
        self.frames = 0

    def put(self, item, block=True, timeout=None):
        if item is None:
            return super().put(item, block, timeout)
        self.frames += 1


def counting_tap(receiver) -> CountingGate:
    gate = CountingGate()
    setattr(receiver, _DECODER_QUEUE, gate)
    return gate


class BareReceiver:
    """The baseline: aiortc peers that receive candidates' streams and discard them; with
    ``keyframes``, asking for keyframes as often as the worker's thumbnails do."""

    def __init__(self, *, keyframes: bool = False):
        self.peers: dict[str, tuple[RTCPeerConnection, dict[str, CountingGate]]] = {}
        self.keyframes = keyframes
        self.lag = LoopLagProbe()

    async def serve(self) -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        print(channel, flush=True)
        asyncio.ensure_future(self.lag.run())
        while True:
            message = await layer.receive(channel)
            if message["type"] == "media.offer":
                asyncio.ensure_future(self.offer(layer, message))
            elif message["type"] == "media.stats":
                await layer.send(message["reply_channel"], {
                    "type": "media.stats", **self.lag.summary(),
                    "peers": {key: {name: gate.frames for name, gate in gates.items()}
                              for key, (_, gates) in self.peers.items()},
                    "viewers": {},
                })
            elif message["type"] == "media.peer_close":
                pc, _ = self.peers.pop(str(message["peer_id"]), (None, None))
                if pc is not None:
                    await pc.close()  # ends its keyframe requests too

    async def offer(self, layer, message: dict) -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        gates: dict[str, CountingGate] = {}
        names = message["tracks"]

        def on_track(track):
            transceiver = next(t for t in pc.getTransceivers() if t.receiver.track is track)
            name = names[str(transceiver.mid)]
            gates[name] = counting_tap(transceiver.receiver)
            if self.keyframes and track.kind == "video":
                asyncio.ensure_future(self._ask_for_keyframes(pc, transceiver.receiver, thumbnail_interval(name)))

        pc.on("track", on_track)
        self.peers[str(message["peer_id"])] = (pc, gates)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await layer.send(message["reply_channel"], {"type": "media.answer", "sdp": pc.localDescription.sdp,
                                                    "sdp_type": "answer", "source": "pc"})

    @staticmethod
    async def _ask_for_keyframes(pc: RTCPeerConnection, receiver, interval: float) -> None:
        """As the worker's ``_ask_for_keyframes``: ask, wait ``interval``, until the peer closes."""
        while pc.connectionState != "closed":
            receiver_keyframe_request(receiver)
            await asyncio.sleep(interval)


# --- The generator ----------------------------------------------------------------------
@dataclass
class Candidate:
    registration_id: int
    room_id: int
    exam_id: int
    media: Media
    phase: int
    pc: RTCPeerConnection | None = None
    peer_id: int | None = None
    tracks: dict[str, ReplayTrack] = field(default_factory=dict)
    watched: bool = False
    quality_channel: str | None = None
    reconnects: int = 0
    stopping: bool = False
    level: str = "low"

    async def connect(self, bench: "Bench") -> None:
        self.pc = pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        @pc.on("connectionstatechange")
        def on_state():
            # As the page does (static/js/media-sender.js): a connection that failed (ICE
            # consent expired while a process was starved) offers again after 2 s.
            if pc.connectionState == "failed" and pc is self.pc and not self.stopping:
                bench.spawn(self.reconnect(bench))

        low = QUALITY["low"]
        self.tracks = {
            "camera": ReplayTrack(kind="video", fps=low["camera"], clip=self.media.camera, phase=self.phase),
            "microphone": ReplayTrack(kind="audio", fps=0, packets=self.media.audio, ptime_ms=self.media.ptime_ms,
                                      phase=self.phase),
            "screen": ReplayTrack(kind="video", fps=low["screen"], clip=self.media.screen, phase=self.phase),
        }
        mids = {}
        for name, track in self.tracks.items():
            transceiver = self.pc.addTransceiver(track, direction="sendonly")
            transceiver.sender._send_keyframe = track.request_keyframe  # a PLI: the next frame is a keyframe
            mids[name] = transceiver
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.peer_id = await bench.peer_assign(self)
        reply = await bench.layer.new_channel()
        await bench.layer.send(bench.target_channel, {
            "type": "media.offer", "peer_id": self.peer_id, "registration_id": self.registration_id,
            "room_id": self.room_id, "exam_id": self.exam_id, "source": "pc", "sdp": self.pc.localDescription.sdp,
            "sdp_type": "offer", "tracks": {str(t.mid): name for name, t in mids.items()}, "reply_channel": reply,
        })
        answer = await asyncio.wait_for(bench.layer.receive(reply), 30)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["sdp_type"]))
        deadline = time.monotonic() + 30
        while self.pc.connectionState != "connected":
            if time.monotonic() > deadline or self.pc.connectionState == "failed":
                raise TimeoutError(f"candidate {self.registration_id}: {self.pc.connectionState}")
            await asyncio.sleep(0.05)
        self.quality(self.level)

    async def reconnect(self, bench: "Bench") -> None:
        self.reconnects += 1
        await self.pc.close()
        while not self.stopping:
            await asyncio.sleep(2)
            try:
                await self.connect(bench)
                break
            except Exception as error:  # noqa: BLE001 - as the page: try again
                print(f"candidate {self.registration_id}: reconnecting failed ({error}); again", flush=True)
                await self.pc.close()
        if not self.stopping:
            await bench.viewer_reopen(self)

    def quality(self, level: str) -> None:
        self.level = level
        for name, fps in QUALITY[level].items():
            self.tracks[name].fps = fps

    def sent(self) -> dict[str, int]:
        return {name: track.sent for name, track in self.tracks.items()}

    def keyframes_sent(self) -> int:
        return sum(track.keyframes_sent for track in self.tracks.values())


@dataclass
class Viewer:
    candidate: Candidate
    pc: RTCPeerConnection
    gates: dict[str, CountingGate]
    sent_at_open: dict[str, int]


def cpu_seconds(process: psutil.Process, *, children: bool = True) -> float:
    return sum(cpu_seconds_by_process([process, *(process.children(recursive=True) if children else [])]).values())


def rss_mb(process: psutil.Process, *, children: bool) -> float:
    total = 0
    for each in [process, *(process.children(recursive=True) if children else [])]:
        try:
            total += each.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Bench:
    def __init__(self, args, media: Media, world: dict):
        self.args = args
        self.media = media
        self.world = world
        self.layer = get_channel_layer()
        self.target = ""
        self.target_channel = ""
        self.process: subprocess.Popen | None = None
        self.ps: psutil.Process | None = None
        self.candidates: list[Candidate] = []
        self.viewers: list[Viewer] = []
        self.thumbnails: dict[int, float] = {}  # registration -> taken_at of the latest
        self.joined_at: dict[int, float] = {}
        self.lag = LoopLagProbe()
        self.tasks: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()

    def spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def reconnects(self) -> int:
        return sum(candidate.reconnects for candidate in self.candidates)

    # --- targets ---
    async def start(self, target: str) -> None:
        self.target = target
        self.media = audio_repacked(self.media, BARE_DEFAULT_PTIME_MS if target == "bare_default" else self.args.ptime)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_POOL": "0", **WORKER_VARIANTS.get(target, {})}
        pin = lambda: os.sched_setaffinity(0, {WORKER_CORE})  # noqa: E731
        if target.startswith("bare"):
            serve = ["--serve-bare", *(["--sparse-rate"] if target == "bare_sparse" else []),
                     *(["--keyframes"] if target == "bare_keyframes" else [])]
            self.process = subprocess.Popen([sys.executable, "-m", "bench.media", *serve], cwd=ROOT, env=env,
                                            stdout=subprocess.PIPE, text=True, preexec_fn=pin)
            self.target_channel = await asyncio.to_thread(self.process.stdout.readline)
            self.target_channel = self.target_channel.strip()
        else:
            self.worker_name = f"bench-{uuid.uuid4().hex[:6]}"
            self.log = open(Path(settings.MEDIA_ROOT) / "worker.log", "w")  # noqa: SIM115
            self.process = subprocess.Popen([sys.executable, "manage.py", "media_worker", "--name", self.worker_name],
                                            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                            preexec_fn=pin)
            self.target_channel = await self._worker_channel()
        self.ps = psutil.Process(self.process.pid)
        await asyncio.sleep(2)
        self.rss_idle = rss_mb(self.ps, children=False)
        self.thumbnail_channel = await self.layer.new_channel()
        await self.layer.group_add(room_group(self.world["room_id"]), self.thumbnail_channel)
        self.tasks = [asyncio.ensure_future(self._thumbnails())]

    async def _worker_channel(self) -> str:
        from invigilate.media.models import MediaWorker

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            worker = await sync_to_async(MediaWorker.objects.filter(name=self.worker_name, status="alive").first)()
            if worker is not None:
                return worker.channel_name
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.2)
        raise RuntimeError("media worker did not start: " + (Path(settings.MEDIA_ROOT) / "worker.log").read_text()[-2000:])

    async def stop(self) -> None:
        for candidate in self.candidates:
            candidate.stopping = True
        for viewer in self.viewers:
            await viewer.pc.close()
        for candidate in self.candidates:
            await candidate.pc.close()
        for task in self.tasks:
            task.cancel()
        await self.layer.group_discard(room_group(self.world["room_id"]), self.thumbnail_channel)
        self.process.terminate()
        try:
            await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.candidates, self.viewers, self.thumbnails, self.joined_at = [], [], {}, {}

    async def peer_assign(self, candidate: Candidate) -> int:
        if self.target.startswith("bare"):
            return candidate.registration_id
        from invigilate.exams.models import Registration
        from invigilate.media.services import media_peer_assign

        def assign():
            registration = Registration.objects.get(pk=candidate.registration_id)
            peer, replaced = media_peer_assign(registration=registration, source="pc")
            if peer.worker.name != self.worker_name:
                raise RuntimeError(f"the bench's candidate went to another worker ({peer.worker.name})")
            return peer.pk, [old.pk for old in replaced]

        peer_id, replaced = await sync_to_async(assign)()
        for old in replaced:  # as the candidate's socket does
            await self.layer.send(self.target_channel, {"type": "media.peer_close", "peer_id": old, "reason": "replaced"})
        return peer_id

    async def _thumbnails(self) -> None:
        while True:
            event = await self.layer.receive(self.thumbnail_channel)
            if event.get("type") == "media.thumbnails":
                from datetime import datetime

                for thumbnail in event["thumbnails"]:
                    self.thumbnails[thumbnail["registration_id"]] = datetime.fromisoformat(thumbnail["taken_at"]).timestamp()

    async def _watch_quality(self, candidate: Candidate) -> None:
        """Plays the page's side of "media.quality" for a watched candidate."""
        channel = await self.layer.new_channel()
        await self.layer.group_add(candidate_group(candidate.registration_id), channel)
        while True:
            event = await self.layer.receive(channel)
            if event.get("type") == "media.quality":
                candidate.quality(event["level"])

    # --- load ---
    async def grow(self, count: int) -> None:
        registrations = self.world["registrations"]
        while len(self.candidates) < count:
            batch = []
            for _ in range(min(5, count - len(self.candidates))):
                index = len(self.candidates)
                candidate = Candidate(registration_id=registrations[index], room_id=self.world["room_id"],
                                      exam_id=self.world["exam_id"], media=self.media, phase=index * 7)
                self.candidates.append(candidate)
                batch.append(candidate)
            await asyncio.gather(*(candidate.connect(self) for candidate in batch))
            now = time.time()
            for candidate in batch:
                self.joined_at[candidate.registration_id] = now
            await asyncio.sleep(0.2)
        if self.target in WORKER_VARIANTS and not self.viewers and len(self.candidates) >= WATCHED:
            for candidate in self.candidates[:WATCHED]:
                self.tasks.append(asyncio.ensure_future(self._watch_quality(candidate)))
                await self._view(candidate)
        if self.target.startswith("bare"):  # the same streams as with the worker: the watched five send "high"
            for candidate in self.candidates[:WATCHED]:
                candidate.quality("high")

    async def shrink(self, count: int) -> None:
        while len(self.candidates) > count:
            candidate = self.candidates.pop()
            candidate.stopping = True
            await candidate.pc.close()
            self.thumbnails.pop(candidate.registration_id, None)
            self.joined_at.pop(candidate.registration_id, None)

    async def viewer_reopen(self, candidate: Candidate) -> None:
        """A watched candidate reconnected: its focus view (closed by the worker) opens again."""
        for viewer in [v for v in self.viewers if v.candidate is candidate]:
            self.viewers.remove(viewer)
            await viewer.pc.close()
            await self._view(candidate)

    async def _view(self, candidate: Candidate) -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        for kind in ("video", "video", "video", "audio"):
            pc.addTransceiver(kind, direction="recvonly")
        gates: dict[str, CountingGate] = {}
        await pc.setLocalDescription(await pc.createOffer())
        reply = await self.layer.new_channel()
        await self.layer.send(self.target_channel, {
            "type": "media.viewer_offer", "viewer_id": uuid.uuid4().hex, "registration_id": candidate.registration_id,
            "sdp": pc.localDescription.sdp, "sdp_type": "offer", "reply_channel": reply,
        })
        answer = await asyncio.wait_for(self.layer.receive(reply), 30)
        for transceiver in pc.getTransceivers():
            name = answer["tracks"].get(str(transceiver.mid))
            if name:
                gates[name] = counting_tap(transceiver.receiver)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["sdp_type"]))
        self.viewers.append(Viewer(candidate=candidate, pc=pc, gates=gates, sent_at_open=candidate.sent()))

    # --- measurement ---
    async def stats(self) -> dict:
        reply = await self.layer.new_channel()
        await self.layer.send(self.target_channel, {"type": "media.stats", "reply_channel": reply})
        return await asyncio.wait_for(self.layer.receive(reply), 30)

    def _snapshot(self) -> dict:
        return {
            "sent": {c.peer_id: c.sent() for c in self.candidates},
            "late": sum(t.late for c in self.candidates for t in c.tracks.values()),
            "keyframes": sum(c.keyframes_sent() for c in self.candidates),
            "viewers": {id(v): {name: gate.frames for name, gate in v.gates.items()} for v in self.viewers},
            "viewer_sent": {id(v): v.candidate.sent() for v in self.viewers},
            "reconnects": self.reconnects(),
            "cpu": cpu_seconds(self.ps),
            "cpu_main": cpu_seconds(self.ps, children=False),
            "generator_cpu": cpu_seconds(psutil.Process(), children=False),  # not the target
            "at": time.monotonic(),
        }

    async def measure(self, hold: float) -> dict:
        """Hold the load for ``hold`` seconds; per-stream received vs sent, CPU, lag, thumbnails."""
        await asyncio.sleep(3)  # the last candidates' first keyframes, viewers' first frames
        before, stats_before = self._snapshot(), await self.stats()
        ages: list[float] = []
        end = time.monotonic() + hold
        while time.monotonic() < end:
            await asyncio.sleep(0.5)
            now = time.time()
            for candidate in self.candidates:
                joined = self.joined_at.get(candidate.registration_id, now)
                if thumbnails_made(self.target) and now - joined > 3:
                    ages.append(now - self.thumbnails.get(candidate.registration_id, joined))
        after, stats_after = self._snapshot(), await self.stats()
        wall = after["at"] - before["at"]
        worst, behind = 1.0, []
        for peer_id, sent_after in after["sent"].items():
            received_before = stats_before["peers"].get(str(peer_id), {})
            received_after = stats_after["peers"].get(str(peer_id), {})
            for name, sent in sent_after.items():
                sent_frames = sent - before["sent"].get(peer_id, {}).get(name, 0)
                received = received_after.get(name, 0) - received_before.get(name, 0)
                share = received / sent_frames if sent_frames else 1.0
                # A frame in flight at either end of the window is not a frame lost.
                if received < BEHIND * sent_frames - 1:
                    behind.append(f"{peer_id}/{name}:{received}/{sent_frames}")
                worst = min(worst, share)
        for key, viewer_after in after["viewers"].items():
            if key not in before["viewers"]:
                continue  # reopened during the window (its candidate reconnected)
            viewer_before, sent_before, sent_after = before["viewers"][key], before["viewer_sent"][key], after["viewer_sent"][key]
            for name, frames in viewer_after.items():
                sent_frames = sent_after[name] - sent_before[name]
                received = frames - viewer_before.get(name, 0)
                if received < BEHIND * sent_frames - 1:
                    behind.append(f"viewer/{name}:{received}/{sent_frames}")
                worst = min(worst, received / sent_frames if sent_frames else 1.0)
        sent_total = sum(sum(s.values()) for s in after["sent"].values()) - sum(
            sum(s.values()) for s in before["sent"].values())
        late_share = (after["late"] - before["late"]) / max(1, sent_total)  # mean lateness per frame, s
        thumb_p95 = percentile(ages, 0.95) if ages else None
        return {
            "n": len(self.candidates),
            "cpu": (after["cpu"] - before["cpu"]) / wall,
            "cpu_pool": (after["cpu"] - before["cpu"] - after["cpu_main"] + before["cpu_main"]) / wall,
            "generator_cpu": (after["generator_cpu"] - before["generator_cpu"]) / wall,
            "generator_late_ms": late_share * 1000,
            # Camera and screen keyframes a candidate a second: the clips' loops' own, and the
            # ones the receiver asked for.
            "keyframes_per_s": (after["keyframes"] - before["keyframes"]) / wall / max(1, len(self.candidates)),
            "lag_p95_ms": stats_after["lag_p95_ms"], "lag_max_ms": stats_after["lag_max_ms"],
            "worst_share": worst, "behind": behind,
            "thumb_p95_s": thumb_p95,
            "rss_mb": rss_mb(self.ps, children=False), "rss_all_mb": rss_mb(self.ps, children=True),
            "mem_per_candidate_mb": (rss_mb(self.ps, children=False) - self.rss_idle) / max(1, len(self.candidates)),
            "load": os.getloadavg()[0],
            "reconnects": after["reconnects"] - before["reconnects"],
            "heap_trim": stats_after.get("heap_trim"),  # the worker's recent trims (bare has none)
            "detectors": detectors_window(stats_before.get("detectors"), stats_after.get("detectors")),
        }


def detectors_window(before: dict | None, after: dict | None) -> dict | None:
    """The detector pool's timeliness in a window, from the worker's running counts: the share
    of batches whose results came late (``detectors.DETECTOR_LATE_SECONDS``) and of samples
    skipped because the candidate's previous one was still being analysed; the latency p95 is
    the worker's, over its last ``DETECTOR_LATENCIES_KEPT`` batches (~100 s), not the window's."""
    if not before or not after:
        return None
    batches = after["batches"] - before["batches"]
    offered = after["submitted"] - before["submitted"] + after["skipped"] - before["skipped"]
    return {"late_share": (after["batches_late"] - before["batches_late"]) / batches if batches else 0.0,
            "skipped_share": (after["skipped"] - before["skipped"]) / offered if offered else 0.0,
            "latency_p95_s": after["latency_p95_s"]}


def step_line(target: str, result: dict) -> str:
    thumb = f" thumb_p95={result['thumb_p95_s']:.2f}s" if result["thumb_p95_s"] is not None else ""
    flags = ""
    if result["behind"]:
        flags += f" BEHIND({len(result['behind'])}: {', '.join(result['behind'][:4])})"
    if result["generator_late_ms"] > 50:
        flags += " generator_behind"
    if result["reconnects"]:
        flags += f" reconnected={result['reconnects']}"
    if detectors := result.get("detectors"):
        flags += (f" det_late={detectors['late_share'] * 100:.0f}% det_skipped={detectors['skipped_share'] * 100:.0f}%"
                  f" det_p95={detectors['latency_p95_s'] or 0:.2f}s")
        if detectors_late(result):
            flags += " DETECTORS_LATE"
    if (trim := result.get("heap_trim")) and trim["count"]:
        flags += f" heap_trims={trim['count']}(freed {trim['freed_mb']:.0f}MB, max {trim['max_ms']:.0f}ms)"
    return (f"{target:4} n={result['n']:3d} cpu={result['cpu'] * 100:5.1f}% (pool {result['cpu_pool'] * 100:4.1f}%) lag_p95={result['lag_p95_ms']:6.1f}ms "
            f"lag_max={result['lag_max_ms']:6.1f}ms worst={result['worst_share']:.3f}{thumb} "
            f"rss={result['rss_mb']:.0f}MB(+children {result['rss_all_mb']:.0f}) "
            f"mem/cand={result['mem_per_candidate_mb']:.2f}MB gen_cpu={result['generator_cpu'] * 100:.0f}% "
            f"gen_late={result['generator_late_ms']:.1f}ms keyframes/s={result['keyframes_per_s']:.2f} "
            f"load={result['load']:.1f}{flags}")


def detectors_late(result: dict) -> bool:
    """More than 5 % of the window's detector batches late (answered 2 s or more after their
    first sample), or more than 5 % of its samples skipped: the detectors did not keep up."""
    detectors = result.get("detectors")
    return bool(detectors) and (detectors["late_share"] > DETECTORS_LATE_SHARE
                                or detectors["skipped_share"] > DETECTORS_LATE_SHARE)


def thumbnails_made(target: str) -> bool:
    return target in WORKER_VARIANTS and "MEDIA_THUMBNAIL_CAMERA_SECONDS" not in WORKER_VARIANTS[target]


def failed(target: str, result: dict) -> bool:
    thumbs_late = thumbnails_made(target) and (result["thumb_p95_s"] or 0) >= THUMBNAIL_AGE_LIMIT
    return bool(result["behind"]) or thumbs_late or detectors_late(result)


async def knee(bench: Bench, target: str) -> tuple[int | None, dict | None, list[dict]]:
    """Step N up until a stream falls behind. Returns (knee, last healthy step, all steps)."""
    args = bench.args
    healthy, steps = None, []
    top = args.bare_max if target.startswith("bare") and args.bare_max else args.max
    for count in range(args.start, top + 1, args.step):
        await bench.grow(count)
        if not steps:  # the detector pool starting, first imports: not a cost per candidate
            await asyncio.sleep(args.warmup)
        result = await bench.measure(args.hold)
        print(step_line(target, result), flush=True)
        if failed(target, result):
            print(f"{target}: n={count} failed one window; measuring again", flush=True)
            result = await bench.measure(args.hold)
            print(step_line(target, result), flush=True)
        steps.append(result)
        if failed(target, result):
            if result["generator_late_ms"] > 50:
                print(f"{target}: the generator itself fell behind at n={count}: knee is a lower bound", flush=True)
            return count, healthy, steps
        healthy = result
    return None, healthy, steps


def growth_per_minute(samples: list[tuple[float, float]], *, warm_up: float) -> float:
    """The slope (MB a minute) of (minute, MB) samples after ``warm_up`` minutes (allocator
    arenas and jitter buffers fill first)."""
    steady = [(t, mb) for t, mb in samples if t >= warm_up] or samples
    times, values = np.array([t for t, _ in steady]), np.array([mb for _, mb in steady])
    return float(np.polyfit(times, values, 1)[0]) if len(steady) >= 2 and np.ptp(times) > 0 else 0.0


async def soak(bench: Bench, count: int, minutes: float) -> dict:
    """Hold ``count`` candidates for ``minutes``: memory per candidate over time."""
    await bench.shrink(count)
    await bench.grow(count)
    samples: list[tuple[float, float]] = []
    floors: list[tuple[float, float]] = []  # RSS right after the worker's last heap trim
    started = time.monotonic()
    end = started + minutes * 60
    window = 30.0 if minutes >= 5 else 10.0
    thumbs: list[float] = []
    while time.monotonic() < end:
        result = await bench.measure(min(window, max(1.0, end - time.monotonic())))
        elapsed = (time.monotonic() - started) / 60
        samples.append((elapsed, result["rss_mb"]))
        if (trim := result.get("heap_trim")) and trim.get("rss_after_mb"):
            floors.append((elapsed, trim["rss_after_mb"]))
        if result["thumb_p95_s"] is not None:
            thumbs.append(result["thumb_p95_s"])
        print(f"soak t={elapsed:5.1f}min " + step_line("full", result), flush=True)
    return {"growth_mb_per_10min": growth_per_minute(samples, warm_up=minutes / 5) * 10,
            # Trimmed, the RSS saws between trims; right after one it is what the worker holds.
            "floor_growth_mb_per_10min": growth_per_minute(floors, warm_up=minutes / 5) * 10 if floors else None,
            "rss_first": samples[0][1], "rss_last": samples[-1][1],
            "thumb_p95_s": max(thumbs) if thumbs else None}


# --- Setup ------------------------------------------------------------------------------
def world_build(count: int) -> dict:
    """An exam with one room of ``count`` candidates, each with a registered photo."""
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.utils import timezone
    from PIL import Image
    from skimage import data

    from invigilate.exams.models import Candidate as CandidateModel
    from invigilate.exams.models import Exam, ExamRoom, Registration

    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:8]
    exam = Exam.objects.create(title=f"bench-media-{tag}", starts_at=timezone.now())
    room = ExamRoom.objects.create(exam=exam, name="Hall")
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG")
    first = CandidateModel(full_name="Bench 0", id_number_hash=f"bench-{tag}-0", id_number_masked="6201**********000X",
                           phone="13900000000")
    first.photo.save(f"bench-{tag}.jpg", ContentFile(buffer.getvalue()), save=False)
    candidates = CandidateModel.objects.bulk_create(
        [first] + [CandidateModel(full_name=f"Bench {n}", id_number_hash=f"bench-{tag}-{n}", photo=first.photo.name,
                                  id_number_masked="6201**********000X", phone="13900000000") for n in range(1, count)]
    )
    registrations = Registration.objects.bulk_create(
        Registration(exam=exam, candidate=candidate, room=room, seat=n + 1, ticket_number=f"M{tag}{n:05d}")
        for n, candidate in enumerate(candidates)
    )
    return {"exam_id": exam.pk, "room_id": room.pk, "registrations": [r.pk for r in registrations]}


def thumbnail_floor(media: Media, *, repeats: int = 200) -> dict[str, float]:
    """CPU ms of one thumbnail (keyframe decoded, JPEG, stored; the camera's with the
    detectors' picture summary, as ``full`` makes them), made one after another in this
    process after the targets have stopped: what a thumbnail costs with nothing beside it.
    ``per_candidate`` is the share of a core one candidate's thumbnails take at the worker's
    rates (``thumbnail_interval``), a lower bound of what they cost the worker."""
    from invigilate.media.thumbnails import thumbnail_from_keyframe

    floor = {}
    for track, clip in (("camera", media.camera), ("screen", media.screen)):
        keyframes = clip.keyframes
        thumbnail_from_keyframe(keyframes[0], registration_id=0, track=track, taken_at=time.time(),
                                summary=track == "camera")  # FFmpeg and OpenCV set up once
        started = time.thread_time()
        for index in range(repeats):
            thumbnail_from_keyframe(keyframes[index % len(keyframes)], registration_id=0, track=track,
                                    taken_at=time.time() + index, summary=track == "camera")
        floor[track] = (time.thread_time() - started) / repeats * 1000
    floor["per_candidate"] = sum(floor[track] / thumbnail_interval(track) for track in ("camera", "screen")) / 1000
    return floor


def processing_budget(costs: dict[str, float], bare_target: str, ratio: float = 0.7) -> float | None:
    """The share of a core a candidate's processing (thumbnails, recording, detectors) may
    take for full's capacity to be ``ratio`` x ``bare_target``'s: bare's CPU a candidate over
    ``ratio``, less the worker's with no processing (its media path, focus views, bookkeeping)."""
    if bare_target not in costs or "no_processing" not in costs:
        return None
    return costs[bare_target] / ratio - costs["no_processing"]


async def run(args) -> None:
    ice_loopback_restrict()
    os.sched_setaffinity(0, {GENERATOR_CORE})
    media = media_build(args.ptime)
    world = await sync_to_async(world_build)(max(args.max, args.bare_max))
    bench = Bench(args, media, world)
    asyncio.ensure_future(bench.lag.run())
    print(f"worker core {WORKER_CORE}, generator core {GENERATOR_CORE}; load average {os.getloadavg()}; "
          f"MEDIA_ROOT {settings.MEDIA_ROOT}", flush=True)
    results: dict[str, tuple] = {}
    soaked = None
    for target in args.targets.split(","):
        await bench.start(target)
        try:
            results[target] = await knee(bench, target)
            healthy = results[target][1]
            if target == "full" and args.soak_minutes > 0:
                count = min(healthy["n"], args.soak_candidates or healthy["n"]) if healthy else args.start
                soaked = await soak(bench, count, args.soak_minutes)
                soaked["n"] = count
        finally:
            await bench.stop()
    figures = {}
    for target, (found, healthy, _steps) in results.items():
        top = args.bare_max if target.startswith("bare") and args.bare_max else args.max
        figures[f"knee_{target}"] = found if found is not None else f">{top}"
        figures[f"capacity_{target}"] = healthy["n"] if healthy else 0
    for bare_target, key in RATIOS.items():
        if "full" in results and bare_target in results:
            full, bare = figures["capacity_full"], figures[f"capacity_{bare_target}"]
            figures[key] = f"{full / bare:.2f}" if bare else "n/a"
    if results.get("full") and results["full"][1]:
        healthy = results["full"][1]
        figures["cpu_full_at_capacity"] = f"{healthy['cpu'] * 100:.0f}%"
        figures["thumb_age_p95_ms"] = int((healthy["thumb_p95_s"] or 0) * 1000)
        figures["lag_p95_ms"] = healthy["lag_p95_ms"]
        if detectors := healthy.get("detectors"):
            figures["detector_late_share"] = f"{detectors['late_share']:.3f}"
        # The slope of RSS over the healthy steps: the worker's first candidate also loads
        # codecs and libraries once, which is not a cost per candidate.
        steps = [step for step in results["full"][2] if not failed("full", step)]
        if len(steps) >= 2 and steps[-1]["n"] > steps[0]["n"]:
            marginal = (steps[-1]["rss_mb"] - steps[0]["rss_mb"]) / (steps[-1]["n"] - steps[0]["n"])
        else:
            marginal = healthy["mem_per_candidate_mb"]
        figures["mem_per_candidate_mb"] = f"{marginal:.2f}"
    if soaked:
        figures["soak_n"] = soaked["n"]
        figures["soak_minutes"] = args.soak_minutes
        figures["mem_growth_mb_per_10min"] = f"{soaked['growth_mb_per_10min']:.1f}"
        if soaked["floor_growth_mb_per_10min"] is not None:
            figures["mem_floor_growth_mb_per_10min"] = f"{soaked['floor_growth_mb_per_10min']:.1f}"
    # On a shared machine a pinned process gets only part of its core, and the knee above
    # comes early. CPU seconds per candidate do not depend on that: the core's 90 % (above
    # it the loop lags, issue 8) divided by them is the capacity of an unshared core.
    projected, costs, pool_cost = {}, {}, None
    for target, (_found, _healthy, steps) in results.items():
        usable = [step for step in steps if not failed(target, step)] or steps[:1]
        if usable:
            step = usable[-1]
            cost = costs[target] = step["cpu"] / step["n"]
            projected[target] = int(0.9 / cost) if cost > 0 else 0
            figures[f"cpu_per_candidate_{target}"] = f"{cost * 100:.2f}%"
            if target == "full":
                pool_cost = step["cpu_pool"] / step["n"]
                figures["detector_pool_cpu_per_candidate"] = f"{pool_cost * 100:.2f}%"
            figures[f"projected_{target}"] = projected[target]
            figures["generator_cpu_per_candidate"] = f"{step['generator_cpu'] / step['n'] * 100:.2f}%"
    for bare_target, key in RATIOS.items():
        if projected.get("full") and projected.get(bare_target):
            figures[f"projected_{key}"] = f"{projected['full'] / projected[bare_target]:.2f}"
    for variant in WORKER_VARIANTS:
        if variant != "full" and "full" in costs and variant in costs:
            figures[f"{variant.removeprefix('no_')}_cost"] = f"{(costs['full'] - costs[variant]) * 100:.2f}%"
    # Issue 8's 0.7: what our processing may cost against what it costs at the least.
    if pool_cost is not None:
        floor = thumbnail_floor(media)
        figures["thumbnail_ms_camera"] = f"{floor['camera']:.2f}"
        figures["thumbnail_ms_screen"] = f"{floor['screen']:.2f}"
        figures["thumbnail_floor_per_candidate"] = f"{floor['per_candidate'] * 100:.2f}%"
        # A lower bound of our processing: thumbnails at their cost alone, the detectors' pool
        # as measured, and nothing for recording, hand-overs or the loop's share.
        figures["processing_floor_per_candidate"] = f"{(floor['per_candidate'] + pool_cost) * 100:.2f}%"
    for bare_target, key in RATIOS.items():
        if (budget := processing_budget(costs, bare_target)) is not None:
            figures[f"processing_budget_{key}"] = f"{budget * 100:.2f}%"
    figures["load_avg"] = f"{os.getloadavg()[0]:.1f}"
    print(" ".join(f"{key}={value}" for key, value in figures.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", type=int, default=20)
    parser.add_argument("--step", type=int, default=10)
    parser.add_argument("--max", type=int, default=150)
    parser.add_argument("--bare-max", type=int, default=0, help="bare aiortc's last step (default: --max)")
    parser.add_argument("--hold", type=float, default=12, help="seconds measured at each step")
    parser.add_argument("--soak-minutes", type=float, default=2, help="memory run at capacity (30 for the issue's)")
    parser.add_argument("--soak-candidates", type=int, default=0, help="candidates in the soak (default: capacity)")
    parser.add_argument("--warmup", type=float, default=10, help="seconds before the first step is measured")
    parser.add_argument("--targets", default="full,bare,bare_keyframes,bare_default",
                        help=f"comma-separated, in order, from: {', '.join(TARGETS)}")
    parser.add_argument("--ptime", type=int, default=settings.MEDIA_AUDIO_PTIME_MS or 20,
                        help="Opus packet time in ms (default: what the worker asks of senders, "
                             "MEDIA_AUDIO_PTIME_MS; browsers honour it, see test_media_e2e)")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sparse-rate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--keyframes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if unknown := [target for target in args.targets.split(",") if target not in TARGETS]:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    if args.serve_bare:
        ice_loopback_restrict()
        if args.sparse_rate:  # bare aiortc with the worker's replacement for its bitrate counter
            from invigilate.media.passthrough import aiortc_rate_counter_replace

            aiortc_rate_counter_replace()
        asyncio.run(BareReceiver(keyframes=args.keyframes).serve())
        return
    if not settings.REDIS_URL or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("bench.media needs REDIS_URL and a PostgreSQL DATABASE_URL (the production-like path)")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
