"""Wall thumbnails: small JPEGs made from keyframes, kept briefly, served by an authorising view."""

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import get_script_prefix, reverse

THUMBNAIL_TRACKS = ("camera", "screen", "phone")
THUMBNAIL_SIZE = (320, 240)


def thumbnail_interval(track: str) -> float:
    """Seconds between a track's thumbnails (each one asks the sender for a keyframe): the
    camera's about one a second, the screen's and the phone's slower."""
    return settings.MEDIA_THUMBNAIL_CAMERA_SECONDS if track == "camera" else settings.MEDIA_THUMBNAIL_SCREEN_SECONDS


def thumbnail_path(*, registration_id: int, track: str, taken_ms: int) -> str:
    return f"thumbnails/{registration_id}/{track}/{taken_ms}.jpg"


def thumbnail_url(*, registration_id: int, track: str, taken_ms: int) -> str:
    return _thumbnail_url_stem(registration_id, track, get_script_prefix()) + f"{int(taken_ms)}.jpg"


@lru_cache(maxsize=4096)
def _thumbnail_url_stem(registration_id: int, track: str, script_prefix: str) -> str:
    """A track's thumbnail URL up to its time. The worker names a camera thumbnail every
    second a candidate; ``reverse`` takes ~20 us a call, the cached stem ~2 us."""
    return reverse("media:thumbnail", kwargs={"registration_id": registration_id, "track": track,
                                              "taken_ms": 0}).removesuffix("0.jpg")


_scalers = threading.local()


def _scaler(shape: tuple):
    """FFmpeg's scaler for one (source, target) shape, kept per thread: setting one up costs
    more than scaling a picture with it (0.3 of 0.5 ms for a camera frame, 0.9 of 1.6 ms for a
    screen), and ``VideoFrame.reformat`` sets up a new one for every frame."""
    from av.video.reformatter import VideoReformatter

    scalers = getattr(_scalers, "by_shape", None)
    if scalers is None:
        scalers = _scalers.by_shape = {}
    if shape not in scalers:
        if len(scalers) >= 8:  # a few shapes per process (camera, screen, phone)
            scalers.clear()
        scalers[shape] = VideoReformatter()
    return scalers[shape]


def thumbnail_make(frame, *, size: tuple[int, int] = THUMBNAIL_SIZE, quality: int = 70,
                   summary: bool = False) -> tuple[bytes, dict | None]:
    """The thumbnail JPEG of a decoded ``av.VideoFrame`` and, with ``summary``, the picture's
    ``detectors.picture_summary`` made from the same scaled image (call it in a thread).
    Scaled by FFmpeg straight to OpenCV's pixel order and compressed by libjpeg-turbo, with no
    PIL image between (docs/performance.md)."""
    import cv2

    scale = min(1.0, size[0] / frame.width, size[1] / frame.height)
    width, height = max(2, round(frame.width * scale) // 2 * 2), max(2, round(frame.height * scale) // 2 * 2)
    scaler = _scaler((frame.width, frame.height, frame.format.name, width, height))
    picture = scaler.reformat(frame, width=width, height=height, format="bgr24").to_ndarray()
    jpeg = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
    if not summary:
        return jpeg, None
    from .detectors import picture_summary

    return jpeg, picture_summary(cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY))


def thumbnail_from_keyframe(data: bytes, *, registration_id: int, track: str, taken_at: float,
                            summary: bool = False) -> tuple[bytes, dict | None, int]:
    """Decode one VP8 keyframe (it needs no frame before it), make its thumbnail and store it.
    Returns (JPEG, picture summary or None, taken_ms). Call it in a thread."""
    import av

    decoder = av.CodecContext.create("vp8", "r")
    # One thread: FFmpeg's default starts a thread pool for every new decoder, which cost as
    # much as the decoding itself (one keyframe a decoder).
    decoder.thread_count = 1
    frames = decoder.decode(av.Packet(data))
    if not frames:
        raise ValueError("the keyframe decoded to no picture")
    jpeg, picture = thumbnail_make(frames[0], summary=summary)
    _, taken_ms = thumbnail_store(registration_id=registration_id, track=track, jpeg=jpeg, taken_at=taken_at)
    return jpeg, picture, taken_ms


def thumbnail_store(*, registration_id: int, track: str, jpeg: bytes, taken_at: float | None = None) -> tuple[str, int]:
    """Save one thumbnail (a second one of the same millisecond replaces it); returns
    (storage path, taken_ms)."""
    taken_ms = int((taken_at or time.time()) * 1000)
    path = thumbnail_path(registration_id=registration_id, track=track, taken_ms=taken_ms)
    if isinstance(default_storage, FileSystemStorage):
        _local_write(default_storage, path, jpeg)
    else:
        if default_storage.exists(path):
            default_storage.delete(path)
        default_storage.save(path, ContentFile(jpeg))
    return path, taken_ms


def _local_write(storage: FileSystemStorage, name: str, data: bytes) -> None:
    """One small file written straight through the OS. ``Storage.save`` looks for a free name,
    locks the file and copies it in chunks: 0.68 ms of CPU a thumbnail, as much as decoding
    the camera's keyframe (docs/performance.md), and a thumbnail's name is its own already.
    The storage's permission settings still apply."""
    path = storage.path(name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        descriptor = os.open(path, flags, 0o666)
    except FileNotFoundError:  # the first of its folder (or the folder went: a cleaned disk)
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        if storage.directory_permissions_mode is not None:
            os.chmod(folder, storage.directory_permissions_mode)
        descriptor = os.open(path, flags, 0o666)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
    if storage.file_permissions_mode is not None:
        os.chmod(path, storage.file_permissions_mode)


def thumbnail_purge(*, older_than: timedelta | None = None) -> int:
    """Delete thumbnails older than the keeping time. Returns how many went."""
    older_than = older_than or timedelta(minutes=settings.MEDIA_THUMBNAIL_KEEP_MINUTES)
    cutoff_ms = int((datetime.now(UTC) - older_than).timestamp() * 1000)
    removed = 0
    if not default_storage.exists("thumbnails"):
        return 0
    registrations, _ = default_storage.listdir("thumbnails")
    for registration in registrations:
        for track in THUMBNAIL_TRACKS:
            folder = f"thumbnails/{registration}/{track}"
            if not default_storage.exists(folder):
                continue
            for name in default_storage.listdir(folder)[1]:
                stem = name.removesuffix(".jpg")
                if stem.isdigit() and int(stem) < cutoff_ms:
                    default_storage.delete(f"{folder}/{name}")
                    removed += 1
    return removed
