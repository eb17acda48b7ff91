"""New alerts of one exam raised at the same moment: numbered without gaps or duplicates."""

import pytest

from invigilate.audit.models import AuditEvent
from invigilate.audit.services import audit_chain_verify
from invigilate.exams.models import Registration
from invigilate.proctoring.models import Alert, Signal
from invigilate.proctoring.services import signal_record
from tests.personas import make_registration
from tests.racing import race

pytestmark = pytest.mark.postgres

RACERS = 12


@pytest.fixture
def candidates(live_world):
    return [make_registration(exam=live_world.exam, room=[live_world.room_a, live_world.room_b][n % 2], seat=100 + n)[0] for n in range(RACERS)]


def test_racing_new_alerts_of_one_exam_get_numbers_without_gaps(candidates):
    for round_number in range(3):
        kind = ["copy", "paste", "focus_lost"][round_number]
        results = race(RACERS, lambda i, kind=kind, seq=round_number: signal_record(
            registration=Registration.objects.get(pk=candidates[i].pk), kind=kind, source="browser",
            client_seq=seq, client_id="racer"))
        assert all(isinstance(result, Signal) for result in results), results
    exam_id = candidates[0].exam_id
    numbers = sorted(Alert.objects.filter(exam_id=exam_id).values_list("sequence", flat=True))
    assert numbers == list(range(1, 3 * RACERS + 1))
    # Each signal points at its own alert, and each raise left one audit entry with its number.
    assert Signal.objects.filter(registration__exam_id=exam_id, alert__isnull=True).count() == 0
    raised = AuditEvent.objects.filter(chain=exam_id, event_type="alert.raised")
    assert sorted(event.data["sequence"] for event in raised) == numbers
    assert audit_chain_verify(chain=exam_id) == []


def test_a_racing_copy_of_a_signal_neither_raises_twice_nor_spends_a_number(candidates):
    registration = candidates[0]
    results = race(6, lambda i: signal_record(
        registration=Registration.objects.get(pk=registration.pk), kind="copy", source="browser",
        client_seq=1, client_id="same-page"))
    assert sum(isinstance(result, Signal) for result in results) == 1, results
    assert sum(result is None for result in results) == 5, results
    assert list(Alert.objects.filter(registration=registration).values_list("sequence", "count")) == [(1, 1)]
    # The next new alert of the exam takes number 2: the losers gave nothing away.
    second = signal_record(registration=candidates[1], kind="paste", source="browser")
    assert second.alert.sequence == 2
    assert audit_chain_verify(chain=registration.exam_id) == []
