"""A phone that goes silent while the exam runs is noticed by the server's sweep, alerted once
per silence, shown on the invigilator's tile, and cleared when the phone is heard again."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from invigilate.audit.models import AuditEvent
from invigilate.evidence import services, tasks
from invigilate.evidence.models import Interruption, PhoneDevice
from invigilate.evidence.services import Uploader
from invigilate.exams.models import Registration
from invigilate.proctoring.fragments import tile_message
from invigilate.proctoring.models import Alert, Signal

pytestmark = pytest.mark.django_db

RECORDING = str(uuid.uuid4())


@pytest.fixture
def phone_recording(world):
    """The exam started a minute ago; the candidate is in it and the phone records."""
    world.exam.starts_at = timezone.now() - timedelta(minutes=1)
    world.exam.save()
    Registration.objects.filter(pk=world.candidate.pk).update(stage=Registration.Stage.IN_EXAM)
    world.candidate.refresh_from_db()
    now = timezone.now()
    phone = PhoneDevice.objects.create(registration=world.candidate, session_key="k", paired_at=now, last_seen_at=now)
    uploader = Uploader(registration=world.candidate, source="phone", phone=phone)
    services.recording_report(uploader=uploader, kind="phone", client_id=RECORDING, last_seq=3)
    return uploader


def test_the_sweep_is_scheduled():
    assert settings.CELERY_BEAT_SCHEDULE["evidence-phone-silence"]["task"] == "evidence.phone_silence_sweep"


def test_it_alerts_once_per_silence_and_clears_when_the_phone_is_heard_again(world, phone_recording):
    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=20), tick=False):
        assert tasks.phone_silence_sweep() == 0  # under phone_silent_seconds (30)
    with time_machine.travel(start + timedelta(seconds=40), tick=False):
        assert tasks.phone_silence_sweep() == 1
        assert tasks.phone_silence_sweep() == 0  # the same silence: nothing new
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        assert tasks.phone_silence_sweep() == 0  # still the same silence

    alert = Alert.objects.get(registration=world.candidate)
    assert alert.kind == "phone_interrupted" and alert.count == 1 and alert.severity == "high"
    signal = Signal.objects.get(registration=world.candidate, kind="phone_interrupted")
    assert signal.source == "server" and signal.data["reason"] == "phone_silent"
    silence = Interruption.objects.get(registration=world.candidate)
    assert silence.reason == "phone_silent" and silence.source == "phone" and silence.ended_at is None
    room = world.candidate.room
    assert "Phone silent since" in tile_message(room=room, registration_id=world.candidate.pk)["html"]

    with time_machine.travel(start + timedelta(seconds=100), tick=False):
        services.recording_report(uploader=phone_recording, kind="phone", client_id=RECORDING, last_seq=20)
    silence.refresh_from_db()
    assert silence.ended_at is not None and 95 < silence.duration_seconds < 105
    resumed = Signal.objects.get(registration=world.candidate, kind="phone_resumed")
    assert resumed.alert_id is None and resumed.data["gap_seconds"] == round(silence.duration_seconds)
    assert "Phone silent since" not in tile_message(room=room, registration_id=world.candidate.pk)["html"]
    assert list(AuditEvent.objects.filter(event_type__startswith="evidence.phone_").values_list(
        "event_type", flat=True).order_by("pk")) == ["evidence.phone_silent", "evidence.phone_heard_again"]

    # Silent again later: a new episode, alerted again.
    with time_machine.travel(start + timedelta(seconds=140), tick=False):
        assert tasks.phone_silence_sweep() == 1
    assert Interruption.objects.filter(registration=world.candidate, ended_at__isnull=True).count() == 1


def test_it_says_nothing_once_the_exam_is_over_or_the_phone_ended_its_recording(world, phone_recording):
    later = world.exam.ends_at + timedelta(seconds=60)
    with time_machine.travel(later, tick=False):
        assert tasks.phone_silence_sweep() == 0
    services.recording_report(uploader=phone_recording, kind="phone", client_id=RECORDING, last_seq=4, ended=True)
    with time_machine.travel(timezone.now() + timedelta(seconds=60), tick=False):
        assert tasks.phone_silence_sweep() == 0
    assert not Alert.objects.exists()


def test_a_candidate_without_a_recording_phone_is_not_a_silent_phone(world):
    world.exam.starts_at = timezone.now() - timedelta(minutes=1)
    world.exam.save()
    Registration.objects.filter(pk=world.candidate.pk).update(stage=Registration.Stage.IN_EXAM)
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        assert tasks.phone_silence_sweep() == 0
