"""Wall thumbnails: small JPEGs made from keyframes, kept briefly, served by an authorising view."""

import io
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

THUMBNAIL_TRACKS = ("camera", "screen", "phone")
THUMBNAIL_SIZE = (320, 240)


def thumbnail_path(*, registration_id: int, track: str, taken_ms: int) -> str:
    return f"thumbnails/{registration_id}/{track}/{taken_ms}.jpg"


def thumbnail_url(*, registration_id: int, track: str, taken_ms: int) -> str:
    return reverse("media:thumbnail", kwargs={"registration_id": registration_id, "track": track, "taken_ms": taken_ms})


def thumbnail_make(frame, *, size: tuple[int, int] = THUMBNAIL_SIZE, quality: int = 70,
                   summary: bool = False) -> tuple[bytes, dict | None]:
    """The thumbnail JPEG of a decoded ``av.VideoFrame`` and, with ``summary``, the picture's
    ``detectors.picture_summary`` made from the same scaled image (call it in a thread)."""
    scale = min(1.0, size[0] / frame.width, size[1] / frame.height)
    width, height = max(2, round(frame.width * scale) // 2 * 2), max(2, round(frame.height * scale) // 2 * 2)
    buffer = io.BytesIO()
    image = frame.reformat(width=width, height=height, format="rgb24").to_image()
    image.save(buffer, format="JPEG", quality=quality)
    if not summary:
        return buffer.getvalue(), None
    from .detectors import picture_summary

    return buffer.getvalue(), picture_summary(image.convert("L"))


def thumbnail_from_keyframe(data: bytes, *, registration_id: int, track: str, taken_at: float,
                            summary: bool = False) -> tuple[bytes, dict | None, int]:
    """Decode one VP8 keyframe (it needs no frame before it), make its thumbnail and store it.
    Returns (JPEG, picture summary or None, taken_ms). Call it in a thread."""
    import av

    decoder = av.CodecContext.create("vp8", "r")
    frames = decoder.decode(av.Packet(data))
    if not frames:
        raise ValueError("the keyframe decoded to no picture")
    jpeg, picture = thumbnail_make(frames[0], summary=summary)
    _, taken_ms = thumbnail_store(registration_id=registration_id, track=track, jpeg=jpeg, taken_at=taken_at)
    return jpeg, picture, taken_ms


def thumbnail_store(*, registration_id: int, track: str, jpeg: bytes, taken_at: float | None = None) -> tuple[str, int]:
    """Save one thumbnail; returns (storage path, taken_ms)."""
    taken_ms = int((taken_at or time.time()) * 1000)
    path = thumbnail_path(registration_id=registration_id, track=track, taken_ms=taken_ms)
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(jpeg))
    return path, taken_ms


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
