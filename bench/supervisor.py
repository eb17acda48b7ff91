"""The supervisor's overview of a big exam: 50 rooms x 30 candidates with a whole exam's history.

    DATABASE_URL=postgres://... python -m bench.supervisor [--rooms 50] [--per-room 30] [--runs 7]

Builds an exam (its own, left in the configured database: use a scratch one) with, for every
room, an invigilator whose dashboard came and went, and for every candidate a joined session,
alerts answered after various delays (some still open, some escalated), staff looks at the
candidate, and a few warnings and notes. Then measures, as medians over ``--runs``:

- ``overview_ms``: the whole overview page (``GET /supervision/exam/<id>/`` through Django);
- ``summaries_ms``: the figures of all rooms alone (``room_summaries_for_exam``);
- ``update_ms``: one live update, what the supervisor's socket does when an event touches a
  room (that room's summary + its rendered row);
- ``panel_ms``: one invigilator's panel (figures, sparkline, notes);
- baseline ``wall_ms``: an invigilator's own room page (``/proctoring/room/<id>/``) in the
  same run, the page every invigilator already loads.
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
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from invigilate.accounts.models import CandidateSession, Role, User  # noqa: E402
from invigilate.exams.models import Candidate, Exam, ExamRoom, ExamStaff, Registration, RoomInvigilator  # noqa: E402
from invigilate.proctoring.models import Alert, InvigilatorAction  # noqa: E402
from invigilate.supervision import fragments, selectors  # noqa: E402
from invigilate.supervision.models import CandidateView, DashboardConnection  # noqa: E402

STAGES = ["in_exam"] * 20 + ["waiting", "device_check", "not_joined", "submitted", "complete"] * 2


def build(rooms: int, per_room: int) -> tuple[Exam, User, list[ExamRoom], list[User]]:
    tag = uuid.uuid4().hex[:8]
    start = timezone.now() - timedelta(minutes=90)
    exam = Exam.objects.create(title=f"bench-supervisor-{tag}", starts_at=start, duration=timedelta(hours=3))
    supervisor = User.objects.create_user(username=f"sup-{tag}", password="x", role=Role.SUPERVISOR)
    ExamStaff.objects.create(exam=exam, user=supervisor, role=Role.SUPERVISOR)
    room_list = ExamRoom.objects.bulk_create(ExamRoom(exam=exam, name=f"Room {n:02d}") for n in range(rooms))
    invigilators = [User.objects.create_user(username=f"inv-{tag}-{n}", password="x", role=Role.INVIGILATOR)
                    for n in range(rooms)]
    RoomInvigilator.objects.bulk_create(RoomInvigilator(room=room, user=user) for room, user in zip(room_list, invigilators, strict=True))
    connections = []
    for n, (room, user) in enumerate(zip(room_list, invigilators, strict=True)):
        for k in range(5):  # five stretches online with gaps between them; the last still open in most rooms
            begin = start + timedelta(minutes=18 * k)
            end = None if (k == 4 and n % 7) else begin + timedelta(minutes=15)
            connections.append(DashboardConnection(exam=exam, room=room, user=user, role=Role.INVIGILATOR,
                                                   channel_name=f"{tag}-{n}-{k}", connected_at=begin,
                                                   last_seen_at=end or timezone.now(), disconnected_at=end))
    DashboardConnection.objects.bulk_create(connections)
    candidates = Candidate.objects.bulk_create(
        Candidate(full_name=f"Bench {n}", id_number_hash=f"bench-sup-{tag}-{n}", id_number_masked="6201**********000X",
                  phone="13900000000") for n in range(rooms * per_room))
    registrations = Registration.objects.bulk_create(
        Registration(exam=exam, candidate=candidate, room=room_list[n // per_room], seat=n % per_room + 1,
                     ticket_number=f"B{tag}{n:05d}", stage=STAGES[n % len(STAGES)], stage_changed_at=start,
                     connected=n % 13 != 0, disconnected_since=None if n % 13 else timezone.now() - timedelta(minutes=1))
        for n, candidate in enumerate(candidates))
    CandidateSession.objects.bulk_create(
        CandidateSession(registration=r, session_key=f"{tag}{r.pk}", started_at=start, last_seen_at=start,
                         ended_at=start + timedelta(minutes=1)) for r in registrations)
    alerts, views, actions, sequence = [], [], [], 0
    for n, registration in enumerate(registrations):
        user = invigilators[n // per_room]
        for k in range(4):
            sequence += 1
            raised = start + timedelta(minutes=5 + 20 * k, seconds=n % 50)
            answered = raised + timedelta(seconds=10 + (n * 7 + k * 13) % 170)
            still_open = k == 3 and n % 10 == 0
            escalated = still_open and n % 20 == 0
            alerts.append(Alert(
                exam=exam, room=registration.room, registration=registration, sequence=sequence, kind="focus_lost",
                severity="medium", first_seen_at=raised, last_seen_at=raised, changed_at=answered,
                status="escalated" if escalated else "open" if still_open else "resolved",
                escalated_at=raised + timedelta(minutes=1) if escalated else None,
                acknowledged_at=None if still_open else answered, acknowledged_by=None if still_open else user,
                acknowledged_role="invigilator", closed_at=None if still_open else answered + timedelta(seconds=40),
                closed_by=None if still_open else user))
            views.append(CandidateView(exam=exam, room=registration.room, registration=registration, viewer=user,
                                       viewer_role=Role.INVIGILATOR, kind="drawer", opened_at=answered,
                                       last_seen_at=answered + timedelta(seconds=30)))
        if n % 5 == 0:
            actions.append(InvigilatorAction(registration=registration, kind="warning", text="Face the camera",
                                             author=user, author_role=Role.INVIGILATOR, created_at=start))
    Alert.objects.bulk_create(alerts, batch_size=2000)
    CandidateView.objects.bulk_create(views, batch_size=2000)
    InvigilatorAction.objects.bulk_create(actions)
    return exam, supervisor, room_list, invigilators


def timed(function, runs: int) -> float:
    """Median milliseconds over ``runs`` (after one warm-up)."""
    function()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--per-room", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    exam, supervisor, rooms, invigilators = build(args.rooms, args.per_room)
    build_s = time.perf_counter() - began
    invigilator_client, supervisor_client = Client(), Client()
    supervisor_client.force_login(supervisor)
    invigilator_client.force_login(invigilators[0])

    def overview():
        response = supervisor_client.get(f"/supervision/exam/{exam.pk}/", HTTP_HOST="127.0.0.1")
        assert response.status_code == 200 and response.content.count(b'class="room-row') == args.rooms

    def summaries():
        assert len(selectors.room_summaries_for_exam(exam=exam)) == args.rooms

    def update():
        (summary,) = selectors.room_summaries_for_exam(exam=exam, room_ids=[rooms[7].pk])
        assert fragments.room_row_html(summary)

    def panel():
        figures = selectors.invigilator_figures(invigilator=invigilators[0], exam=exam)
        assert figures.alerts.total == 4 * args.per_room

    def wall():
        response = invigilator_client.get(f"/proctoring/room/{rooms[0].pk}/", HTTP_HOST="127.0.0.1")
        assert response.status_code == 200

    overview_ms = timed(overview, args.runs)
    summaries_ms = timed(summaries, args.runs)
    update_ms = timed(update, args.runs)
    panel_ms = timed(panel, args.runs)
    wall_ms = timed(wall, args.runs)
    engine = connection.vendor
    print(f"# {engine}: {args.rooms} rooms x {args.per_room} candidates, {Alert.objects.filter(exam=exam).count()} alerts, "
          f"built in {build_s:.1f} s")
    print(
        f"rooms={args.rooms} candidates={args.rooms * args.per_room} overview_ms={overview_ms:.0f} "
        f"summaries_ms={summaries_ms:.0f} update_ms={update_ms:.1f} panel_ms={panel_ms:.0f} wall_ms={wall_ms:.0f}"
    )


if __name__ == "__main__":
    main()
