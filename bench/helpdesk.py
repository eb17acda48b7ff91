"""A burst of help requests against a team of technicians.

    DATABASE_URL=postgres://... python -m bench.helpdesk [--requests 500] [--technicians 10]

``--web`` threads submit the requests as fast as they can (the burst: every candidate of a
hall presses Help when the network drops); ``--technicians`` threads play consoles that
claim what they are offered and resolve it after ``--handling-ms``. Each thread has its own
database connection, like separate web processes. Measured: time from a request's creation
to its first offer (p50/p99), the time to drain the whole burst, and the checks that no
request was lost and none was claimed twice. Runs against the configured database (use a
scratch one): it creates its own exam and people and leaves them there.
"""

import argparse
import os
import statistics
import threading
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invigilate.settings")
os.environ.setdefault("EMBEDDED_SCHEDULER", "0")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from invigilate.accounts.models import Role, User  # noqa: E402
from invigilate.audit.models import AuditEvent  # noqa: E402
from invigilate.exams.models import Candidate, Exam, ExamRoom, ExamStaff, Registration  # noqa: E402
from invigilate.helpdesk.models import HelpCategory, HelpRequest, HelpStatus  # noqa: E402
from invigilate.helpdesk.services import (  # noqa: E402
    HelpRequestConflict,
    help_request_claim,
    help_request_resolve,
    help_request_submit,
    technician_presence_connect,
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def build(requests: int, technicians: int) -> tuple[Exam, list[Registration], list[User]]:
    tag = uuid.uuid4().hex[:8]
    exam = Exam.objects.create(title=f"bench-helpdesk-{tag}", starts_at=timezone.now())
    room = ExamRoom.objects.create(exam=exam, name="Hall")
    candidates = Candidate.objects.bulk_create(
        Candidate(full_name=f"Bench {n}", id_number_hash=f"bench-{tag}-{n}", id_number_masked="6201**********000X",
                  phone="13900000000")
        for n in range(requests)
    )
    registrations = Registration.objects.bulk_create(
        Registration(exam=exam, candidate=candidate, room=room, seat=n + 1, ticket_number=f"B{tag}{n:05d}")
        for n, candidate in enumerate(candidates)
    )
    team = [User.objects.create(username=f"bench-{tag}-tech-{n}", role=Role.TECHNICIAN) for n in range(technicians)]
    ExamStaff.objects.bulk_create(ExamStaff(exam=exam, user=user, role=Role.TECHNICIAN) for user in team)
    for user in team:
        technician_presence_connect(user=user)
    return exam, registrations, team


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--technicians", type=int, default=10)
    parser.add_argument("--web", type=int, default=4, help="threads submitting the burst")
    parser.add_argument("--handling-ms", type=float, default=0.0, help="time a technician spends per request")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    exam, registrations, team = build(args.requests, args.technicians)
    categories = HelpCategory.values
    submitted = threading.Event()
    errors: list[str] = []
    claims_lost = [0]

    def web(worker: int) -> None:
        try:
            for index in range(worker, len(registrations), args.web):
                help_request_submit(registration=registrations[index], category=categories[index % len(categories)],
                                    description="bench", phone="13900000000", diagnostics={"bench": True})
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(repr(error))
        finally:
            connection.close()

    def console(user: User) -> None:
        try:
            while True:
                offered = list(HelpRequest.objects.filter(technician=user, status=HelpStatus.OFFERED))
                if not offered:
                    if submitted.is_set() and not HelpRequest.objects.filter(
                        exam=exam, status__in=[HelpStatus.QUEUED, HelpStatus.OFFERED, HelpStatus.CLAIMED]
                    ).exists():
                        return
                    time.sleep(0.05)  # a console is pushed a hint; this polls gently instead
                    continue
                for request in offered:
                    try:
                        request = help_request_claim(request=request, technician=user)
                    except HelpRequestConflict:
                        claims_lost[0] += 1
                        continue
                    if args.handling_ms:
                        time.sleep(args.handling_ms / 1000)
                    help_request_resolve(request=request, technician=user, resolution_category="guided")
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))
        finally:
            connection.close()

    consoles = [threading.Thread(target=console, args=(user,)) for user in team]
    for thread in consoles:
        thread.start()
    started = time.monotonic()
    webs = [threading.Thread(target=web, args=(n,)) for n in range(args.web)]
    for thread in webs:
        thread.start()
    for thread in webs:
        thread.join()
    burst_seconds = time.monotonic() - started
    submitted.set()
    for thread in consoles:
        thread.join(600)
    drain_seconds = time.monotonic() - started

    requests = list(HelpRequest.objects.filter(exam=exam))
    waits = [(r.first_offered_at - r.created_at).total_seconds() * 1000 for r in requests if r.first_offered_at]
    claims = AuditEvent.objects.filter(chain=exam.pk, event_type="help.claimed").values("subject_id").annotate(
        n=Count("pk")
    )
    double_claimed = sum(1 for row in claims if row["n"] > 1)
    resolved = sum(1 for r in requests if r.status == HelpStatus.RESOLVED)
    lost = args.requests - resolved
    per_technician = sorted(
        HelpRequest.objects.filter(exam=exam).values("technician").annotate(n=Count("pk")).values_list("n", flat=True)
    )
    engine = connection.vendor
    print(f"# {engine}: {args.requests} requests from {args.web} web threads, {args.technicians} technicians, "
          f"handling {args.handling_ms} ms; burst submitted in {burst_seconds:.2f} s")
    print(f"# resolved per technician: {per_technician}; errors: {errors[:3]}")
    print(
        f"engine={engine} requests={args.requests} technicians={args.technicians} "
        f"first_offer_p50_ms={statistics.median(waits):.0f} first_offer_p99_ms={percentile(waits, 0.99):.0f} "
        f"drain_s={drain_seconds:.2f} resolved={resolved} lost={lost} double_claimed={double_claimed} "
        f"claims_lost_races={claims_lost[0]} errors={len(errors)}"
    )


if __name__ == "__main__":
    main()
