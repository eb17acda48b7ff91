"""Whole-exam recording by copying received packets into WebM segments (never re-encoding).

A ``SegmentRecorder`` subscribes to encoded-frame hubs (camera + microphone in one file,
the screen in another), starts each segment on a video keyframe, and rotates every
``MEDIA_RECORDING_SEGMENT_SECONDS``. A closed segment's SHA-256 goes into the audit chain.

Closing a segment (the container's trailer, then reading the file back for its SHA-256) is
the one slow step: a few milliseconds per file, and every candidate who joined in the same
minute rotates in the same second. A recorder given ``defer`` hands that step to it (the
worker runs it in a thread and reports on the loop), and ``first_segment_seconds`` lets the
worker spread the first rotation of candidates who joined together.
"""

import functools
import hashlib
import io
import logging
import os
import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av

from .passthrough import EncodedFrame, EncodedTrackHub

logger = logging.getLogger(__name__)

# RFC 7845 5.1 identification header (mono, 48 kHz, 312 samples of pre-skip as libopus uses).
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 312, 48000, 0, 0)


@lru_cache(maxsize=32)
def stream_templates(width: int, height: int):
    """A VP8 stream of this size and an Opus stream, read back from a tiny WebM made once:
    templates whose codec parameters new files copy without opening any codec."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as out:
        video = out.add_stream("libvpx", rate=30)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("libopus", rate=48000, layout="mono")
        audio.codec_context.extradata = OPUS_HEAD
        frame = av.VideoFrame(width, height, "yuv420p")
        frame.pts = 0
        silence = av.AudioFrame(format="s16", layout="mono", samples=960)
        for plane in silence.planes:
            plane.update(bytes(plane.buffer_size))
        silence.sample_rate, silence.pts = 48000, 0
        out.mux([*video.encode(frame), *video.encode(None), *audio.encode(silence), *audio.encode(None)])
    buffer.seek(0)
    source = av.open(buffer, "r", format="webm")
    _keep_open.append(source)  # the templates' streams live as long as their container
    return source.streams.video[0], source.streams.audio[0]


_keep_open: list = []


class SegmentRecorder:
    """Writes one device track group (e.g. camera + microphone) into successive WebM files.

    ``on_segment(path, sequence, started_at, ended_at, duration, size, sha256)`` is called
    for each finished file; the caller records it (a database write, off the event loop).
    ``defer(finish, then)``, if given, runs ``then(**finish())`` later and elsewhere for a
    segment closed by rotation; ``stop()`` always finishes its segment before it returns.
    """

    def __init__(self, *, directory: Path, name: str, video: EncodedTrackHub, audio: EncodedTrackHub | None,
                 segment_seconds: float, on_segment: Callable[..., None],
                 first_segment_seconds: float | None = None,
                 defer: Callable[[Callable[[], dict], Callable[..., None]], None] | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.video = video
        self.audio = audio
        self.segment_seconds = segment_seconds
        self.first_segment_seconds = first_segment_seconds or segment_seconds
        self.on_segment = on_segment
        self.defer = defer
        self.sequence = 0
        self.container = None
        self.path: Path | None = None
        self.started_wall: float = 0
        self.started_monotonic: float = 0
        self.length = self.first_segment_seconds  # of the segment being written
        self.rotate_requested = False
        self.video_stream = self.audio_stream = None
        self.video_origin: int | None = None
        self.audio_origin: int | None = None
        self.last_video_pts = -1
        self.last_audio_pts = -1
        self.bytes_written = 0
        self._unsubscribe = [video.subscribe(self._on_video)]
        if audio is not None:
            self._unsubscribe.append(audio.subscribe(self._on_audio))

    def _open(self, frame: EncodedFrame) -> None:
        self.sequence += 1
        self.path = self.directory / f"{self.name}-{self.sequence:05d}.webm"
        self.container = av.open(str(self.path), "w", format="webm")
        video, audio = stream_templates(*(self.video.dimensions or (640, 480)))
        # From templates: a stream made with add_stream("libvpx") opens a VP8 *encoder* when
        # the file starts (~24 MB for 1280x720, per segment, never used: we only mux).
        self.video_stream = self.container.add_stream_from_template(video)
        self.video_stream.time_base = Fraction(1, 1000)
        if self.audio is not None:
            self.audio_stream = self.container.add_stream_from_template(audio)
            self.audio_stream.time_base = Fraction(1, 1000)
        self.length = self.first_segment_seconds if self.sequence == 1 else self.segment_seconds
        self.started_wall = time.time()
        self.started_monotonic = time.monotonic()
        self.video_origin = frame.timestamp
        self.audio_origin = None
        self.last_video_pts = self.last_audio_pts = -1
        self.rotate_requested = False

    def _mux(self, stream, data: bytes, pts_ms: int, keyframe: bool) -> None:
        packet = av.Packet(data)
        packet.stream = stream
        packet.time_base = Fraction(1, 1000)
        packet.pts = packet.dts = pts_ms
        packet.is_keyframe = keyframe
        self.container.mux(packet)

    def _on_video(self, frame: EncodedFrame) -> None:
        if self.container is not None and not self.rotate_requested and (
            time.monotonic() - self.started_monotonic >= self.length
        ):
            self.rotate_requested = True
            self.video.request_keyframe()
        if self.container is None or (self.rotate_requested and frame.keyframe):
            if not frame.keyframe:
                self.video.request_keyframe()
                return
            self._close(defer=self.defer)
            self._open(frame)
        pts = (frame.timestamp - self.video_origin) * 1000 // frame.clock_rate
        if pts <= self.last_video_pts:  # a repeated or reordered timestamp: WebM needs monotonic
            pts = self.last_video_pts + 1
        self.last_video_pts = pts
        self._write(self.video_stream, frame, pts)

    def _on_audio(self, frame: EncodedFrame) -> None:
        if self.container is None:
            return
        if self.audio_origin is None:
            # Align audio to the segment's start on the wall clock (separate RTP clocks).
            offset_ms = int((frame.received_at - self.started_monotonic) * 1000)
            self.audio_origin = frame.timestamp - offset_ms * frame.clock_rate // 1000
        pts = (frame.timestamp - self.audio_origin) * 1000 // frame.clock_rate
        if pts <= self.last_audio_pts:
            pts = self.last_audio_pts + 1
        self.last_audio_pts = pts
        self._write(self.audio_stream, frame, max(pts, 0))

    def _write(self, stream, frame: EncodedFrame, pts: int) -> None:
        try:
            self._mux(stream, frame.data, pts, frame.keyframe)
            self.bytes_written += len(frame.data)
        except av.FFmpegError:
            logger.exception("muxing into %s failed", self.path)

    def _close(self, *, defer=None) -> None:
        if self.container is None:
            return
        container, path, self.container = self.container, self.path, None
        fields = {
            "path": str(path), "sequence": self.sequence,
            "started_at": datetime.fromtimestamp(self.started_wall, UTC),
            "ended_at": datetime.fromtimestamp(time.time(), UTC),
            "duration_seconds": max(self.last_video_pts, self.last_audio_pts, 0) / 1000,
        }
        finish = functools.partial(segment_finish, container, path, fields)
        if defer is None:
            self.on_segment(**finish())
        else:
            defer(finish, self.on_segment)

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._close()


def segment_finish(container, path: Path, fields: dict) -> dict:
    """Write the segment's trailer, then read it back for its size and SHA-256 (any thread:
    the container is no longer the recorder's)."""
    container.close()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {**fields, "size_bytes": os.path.getsize(path), "sha256": digest.hexdigest()}
