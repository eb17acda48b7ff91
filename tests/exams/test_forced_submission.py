"""The periodic sweep that force-submits everyone still in an ended exam."""

import pytest
import time_machine
from django.conf import settings

from invigilate.audit.models import AuditEvent
from invigilate.exams import services
from invigilate.exams.models import Registration, Submission
from invigilate.exams.tasks import completion_sweep, force_submission_sweep
from tests.exams.journey_helpers import add_questions, after, bring_to_exam
from tests.personas import make_registration

Stage = Registration.Stage


@pytest.fixture
def three_in_exam(world):
    add_questions(world.exam)
    extra, _ = make_registration(exam=world.exam, room=world.room_a, seat=2)
    registrations = [world.candidate, world.other_candidate, extra]
    for registration in registrations:
        bring_to_exam(registration)
    return world, registrations


def submissions_audited(exam):
    return AuditEvent.objects.filter(event_type="submission.submitted", chain=exam.pk).count()


def test_it_is_scheduled_for_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["exams-force-submission"]
    assert entry["task"] == "exams.force_submission_sweep"


def test_it_does_nothing_before_the_end(three_in_exam):
    world, registrations = three_in_exam
    with time_machine.travel(after(world.exam.ends_at, seconds=-1)):
        assert force_submission_sweep.apply().get() == 0
    assert not Submission.objects.exists()


def test_it_submits_everyone_once_even_when_run_twice(three_in_exam):
    world, registrations = three_in_exam
    with time_machine.travel(world.exam.ends_at):
        assert force_submission_sweep.apply().get() == 3
        assert force_submission_sweep.apply().get() == 0
    assert Submission.objects.filter(how="forced").count() == 3
    assert submissions_audited(world.exam) == 3
    stages = Registration.objects.filter(pk__in=[r.pk for r in registrations]).values_list("stage", flat=True)
    # They were on a recorded question: a take running at the end may still be declared
    # within ExamRules.recording_slack_seconds, so completion waits that long.
    assert set(stages) == {Stage.SUBMITTED}
    with time_machine.travel(after(world.exam.ends_at, seconds=3)):
        assert completion_sweep.apply().get() == 3
        assert completion_sweep.apply().get() == 0
    assert set(stages.all()) == {Stage.COMPLETE}


def test_the_completion_sweep_is_scheduled_for_beat():
    assert settings.CELERY_BEAT_SCHEDULE["exams-completion"]["task"] == "exams.completion_sweep"


def test_it_finishes_the_job_after_a_worker_dies_half_way(three_in_exam, monkeypatch):
    world, registrations = three_in_exam
    real_submit = services.submission_submit
    calls = {"n": 0}

    def dies_on_the_second(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real_submit(**kwargs)

    monkeypatch.setattr(services, "submission_submit", dies_on_the_second)
    with time_machine.travel(world.exam.ends_at), pytest.raises(SystemExit):
        services.submission_force_due()
    assert Submission.objects.count() == 1  # the first one committed, nothing half-done
    monkeypatch.setattr(services, "submission_submit", real_submit)
    with time_machine.travel(after(world.exam.ends_at, seconds=15)):
        assert services.submission_force_due() == 2
    assert Submission.objects.count() == 3 and submissions_audited(world.exam) == 3


def test_it_leaves_absent_candidates_absent(world):
    with time_machine.travel(world.exam.ends_at):
        services.submission_force_due()
    world.candidate.refresh_from_db()
    assert world.candidate.stage == Stage.NOT_JOINED and not Submission.objects.exists()
