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


def recording(payload: bytes = b"webm-bytes" * 100):
    return payload, hashlib.sha256(payload).hexdigest(), len(payload)


def stream(data: bytes):
    return io.BytesIO(data)


def after(moment, **delta):
    return moment + timedelta(**delta)
