from datetime import timedelta

import time_machine
from django.utils import timezone

from invigilate.exams.models import Registration
from invigilate.proctoring.models import Alert, Signal
from invigilate.proctoring.services import heartbeat_record, registrations_mark_disconnected


def test_it_marks_a_candidate_disconnected_after_missed_heartbeats_and_keeps_the_gap(world):
    registration = world.candidate
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start = timezone.now()
        assert heartbeat_record(registration=registration) is True  # first heartbeat: connected
        clock.shift(timedelta(seconds=10))
        assert registrations_mark_disconnected() == 0
        clock.shift(timedelta(seconds=6))
        assert registrations_mark_disconnected() == 1
        assert registrations_mark_disconnected() == 0  # idempotent
        registration.refresh_from_db()
        assert not registration.connected and registration.disconnected_since == start
        assert Alert.objects.get(registration=registration).kind == "disconnected"
        clock.shift(timedelta(seconds=30))
        assert heartbeat_record(registration=registration) is True
    registration.refresh_from_db()
    assert registration.connected and registration.disconnected_since is None
    gap = Signal.objects.get(kind="reconnected")
    assert gap.data["gap_seconds"] == 46


def test_it_raises_no_alert_for_a_candidate_who_has_submitted(world):
    Registration.objects.filter(pk=world.candidate.pk).update(stage="submitted")
    world.candidate.refresh_from_db()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        heartbeat_record(registration=world.candidate)
        clock.shift(timedelta(seconds=20))
        assert registrations_mark_disconnected() == 1
    assert not Alert.objects.exists()


def test_it_uses_the_exams_heartbeat_timeout(world):
    world.exam.rules = {"heartbeat_timeout_seconds": 60}
    world.exam.save()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        heartbeat_record(registration=world.candidate)
        clock.shift(timedelta(seconds=30))
        assert registrations_mark_disconnected() == 0
        clock.shift(timedelta(seconds=31))
        assert registrations_mark_disconnected() == 1
