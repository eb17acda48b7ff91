from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from invigilate.audit.models import AuditEvent
from invigilate.audit.services import audit_chain_verify
from invigilate.proctoring.models import Alert
from invigilate.proctoring.services import (
    TRANSITIONS,
    AlertTransitionError,
    alert_acknowledge,
    alert_dismiss,
    alert_escalate,
    alert_resolve,
    alerts_escalate_overdue,
    signal_record,
)


@pytest.fixture
def alert(world):
    return signal_record(registration=world.candidate, kind="page_hidden", source="browser", client_seq=1).alert


def moves(world):
    return {
        "acknowledged": lambda a: alert_acknowledge(alert=a, actor=world.invigilator),
        "resolved": lambda a: alert_resolve(alert=a, actor=world.invigilator),
        "dismissed": lambda a: alert_dismiss(alert=a, actor=world.invigilator, reason="cat walked past"),
        "escalated": lambda a: alert_escalate(alert=a),
    }


def put_in(alert, status):
    Alert.objects.filter(pk=alert.pk).update(status=status)
    alert.refresh_from_db()
    return alert


@pytest.mark.parametrize("start", list(TRANSITIONS))
@pytest.mark.parametrize("target", ["acknowledged", "resolved", "dismissed", "escalated"])
def test_it_allows_exactly_the_moves_of_the_map(world, alert, start, target):
    put_in(alert, start)
    move = moves(world)[target]
    if target in TRANSITIONS[start]:
        moved = move(alert)
        assert moved.status == target
        event = AuditEvent.objects.filter(subject_id=str(alert.pk)).order_by("position").last()
        assert event.data["from"] == start and event.data["to"] == target
    else:
        with pytest.raises(AlertTransitionError):
            move(alert)
        assert Alert.objects.get(pk=alert.pk).status == start


def test_it_records_who_acknowledged_and_their_role(world, alert):
    alert_acknowledge(alert=alert, actor=world.invigilator)
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.invigilator and alert.acknowledged_role == "invigilator"
    assert not alert.acknowledged_on_behalf and alert.acknowledged_at


def test_it_records_a_supervisor_acknowledging_on_behalf_of_the_room(world, alert):
    alert_escalate(alert=alert)
    alert_acknowledge(alert=alert, actor=world.supervisor)
    alert.refresh_from_db()
    assert alert.acknowledged_role == "supervisor" and alert.acknowledged_on_behalf
    event = AuditEvent.objects.get(event_type="alert.acknowledged")
    assert event.actor == world.supervisor and event.data["on_behalf"] is True


def test_it_needs_a_reason_to_dismiss(world, alert):
    with pytest.raises(AlertTransitionError):
        alert_dismiss(alert=alert, actor=world.invigilator, reason="  ")
    alert_dismiss(alert=alert, actor=world.invigilator, reason="Reflection in the window")
    alert.refresh_from_db()
    assert alert.status == "dismissed" and alert.dismiss_reason == "Reflection in the window"


def test_it_refuses_a_second_acknowledgement_from_a_stale_copy(world, alert):
    stale = Alert.objects.get(pk=alert.pk)
    alert_acknowledge(alert=alert, actor=world.invigilator)
    with pytest.raises(AlertTransitionError):
        alert_acknowledge(alert=stale, actor=world.admin)
    assert Alert.objects.get(pk=alert.pk).acknowledged_by == world.invigilator


def test_it_escalates_only_alerts_open_too_long(world):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        old = signal_record(registration=world.candidate, kind="paste", source="browser").alert
        acknowledged = signal_record(registration=world.candidate, kind="copy", source="browser").alert
        alert_acknowledge(alert=acknowledged, actor=world.invigilator)
        clock.shift(timedelta(seconds=45))
        young = signal_record(registration=world.other_candidate, kind="paste", source="browser").alert
        clock.shift(timedelta(seconds=20))
        assert alerts_escalate_overdue() == 1
        assert alerts_escalate_overdue() == 0  # idempotent
    statuses = dict(Alert.objects.values_list("pk", "status"))
    assert statuses == {old.pk: "escalated", acknowledged.pk: "acknowledged", young.pk: "open"}


def test_it_uses_the_exams_own_escalation_delay(world):
    world.exam.rules = {"alert_escalate_after_seconds": 300}
    world.exam.save()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        signal_record(registration=world.candidate, kind="paste", source="browser")
        clock.shift(timedelta(seconds=120))
        assert alerts_escalate_overdue() == 0
        clock.shift(timedelta(seconds=200))
        assert alerts_escalate_overdue() == 1


def test_it_keeps_the_audit_chain_intact(world, alert):
    alert_acknowledge(alert=alert, actor=world.invigilator)
    alert_resolve(alert=alert, actor=world.invigilator)
    assert audit_chain_verify() == []
