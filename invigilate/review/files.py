"""Which stored file an evidence link names, checked against the registration it must belong to.

A link is ``(category, key)``; the resolver of its category loads the row through that app's
model *filtered by the registration*, so a key of another candidate resolves to nothing.
Storage paths never leave the server: the page gets ``review:file`` URLs only.
"""

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.storage import default_storage


@dataclass(frozen=True)
class StoredFile:
    storage_name: str
    content_type: str
    download_name: str
    sha256: str = ""  # what the app recorded when the file arrived ("" if it recorded none)


Resolver = Callable[..., StoredFile | None]
_resolvers: dict[str, Resolver] = {}


def evidence_file_resolver(category: str):
    def decorator(function: Resolver) -> Resolver:
        _resolvers[category] = function
        return function

    return decorator


def evidence_file_resolve(*, registration, category: str, key: str) -> StoredFile | None:
    """The file named by a link if it belongs to ``registration`` and exists in storage."""
    resolver = _resolvers.get(category)
    if resolver is None:
        return None
    stored = resolver(registration=registration, key=key)
    if stored is None or not stored.storage_name or not default_storage.exists(stored.storage_name):
        return None
    return stored


def _guess(name: str, default: str = "application/octet-stream") -> str:
    return mimetypes.guess_type(name)[0] or default


def _int(key: str) -> int | None:
    return int(key) if key.isdigit() else None


@evidence_file_resolver("segment")
def _media_segment(*, registration, key: str) -> StoredFile | None:
    from invigilate.media.models import RecordingSegment

    segment = RecordingSegment.objects.filter(registration=registration, pk=_int(key)).first() if _int(key) else None
    if segment is None:
        return None
    return StoredFile(segment.path, "video/webm", f"server-{segment.track}-{segment.sequence:05d}.webm", segment.sha256)


@evidence_file_resolver("upload")
def _evidence_upload(*, registration, key: str) -> StoredFile | None:
    from invigilate.evidence.models import Upload

    if not re.fullmatch(r"[0-9a-f-]{36}", key):
        return None
    upload = (Upload.objects.select_related("recording")
              .filter(registration=registration, pk=key, status=Upload.Status.COMPLETE).first())
    if upload is None:
        return None
    extension = mimetypes.guess_extension(upload.content_type.split(";")[0]) or ".webm"
    name = f"{upload.recording.kind}-{upload.recording_id}-{upload.seq:05d}{extension}"
    return StoredFile(upload.file_name, upload.content_type.split(";")[0] or "video/webm", name, upload.sha256)


@evidence_file_resolver("paper")
def _paper_snapshot(*, registration, key: str) -> StoredFile | None:
    from invigilate.exams.models import PaperSnapshot

    snapshot = PaperSnapshot.objects.filter(registration=registration, pk=_int(key)).first() if _int(key) else None
    if snapshot is None or not snapshot.image:
        return None
    return StoredFile(snapshot.image.name, _guess(snapshot.image.name, "image/jpeg"),
                      f"paper-{snapshot.side}{_suffix(snapshot.image.name)}")


@evidence_file_resolver("identity")
def _identity_photo(*, registration, key: str) -> StoredFile | None:
    from invigilate.exams.models import IdentityAttempt

    attempt = IdentityAttempt.objects.filter(registration=registration, pk=_int(key)).first() if _int(key) else None
    if attempt is None or not attempt.photo:
        return None
    return StoredFile(attempt.photo.name, _guess(attempt.photo.name, "image/jpeg"),
                      f"identity-{attempt.pk}{_suffix(attempt.photo.name)}")


@evidence_file_resolver("registered_photo")
def _registered_photo(*, registration, key: str) -> StoredFile | None:
    photo = registration.candidate.photo
    if key != "photo" or not photo:
        return None
    return StoredFile(photo.name, _guess(photo.name, "image/jpeg"), f"registered-photo{_suffix(photo.name)}")


@evidence_file_resolver("answer")
def _answer_recording(*, registration, key: str) -> StoredFile | None:
    from invigilate.exams.models import Answer

    answer = (Answer.objects.select_related("question").filter(registration=registration, pk=_int(key)).first()
              if _int(key) else None)
    if answer is None or not answer.recording or not answer.recording_verified:
        return None
    return StoredFile(answer.recording.name, _guess(answer.recording.name, "video/webm"),
                      f"answer-q{answer.question.position}-take{answer.take}{_suffix(answer.recording.name)}",
                      answer.recording_sha256)


@evidence_file_resolver("detection")
def _detector_snapshot(*, registration, key: str) -> StoredFile | None:
    from invigilate.proctoring.models import Signal

    signal = Signal.objects.filter(registration=registration, pk=_int(key)).first() if _int(key) else None
    snapshot = (signal.data or {}).get("snapshot") if signal else None
    # The detector names its files after the registration; anything else is not this candidate's.
    if not isinstance(snapshot, str) or not snapshot.startswith(f"detections/{registration.pk}/"):
        return None
    return StoredFile(snapshot, "image/jpeg", f"detection-{signal.kind}-{signal.pk}.jpg")


@evidence_file_resolver("thumbnail")
def _thumbnail(*, registration, key: str) -> StoredFile | None:
    from invigilate.media.thumbnails import THUMBNAIL_TRACKS, thumbnail_path

    track, _, taken_ms = key.partition("-")
    if track not in THUMBNAIL_TRACKS or not taken_ms.isdigit():
        return None
    path = thumbnail_path(registration_id=registration.pk, track=track, taken_ms=int(taken_ms))
    return StoredFile(path, "image/jpeg", f"thumbnail-{track}-{taken_ms}.jpg")


def _suffix(name: str) -> str:
    match = re.search(r"\.[A-Za-z0-9]{1,5}$", name)
    return match.group(0) if match else ""
