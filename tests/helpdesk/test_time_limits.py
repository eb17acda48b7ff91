from datetime import timedelta

import time_machine
from django.utils import timezone

from invigilate.audit.models import AuditEvent
from invigilate.helpdesk.models import HelpStatus, TechnicianPresence
from invigilate.helpdesk.services import (
    help_request_claim,
    help_requests_sweep_offers,
    help_requests_sweep_unresolved,
    technician_presence_connect,
    technician_presence_disconnect,
    technician_presence_sweep,
    technician_presence_touch,
)
from invigilate.helpdesk.tasks import sweep_offers, sweep_presence, sweep_unresolved

from .conftest import add_technician, ask_help

S = HelpStatus


def test_an_offer_not_claimed_in_time_goes_to_the_next_technician_and_the_supervisors(world):
    world.exam.rules = {"help_claim_timeout_seconds": 30}
    world.exam.save()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = add_technician(world.exam, "tech-one")
        request = ask_help(world.candidate)
        assert request.technician == first
        second = add_technician(world.exam, "tech-two")
        clock.shift(timedelta(seconds=29))
        assert help_requests_sweep_offers() == 0
        clock.shift(timedelta(seconds=2))
        assert sweep_offers.apply().get() == 1
    request.refresh_from_db()
    assert request.status == S.OFFERED and request.technician == second
    assert request.escalated_at and request.escalation_reason == "claim_timeout"
    assert request.passed_over == [first.pk]
    assert AuditEvent.objects.filter(event_type="help.queued", data__reason="claim_timeout").count() == 1


def test_a_lone_technician_is_offered_it_again_after_a_lapse(world):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        technician_presence_connect(user=world.technician)
        request = ask_help(world.candidate)
        clock.shift(timedelta(seconds=61))
        help_requests_sweep_offers()
    request.refresh_from_db()
    assert request.status == S.OFFERED and request.technician == world.technician


def test_a_request_nobody_could_be_offered_is_shown_to_the_supervisors(world):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        request = ask_help(world.candidate)
        clock.shift(timedelta(seconds=61))
        help_requests_sweep_offers()
        help_requests_sweep_offers()  # idempotent
    request.refresh_from_db()
    assert request.status == S.QUEUED and request.escalation_reason == "not_taken"
    assert AuditEvent.objects.filter(event_type="help.escalated").count() == 1


def test_a_request_not_resolved_in_time_escalates_once(world):
    world.exam.rules = {"help_resolve_timeout_minutes": 10}
    world.exam.save()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        technician_presence_connect(user=world.technician)
        request = help_request_claim(request=ask_help(world.candidate), technician=world.technician)
        clock.shift(timedelta(minutes=9))
        assert help_requests_sweep_unresolved() == 0
        clock.shift(timedelta(minutes=2))
        assert sweep_unresolved.apply().get() == 1
        assert help_requests_sweep_unresolved() == 0
    request.refresh_from_db()
    assert request.status == S.CLAIMED and request.escalation_reason == "not_resolved"


def test_a_technician_going_offline_puts_their_offers_back_in_the_queue(world):
    technician_presence_connect(user=world.technician)
    technician_presence_connect(user=world.technician)  # a second console tab
    request = ask_help(world.candidate)
    assert request.status == S.OFFERED
    technician_presence_disconnect(user=world.technician)
    request.refresh_from_db()
    assert request.status == S.OFFERED  # one console is still open
    technician_presence_disconnect(user=world.technician)
    request.refresh_from_db()
    assert request.status == S.QUEUED and request.technician is None


def test_a_silent_console_is_taken_offline_by_the_sweep(world):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        technician_presence_connect(user=world.technician)
        request = ask_help(world.candidate)
        clock.shift(timedelta(seconds=30))
        technician_presence_touch(user=world.technician)
        clock.shift(timedelta(seconds=30))
        assert technician_presence_sweep() == 0
        clock.shift(timedelta(seconds=20))
        assert sweep_presence.apply().get() == 1
    request.refresh_from_db()
    presence = TechnicianPresence.objects.get(user=world.technician)
    assert presence.status == "offline" and presence.connections == 0
    assert request.status == S.QUEUED
