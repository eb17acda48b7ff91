import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from invigilate.audit.models import AuditEvent
from invigilate.audit.services import audit_chain_verify, audit_record


def _three_events(exam_id=7):
    with transaction.atomic():
        for index in range(3):
            audit_record(event_type="test.event", exam_id=exam_id, data={"index": index})


def test_it_chains_events_per_exam(db):
    _three_events(7)
    _three_events(8)
    events = list(AuditEvent.objects.filter(chain=7).order_by("position"))
    assert [e.position for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert audit_chain_verify() == []


def test_a_rolled_back_change_leaves_no_audit_row(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(event_type="test.event", exam_id=7)
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("tamper", ["edit", "delete_middle", "delete_last", "reorder"])
def test_verify_audit_names_the_first_broken_link(db, tamper, capsys):
    _three_events(7)
    first, second, third = AuditEvent.objects.filter(chain=7).order_by("position")
    if tamper == "edit":
        AuditEvent.objects.filter(pk=second.pk).update(data={"index": 99})
        expected = "position 2: content does not match"
    elif tamper == "delete_middle":
        second.delete()
        expected = "position 2: missing row"
    elif tamper == "delete_last":
        third.delete()
        expected = "position 3: rows missing at the end"
    else:
        AuditEvent.objects.filter(pk=second.pk).update(position=99)
        AuditEvent.objects.filter(pk=third.pk).update(position=2)
        AuditEvent.objects.filter(pk=second.pk).update(position=3)
        expected = "position 2: predecessor hash does not match"
    with pytest.raises(CommandError):
        call_command("verify_audit")
    assert f"chain 7: broken at {expected}" in capsys.readouterr().err


def test_verify_audit_reports_an_intact_chain(db, capsys):
    _three_events(7)
    call_command("verify_audit")
    assert "audit chain intact: 1 chain(s), 3 event(s)" in capsys.readouterr().out
