"""aiortc peers that act as a candidate's PC and as a focus viewer, for tests and the bench."""

import asyncio
import fractions
import os
import subprocess
import sys
import time
from pathlib import Path

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import AudioStreamTrack
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


class PatternTrack(VideoStreamTrack):
    """A moving test pattern at a chosen size and frame rate."""

    def __init__(self, width: int, height: int, fps: float):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.count = 0
        self.started = None

    async def recv(self):
        if self.started is None:
            self.started = time.monotonic()
        due = self.started + self.count / self.fps
        await asyncio.sleep(max(0, due - time.monotonic()))
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        shade = (self.count * 8) % 256
        for plane, value in zip(frame.planes, (shade, 128, 128), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = int(self.count * 90000 / self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self.count += 1
        return frame


async def candidate_peer(*, camera=(320, 240, 10), screen=(640, 360, 2)):
    """A PC sending camera + microphone + screen, and its offer message for the websocket."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tracks = {}
    for name, track in (("camera", PatternTrack(*camera)), ("microphone", AudioStreamTrack()),
                        ("screen", PatternTrack(*screen))):
        transceiver = pc.addTransceiver(track, direction="sendonly")
        tracks[name] = transceiver
    await pc.setLocalDescription(await pc.createOffer())
    message = {
        "type": "webrtc.offer", "source": "pc", "sdp": pc.localDescription.sdp,
        "tracks": {transceiver.mid: name for name, transceiver in tracks.items()},
    }
    return pc, message


async def viewer_peer():
    """A focus viewer receiving camera, screen and phone video and the microphone."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for _ in range(3):
        pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    received = {}
    pc.on("track", lambda track: received.setdefault(track.kind + str(len(received)), track))
    await pc.setLocalDescription(await pc.createOffer())
    return pc, {"type": "webrtc.offer", "sdp": pc.localDescription.sdp}


async def answer(pc, message):
    await pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type=message["sdp_type"]))


async def wait_connected(pc, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while pc.connectionState != "connected":
        if time.monotonic() > deadline:
            raise TimeoutError(f"peer stuck in {pc.connectionState}")
        await asyncio.sleep(0.05)


def staff_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


class WorkerProcess:
    """``manage.py media_worker`` on the test database, as in production."""

    def __init__(self, *, env: dict[str, str] | None = None):
        self.env = env or {}
        self.process = None

    def start(self, database_url: str) -> "WorkerProcess":
        from django.conf import settings

        self.log_path = Path(settings.VAR_DIR) / f"media-worker-{os.getpid()}-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop)
        environment = {**os.environ, "DATABASE_URL": database_url, "DATABASE_POOL": "0", "PYTHONUNBUFFERED": "1",
                       "MEDIA_ICE_LOOPBACK_ONLY": "1", **self.env}
        self.process = subprocess.Popen([sys.executable, "manage.py", "media_worker"], cwd=ROOT, env=environment,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def output(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
