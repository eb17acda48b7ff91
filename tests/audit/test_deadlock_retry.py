"""Two transactions that take the same two chain heads in opposite orders deadlock on
PostgreSQL; ``deadlock_retry`` runs the one the database aborted again, and both finish."""

import threading

import pytest
from django.db import OperationalError, ProgrammingError, connection, transaction
from django.db.models import F

from invigilate.audit.models import AuditChain
from invigilate.audit.services import audit_record, deadlock_retry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def opposite_orders(*, retry: bool) -> tuple[list, list]:
    for key in (9101, 9102):
        AuditChain.objects.get_or_create(key=key)
    both_hold_one = threading.Barrier(2, timeout=10)
    calls, failures = [], []

    def transfer(first: int, second: int) -> None:
        def once():
            calls.append(first)
            with transaction.atomic():
                audit_record(event_type="test.first", exam_id=first)
                if len(calls) <= 2:  # the first round: each holds one chain before the other
                    both_hold_one.wait()
                audit_record(event_type="test.second", exam_id=second)

        try:
            deadlock_retry(once) if retry else once()
        except OperationalError as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=transfer, args=order) for order in ((9101, 9102), (9102, 9101))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return calls, failures


def test_without_the_retry_one_side_of_the_deadlock_fails():
    calls, failures = opposite_orders(retry=False)
    assert len(calls) == 2
    assert len(failures) == 1 and failures[0].__cause__.sqlstate == "40P01"


def test_with_the_retry_both_transactions_finish_and_the_chains_hold_all_four_events():
    calls, failures = opposite_orders(retry=True)
    assert failures == []
    assert len(calls) == 3  # one side ran twice
    assert AuditChain.objects.get(key=9101).length == 2
    assert AuditChain.objects.get(key=9102).length == 2


def test_an_error_that_is_not_a_deadlock_is_not_repeated():
    calls = []

    def broken():
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")

    with pytest.raises(ProgrammingError):
        deadlock_retry(broken)
    assert calls == [1]


def chain_hold(key: int) -> None:
    AuditChain.objects.filter(key=key).update(length=F("length"))


def deadlock_timeout_set(value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL deadlock_timeout = '{value}'")


@pytest.mark.parametrize("again", [True, False], ids=["row read again", "object kept"])
def test_a_journey_entry_repeated_after_a_deadlock_starts_from_the_row_not_the_object(again):
    # A deadlock rolls back the exam's opening, but the in-memory registration already says
    # "in exam": unless the repeat reads the row again, the exam never opens.
    from datetime import timedelta

    from django.utils import timezone

    from invigilate.exams.models import Exam, JourneyProgress, Registration
    from invigilate.exams.services import journey_enter
    from tests.personas import make_world

    world = make_world()
    Exam.objects.filter(pk=world.exam.pk).update(starts_at=timezone.now() - timedelta(seconds=1))
    Registration.objects.filter(pk=world.candidate.pk).update(stage=Registration.Stage.WAITING)
    registration = Registration.objects.get(pk=world.candidate.pk)
    for key in (9201, 9202):
        AuditChain.objects.get_or_create(key=key)
    both_hold_one = threading.Barrier(2, timeout=10)
    stages_seen = []

    def other_side():  # waits long before looking for a deadlock: the journey is the victim
        try:
            with transaction.atomic():
                deadlock_timeout_set("10s")
                chain_hold(9202)
                both_hold_one.wait()
                chain_hold(9201)
        finally:
            connection.close()

    def enter():
        stages_seen.append(registration.stage)
        with transaction.atomic():
            journey_enter(registration=registration, session=None)
            if len(stages_seen) == 1:
                deadlock_timeout_set("50ms")
                chain_hold(9201)
                both_hold_one.wait()
                chain_hold(9202)

    thread = threading.Thread(target=other_side)
    thread.start()
    deadlock_retry(enter, again=registration.refresh_from_db if again else None)
    thread.join(30)

    stored = Registration.objects.get(pk=registration.pk).stage
    if again:
        assert stages_seen == [Registration.Stage.WAITING, Registration.Stage.WAITING]
        assert stored == Registration.Stage.IN_EXAM
        assert JourneyProgress.objects.filter(registration=registration).exists()
    else:
        assert stages_seen == [Registration.Stage.WAITING, Registration.Stage.IN_EXAM]
        assert stored == Registration.Stage.WAITING
