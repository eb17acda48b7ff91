"""Packet-copy recording: a segment made from encoded frames is a valid WebM of the right length."""

import fractions
import hashlib
import time
from pathlib import Path

import av
import numpy as np

from invigilate.media.passthrough import EncodedFrame, EncodedTrackHub, vp8_dimensions
from invigilate.media.recording import SegmentRecorder


def vp8_frames(count: int, width: int = 320, height: int = 240, *, keyframes: bool = False) -> list[bytes]:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 10)
    encoder.options = {"deadline": "realtime", "lag-in-frames": "0"}
    frames = []
    for index in range(count):
        frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), index * 5 % 255, np.uint8), format="rgb24")
        frame = frame.reformat(format="yuv420p")
        frame.pts = index
        if keyframes:
            frame.pict_type = av.video.frame.PictureType.I
        frames.append(b"".join(bytes(packet) for packet in encoder.encode(frame)))
    return frames


def opus_packets(count: int) -> list[bytes]:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "mono", "s16"
    packets = []
    for index in range(count):
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 960), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 48000, index * 960
        packets += [bytes(packet) for packet in encoder.encode(frame)]
    return packets


def test_it_records_copied_packets_into_webm_without_opening_encoders(tmp_path):
    video, audio = EncodedTrackHub(kind="video"), EncodedTrackHub(kind="audio")
    frames = vp8_frames(30)
    video.dimensions = vp8_dimensions(frames[0])
    segments = []
    recorder = SegmentRecorder(directory=tmp_path, name="camera-1", video=video, audio=audio, segment_seconds=60,
                               on_segment=lambda **fields: segments.append(fields))
    now = time.monotonic()
    sounds = iter(opus_packets(150))
    for index, data in enumerate(frames):  # 3 s at 10 fps, 5 Opus packets per frame
        for subscriber in video.subscribers:
            subscriber(EncodedFrame(data, index * 9000, 90000, "video", index == 0, now + index / 10))
        for part in range(5):
            packet = next(sounds)
            for subscriber in audio.subscribers:
                subscriber(EncodedFrame(packet, (index * 5 + part) * 960, 48000, "audio", True, now + index / 10))
    assert not recorder.video_stream.codec_context.is_open  # muxing only: no VP8 encoder behind it
    recorder.stop()

    assert len(segments) == 1 and segments[0]["sequence"] == 1
    with av.open(segments[0]["path"]) as container:
        assert container.streams.video[0].codec_context.name == "vp8"
        assert (container.streams.video[0].width, container.streams.video[0].height) == (320, 240)
        assert container.streams.audio[0].codec_context.name == "opus"
        assert sum(1 for _ in container.decode(video=0)) == 30
    assert 2.8 <= segments[0]["duration_seconds"] <= 3.1


def test_a_rotated_segment_is_finished_where_the_worker_says_and_the_first_one_may_be_shorter(tmp_path):
    video = EncodedTrackHub(kind="video")
    frames = vp8_frames(12, keyframes=True)
    video.dimensions = vp8_dimensions(frames[0])
    deferred, segments = [], []
    recorder = SegmentRecorder(
        directory=tmp_path, name="screen-1", video=video, audio=None, segment_seconds=0.45, first_segment_seconds=0.25,
        on_segment=lambda **fields: segments.append(fields), defer=lambda finish, then: deferred.append((finish, then)),
    )
    started = time.monotonic()
    for index, data in enumerate(frames):  # 10 fps, every frame a keyframe: a rotation cuts where it is due
        for subscriber in video.subscribers:
            subscriber(EncodedFrame(data, index * 9000, 90000, "video", True, time.monotonic()))
        time.sleep(max(0.0, started + (index + 1) / 10 - time.monotonic()))

    # Two rotations (at the frames of 0.3 s and 0.8 s: the lengths, 0.25 and 0.45 s, fall
    # halfway between frames, so a late wake-up of this loop cannot move a cut) were handed
    # over, not finished in place.
    assert len(deferred) == 2 and segments == []
    for finish, then in deferred:
        then(**finish())
    recorder.stop()  # the last segment is finished before stop() returns
    assert [segment["sequence"] for segment in segments] == [1, 2, 3]
    durations = [segment["duration_seconds"] for segment in segments]
    assert 0.1 <= durations[0] <= 0.3 and 0.3 <= durations[1] <= 0.5
    decoded = 0
    for segment in segments:
        with av.open(segment["path"]) as container:
            decoded += sum(1 for _ in container.decode(video=0))
        assert hashlib.sha256(Path(segment["path"]).read_bytes()).hexdigest() == segment["sha256"]
        assert Path(segment["path"]).stat().st_size == segment["size_bytes"]
    assert decoded == 12  # every frame kept, in one segment or the next
