"""How long the review's reads take on a realistic exam.

    DATABASE_URL=postgres://... python -m bench.review [--candidates 500] [--signals 400] [--audit 300]

Builds one exam with ``--candidates`` registrations; one candidate in ten is "busy" (``--signals``
signals folding into alerts, ``--audit`` audit events, invigilator notes, gaps). Measured: the
ranked candidate list (one query with a subquery per finding) and one busy candidate's whole
timeline (every provider), each timed over several runs, and the queries each issues. The
baseline in the same run is the proctoring app's own ``timeline_for_registration`` (signals,
alerts and actions only). Runs against the configured database (use a scratch one); leaves its
rows there.
"""

import argparse
import os
import statistics
import time
import uuid
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invigilate.settings")
os.environ.setdefault("EMBEDDED_SCHEDULER", "0")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from invigilate.accounts.models import Role, User  # noqa: E402
from invigilate.audit.models import AuditChain, AuditEvent  # noqa: E402
from invigilate.exams.models import Candidate, Exam, ExamRoom, ExamStaff, Registration  # noqa: E402
from invigilate.media.models import RecordingGap  # noqa: E402
from invigilate.proctoring.models import Alert, InvigilatorAction, Signal  # noqa: E402
from invigilate.proctoring.selectors import timeline_for_registration as proctoring_timeline  # noqa: E402
from invigilate.review.selectors import candidate_list_for_review  # noqa: E402
from invigilate.review.timeline import timeline_for_registration  # noqa: E402

KINDS = ["focus_lost", "page_hidden", "paste", "multiple_faces", "speech"]


def build(candidates: int, signals: int, audit: int):
    tag = uuid.uuid4().hex[:8]
    now = timezone.now()
    exam = Exam.objects.create(title=f"bench-review-{tag}", starts_at=now - timedelta(hours=2))
    room = ExamRoom.objects.create(exam=exam, name="Hall")
    people = Candidate.objects.bulk_create(
        Candidate(full_name=f"Bench {n}", id_number_hash=f"bench-review-{tag}-{n}",
                  id_number_masked="6201**********000X", phone="13900000000") for n in range(candidates))
    registrations = Registration.objects.bulk_create(
        Registration(exam=exam, candidate=person, room=room, seat=n + 1, ticket_number=f"R{tag}{n}")
        for n, person in enumerate(people))
    reviewer = User.objects.create_user(username=f"bench-reviewer-{tag}", role=Role.REVIEWER)
    invigilator = User.objects.create_user(username=f"bench-invigilator-{tag}", role=Role.INVIGILATOR)
    ExamStaff.objects.create(exam=exam, user=reviewer, role=Role.REVIEWER)
    busy = registrations[::10]
    sequence = 0
    chain = AuditChain.objects.create(key=exam.pk)
    for registration in busy:
        alerts = []
        for kind in KINDS:
            sequence += 1
            alerts.append(Alert(exam=exam, room=room, registration=registration, sequence=sequence, kind=kind,
                                severity="high", first_seen_at=now, last_seen_at=now, changed_at=now,
                                count=signals // len(KINDS)))
        Alert.objects.bulk_create(alerts)
        Signal.objects.bulk_create(
            Signal(registration=registration, source="browser", kind=KINDS[n % len(KINDS)],
                   received_at=now - timedelta(seconds=n), alert=alerts[n % len(KINDS)]) for n in range(signals))
        InvigilatorAction.objects.bulk_create(
            InvigilatorAction(registration=registration, kind=kind, text="seen", author=invigilator, created_at=now)
            for kind in ("note", "flag", "warning"))
        RecordingGap.objects.create(registration=registration, started_at=now, ended_at=now, reason="worker_lost")
        # Chain rows written directly: the bench measures reading them, not appending.
        AuditEvent.objects.bulk_create(
            AuditEvent(chain=exam.pk, position=chain.length + n + 1, occurred_at=now, actor_label="system",
                       event_type="alert.raised", registration_id=registration.pk, data={"n": n},
                       prev_hash="0" * 64, hash="0" * 64) for n in range(audit))
        chain.length += audit
    chain.save()
    return exam, reviewer, busy[0]


def timed(function, runs: int) -> tuple[float, int]:
    durations = []
    queries = 0
    for _ in range(runs):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            function()
            durations.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    return statistics.median(durations), queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--signals", type=int, default=400)
    parser.add_argument("--audit", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    exam, reviewer, busy = build(options.candidates, options.signals, options.audit)

    ranking_ms, ranking_queries = timed(lambda: list(candidate_list_for_review(user=reviewer, exam=exam)),
                                        options.runs)
    timeline_ms, timeline_queries = timed(lambda: timeline_for_registration(registration=busy), options.runs)
    entries = len(timeline_for_registration(registration=busy))
    baseline_ms, _ = timed(lambda: proctoring_timeline(registration=busy, limit=10_000), options.runs)
    print(f"database={connection.vendor} candidates={options.candidates} entries={entries} "
          f"ranking_ms={ranking_ms:.1f} ranking_queries={ranking_queries} timeline_ms={timeline_ms:.1f} "
          f"timeline_queries={timeline_queries} proctoring_timeline_ms={baseline_ms:.1f}")


if __name__ == "__main__":
    main()
