from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from invigilate.audit.models import AuditEvent
from invigilate.proctoring.models import Alert, Signal
from invigilate.proctoring.services import SignalRejected, signal_record


def test_it_raises_a_numbered_alert_with_a_sentence(world):
    signal = signal_record(registration=world.candidate, kind="focus_lost", source="browser", client_seq=1)
    alert = signal.alert
    assert alert.sequence == 1 and alert.status == "open" and alert.severity == "medium"
    assert "exam window" in alert.sentence
    assert AuditEvent.objects.filter(event_type="alert.raised", subject_id=str(alert.pk)).exists()


def test_it_ignores_a_replayed_sequence_number(world):
    first = signal_record(registration=world.candidate, kind="copy", source="browser", client_seq=7, client_id="a")
    again = signal_record(registration=world.candidate, kind="copy", source="browser", client_seq=7, client_id="a")
    assert first is not None and again is None
    assert Signal.objects.count() == 1 and Alert.objects.get().count == 1
    # A new page load (another client id) numbers from 1 again and is not a replay.
    assert signal_record(registration=world.candidate, kind="copy", source="browser", client_seq=7, client_id="b")


def test_it_folds_repeats_within_the_window_and_raises_anew_after_it(world):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            signal_record(registration=world.candidate, kind="no_face", source="detector")
            clock.shift(timedelta(seconds=30))
        alert = Alert.objects.get()
        assert alert.count == 3 and alert.severity == "high"
        assert alert.last_seen_at > alert.first_seen_at
        clock.shift(timedelta(minutes=3))
        signal_record(registration=world.candidate, kind="no_face", source="detector")
    assert list(Alert.objects.order_by("sequence").values_list("sequence", "count")) == [(1, 3), (2, 1)]


def test_it_does_not_fold_different_kinds_or_candidates(world):
    signal_record(registration=world.candidate, kind="no_face", source="detector")
    signal_record(registration=world.candidate, kind="speech", source="detector")
    signal_record(registration=world.other_candidate, kind="no_face", source="detector")
    assert sorted(Alert.objects.values_list("sequence", flat=True)) == [1, 2, 3]


def test_it_gives_an_unknown_kind_a_generic_medium_alert(world):
    alert = signal_record(registration=world.candidate, kind="phone_battery_low", source="detector").alert
    assert alert.severity == "medium" and "phone_battery_low" in alert.sentence


def test_it_keeps_quiet_kinds_on_the_timeline_only(world):
    signal = signal_record(registration=world.candidate, kind="focus_gained", source="browser", client_seq=2,
                           data={"away_ms": 3200})
    assert signal.alert is None and Alert.objects.count() == 0


def test_it_keeps_the_detectors_evidence_reference(world):
    alert = signal_record(registration=world.candidate, kind="multiple_faces", source="detector",
                          data={"snapshot": "snapshots/1/abc.jpg", "faces": 2}).alert
    assert alert.data == {"snapshot": "snapshots/1/abc.jpg"}


@pytest.mark.parametrize("bad", [
    {"kind": "Focus Lost"}, {"kind": ""}, {"kind": "x" * 60}, {"source": "candidate"},
    {"data": ["not", "a", "dict"]}, {"client_seq": -1},
])
def test_it_rejects_malformed_signals(world, bad):
    arguments = {"registration": world.candidate, "kind": "copy", "source": "browser", **bad}
    with pytest.raises(SignalRejected):
        signal_record(**arguments)


def test_it_numbers_alerts_per_exam_without_gaps(world):
    from invigilate.exams.models import ExamRoom
    from tests.personas import make_exam, make_registration

    other_exam = make_exam(title="Other")
    room = ExamRoom.objects.create(exam=other_exam, name="Z")
    elsewhere, _ = make_registration(exam=other_exam, room=room, seat=1)
    kinds = ["copy", "paste", "cut", "speech"]
    for kind in kinds:
        signal_record(registration=world.candidate, kind=kind, source="browser")
        signal_record(registration=elsewhere, kind=kind, source="browser")
    for exam in (world.exam, other_exam):
        assert sorted(Alert.objects.filter(exam=exam).values_list("sequence", flat=True)) == [1, 2, 3, 4]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_signal_caught_in_a_deadlock_with_an_audit_append_is_recorded_on_the_repeat():
    # A transaction holds the exam's audit chain and then wants this candidate's alert lock,
    # while the signal holds that lock and waits for the chain: PostgreSQL aborts the signal's
    # transaction (its deadlock check comes first), and the repeat records it.
    import threading
    import time

    from django.db import connection, transaction
    from django.db.models import F

    from invigilate.audit.models import AuditChain
    from invigilate.proctoring.services import ALERT_LOCK_NAMESPACE
    from tests.personas import make_world

    world = make_world()
    AuditChain.objects.get_or_create(key=world.exam.pk)
    holding = threading.Event()

    def deadlocks() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            return cursor.fetchone()[0]

    def other_side():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '10s'")
                AuditChain.objects.filter(key=world.exam.pk).update(length=F("length"))
                holding.set()
                time.sleep(0.5)  # the signal takes the candidate's lock, then waits for the chain
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ALERT_LOCK_NAMESPACE, world.candidate.pk])
        finally:
            connection.close()

    before = deadlocks()
    thread = threading.Thread(target=other_side)
    thread.start()
    assert holding.wait(10)
    signal = signal_record(registration=world.candidate, kind="focus_lost", source="browser", client_seq=1)
    thread.join(30)

    time.sleep(0.6)  # the statistics collector's counters trail by up to half a second
    assert deadlocks() == before + 1
    assert Signal.objects.get().pk == signal.pk and signal.alert.sequence == 1
    assert AuditEvent.objects.filter(event_type="alert.raised", subject_id=str(signal.alert.pk)).count() == 1
