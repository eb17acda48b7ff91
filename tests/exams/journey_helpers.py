"""Building blocks for the journey's service tests: a candidate moved to a given step."""

import hashlib
import io
from datetime import timedelta

from django.utils import timezone

from invigilate.accounts.models import CandidateSession
from invigilate.exams import services
from invigilate.exams.models import Question, Registration

Stage = Registration.Stage


def add_questions(exam, *, video_answer_seconds=60):
    video = Question.objects.create(exam=exam, position=1, mode="video", prompt="Introduce yourself.",
                                    preparation_seconds=5, answer_seconds=video_answer_seconds)
    text = Question.objects.create(exam=exam, position=2, mode="text", prompt="Write a plan.", answer_seconds=300)
    return video, text


def open_session(registration, *, at=None, key="k1") -> CandidateSession:
    at = at or timezone.now()
    return CandidateSession.objects.create(registration=registration, session_key=key, started_at=at, last_seen_at=at)


def bring_to_exam(registration, *, now=None):
    """Walk a registration through the checks (as the pages would) into the open exam."""
    exam = registration.exam
    now = now or exam.starts_at
    services.registration_stage_set(registration=registration, stage=Stage.DEVICE_CHECK)
    good = {item: {"ok": True} for item in ("browser", "camera", "microphone", "screen", "single_screen")}
    services.device_check_record(registration=registration, results=good, bandwidth_mbps=10.0)
    for stage in (Stage.PHONE_PAIRING, Stage.PAPER_CHECK, Stage.WAITING):
        services.registration_stage_set(registration=registration, stage=stage)
    return services.exam_open_for(registration=registration, now=now)


WEBM_HEAD = b"\x1a\x45\xdf\xa3"


def recording(payload: bytes = WEBM_HEAD + b"webm-bytes" * 100):
    return payload, hashlib.sha256(payload).hexdigest(), len(payload)


def upload_take(registration, *, position: int, take: int, data: bytes, declared_sha256: str | None = None):
    """Send a take's bytes as the page does: one tus upload of the evidence app under the id
    the server derives for (question, take). Returns the upload (rejected if the bytes do not
    hash to ``declared_sha256``)."""
    from invigilate.evidence import services as evidence
    from invigilate.evidence.models import Source
    from invigilate.exams.integrations import answer_recording_id

    uploader = evidence.Uploader(registration=registration, source=Source.PC)
    metadata = {
        "kind": "answer", "seq": "0", "filetype": "video/webm", "final": "1",
        "recording": answer_recording_id(registration_id=registration.pk, position=position, take=take),
        "sha256": declared_sha256 or hashlib.sha256(data).hexdigest(),
    }
    upload, _created = evidence.upload_create(uploader=uploader, length=len(data), metadata=metadata)
    token = evidence.upload_writer_claim(upload=upload, offset=0)
    spool = io.BytesIO(data)
    evidence.upload_part_commit(upload=upload, token=token, start=0, spool=spool, size=len(data))
    try:
        evidence.upload_complete(upload=upload)
    except evidence.TusError:
        pass
    upload.refresh_from_db()
    return upload


def after(moment, **delta):
    return moment + timedelta(**delta)
