"""Evidence for a reviewed candidate, made through the apps' own services where they exist."""

import hashlib
import subprocess
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from invigilate.evidence.models import Recording, RecordingKind, Source, Upload
from invigilate.media.models import RecordingGap
from invigilate.media.services import recording_segment_record
from invigilate.proctoring.models import Alert
from invigilate.proctoring.services import flag_add, note_add, signal_record

# A JPEG's first bytes are enough for the browser and the range tests; its content is not judged.
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


def webm_clip(path: Path, *, seconds: int = 2, size: str = "160x120") -> bytes:
    """A real, playable VP8 WebM made by ffmpeg from its test pattern."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=10:duration={seconds}",
         "-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime", "-cpu-used", "8", str(path)],
        check=True, timeout=60,
    )
    return path.read_bytes()


@dataclass
class Reviewed:
    alert: Alert
    segment_id: int
    upload_id: str
    detection_signal_id: int
    webm: bytes
    storage_names: list[str]

    def cleanup(self) -> None:
        for name in self.storage_names:
            if default_storage.exists(name):
                default_storage.delete(name)


def make_reviewed_candidate(*, world, webm: bytes) -> Reviewed:
    """The world's candidate with a detector alert (and its snapshot), an invigilator's note and
    flag, a server recording segment, a client recording segment and a recording gap."""
    registration = world.candidate
    now = timezone.now()
    tag = uuid.uuid4().hex[:8]
    snapshot = default_storage.save(f"detections/{registration.pk}/multiple_faces-{tag}.jpg", ContentFile(JPEG))
    signal = signal_record(registration=registration, kind="multiple_faces", source="detector",
                           data={"snapshot": snapshot, "faces": 2})
    alert = Alert.objects.get(pk=signal.alert_id)
    note_add(registration=registration, actor=world.invigilator, text="Someone walked behind the candidate")
    flag_add(registration=registration, actor=world.invigilator, text="Please look at 10:02", alert=alert)

    segment_name = default_storage.save(f"recordings/{registration.pk}/camera-{tag}-00001.webm", ContentFile(webm))
    started = signal.received_at - timedelta(seconds=1)
    segment = recording_segment_record(
        registration_id=registration.pk, peer_id=None, track="camera", sequence=1, path=segment_name,
        started_at=started, ended_at=started + timedelta(seconds=2), duration_seconds=2, size_bytes=len(webm),
        sha256=hashlib.sha256(webm).hexdigest(),
    )
    recording = Recording.objects.create(
        registration=registration, kind=RecordingKind.PC_SCREEN, source=Source.PC, client_id=tag, started_at=started,
        segment_seconds=2, last_seq=0, final_seq=0, last_heard_at=now,
    )
    upload_name = default_storage.save(f"evidence/{registration.pk}/{tag}-0.webm", ContentFile(webm))
    upload = Upload.objects.create(
        registration=registration, recording=recording, source=Source.PC, seq=0, client_started_at=started,
        duration_ms=2000, content_type="video/webm", length=len(webm), offset=len(webm),
        declared_sha256=hashlib.sha256(webm).hexdigest(), sha256=hashlib.sha256(webm).hexdigest(),
        status=Upload.Status.COMPLETE, created_at=now, expires_at=now + timedelta(days=1), completed_at=now,
        file_name=upload_name,
    )
    RecordingGap.objects.create(registration=registration, source="pc", started_at=now + timedelta(seconds=5),
                                ended_at=now + timedelta(seconds=35), reason="worker_lost")
    return Reviewed(alert, segment.pk, str(upload.pk), signal.pk, webm, [snapshot, segment_name, upload_name])
