"""Live-alerts load: N candidate sockets and M dashboards against real daphne + PostgreSQL + Redis.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.alerts [--candidates 1000]
        [--dashboards 40] [--duration 60] [--signal-every 60] [--servers 2] [--warmup 20]

Each candidate's socket sends a heartbeat every 5 s and, on average every ``--signal-every``
seconds, an integrity signal that raises or folds an alert; one dashboard per room listens.
The default, a signal per candidate per minute (1,000 a minute for the exam), is already
several times what honest candidates send (a few focus changes an hour); ``--signal-every 30``
is the stress case, where most signals raise new alerts rather than fold.
The servers run with the production settings (``INVIGILATE_PRODUCTION=1``, PostgreSQL pool,
Redis channel layer), one ``manage.py serve`` process per ``--servers``.

Measured: signal sent -> rendered alert received on the room's dashboard (p50/p95/p99), alert
pushes lost (a measured signal whose alert never arrived), server CPU (% of one core) per 100
candidates, and, as the baseline of the same run, the round trip of a ``clock`` message that
touches no database. Ends with one line of key=value figures.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIGNAL_KINDS = ["focus_lost", "page_hidden", "copy", "paste", "fullscreen_exited", "context_menu", "offline"]
HEARTBEAT_SECONDS = 5


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--dashboards", type=int, default=40, help="one per room; candidates are spread over them")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured after the warm-up")
    parser.add_argument("--warmup", type=float, default=20,
                        help="seconds of signals after everyone is connected, before measuring (pools, caches)")
    parser.add_argument("--signal-every", type=float, default=60, help="mean seconds between a candidate's signals")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--connect-rate", type=float, default=150, help="new sockets per second while ramping up")
    return parser.parse_args()


def server_environment() -> dict:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("bench.alerts needs DATABASE_URL=postgres://... and REDIS_URL=redis://...")
    return {
        **os.environ,
        "INVIGILATE_PRODUCTION": "1",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-" + "k" * 50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "CHANNEL_LAYER_PREFIX": os.environ.get("CHANNEL_LAYER_PREFIX", "invigilate") + "-bench",
        "PYTHONUNBUFFERED": "1",
    }


def world_build(*, candidates: int, rooms: int):
    """An exam in progress with its rooms, registrations, signed-in candidates and invigilators."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.test import Client
    from django.utils import timezone

    from invigilate.accounts.middleware import SESSION_ID_KEY
    from invigilate.accounts.models import CandidateSession, Role, User
    from invigilate.exams.models import Candidate, Exam, ExamRoom, Registration, RoomInvigilator

    stamp = int(time.time())
    now = timezone.now()
    exam = Exam.objects.create(title=f"bench {stamp}", starts_at=now - timedelta(minutes=5), duration=timedelta(hours=2))
    room_list = ExamRoom.objects.bulk_create([ExamRoom(exam=exam, name=f"R{n:03d}") for n in range(rooms)])
    people = Candidate.objects.bulk_create([
        Candidate(full_name=f"Bench {stamp} {n}", id_number_hash=f"bench-{stamp}-{n}", id_number_masked="6201**********0000",
                  phone="13900000000")
        for n in range(candidates)
    ])
    registrations = Registration.objects.bulk_create([
        Registration(exam=exam, candidate=person, room=room_list[n % rooms], seat=n // rooms + 1,
                     ticket_number=f"B{stamp % 100000}{n:05d}", stage=Registration.Stage.IN_EXAM)
        for n, person in enumerate(people)
    ])
    sessions = CandidateSession.objects.bulk_create([
        CandidateSession(registration=registration, session_key=f"bench{stamp}x{n:06d}".ljust(32, "0"),
                         started_at=now, last_seen_at=now)
        for n, registration in enumerate(registrations)
    ])
    store = SessionStore()
    expiry = now + timedelta(hours=3)
    Session.objects.bulk_create([
        Session(session_key=session.session_key, session_data=store.encode({SESSION_ID_KEY: session.pk}),
                expire_date=expiry)
        for session in sessions
    ])
    staff = []
    for n, room in enumerate(room_list):
        user = User.objects.create(username=f"bench-{stamp}-{n}", role=Role.INVIGILATOR)
        RoomInvigilator.objects.create(room=room, user=user)
        client = Client()
        client.force_login(user)
        staff.append((room.pk, client.cookies["sessionid"].value))
    candidate_list = [(registration.pk, registration.room_id, session.session_key)
                      for registration, session in zip(registrations, sessions, strict=True)]
    return exam, candidate_list, staff


def world_remove(exam):
    from invigilate.exams.models import Candidate

    candidate_ids = list(exam.registrations.values_list("candidate_id", flat=True))
    user_ids = list(exam.rooms.values_list("invigilator_assignments__user_id", flat=True))
    exam.registrations.all().delete()
    exam.delete()
    Candidate.objects.filter(pk__in=candidate_ids).delete()
    from invigilate.accounts.models import User

    User.objects.filter(pk__in=[pk for pk in user_ids if pk]).delete()


class Servers:
    def __init__(self, count: int, environment: dict):
        from tests.live import free_port

        self.ports = [free_port() for _ in range(count)]
        self.processes = []
        self.environment = environment

    def start(self):
        for port in self.ports:
            log = open(ROOT / "var" / f"bench-alerts-{port}.log", "w")  # noqa: SIM115
            self.processes.append(subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT, env=self.environment, stdout=log, stderr=subprocess.STDOUT,
            ))
        import socket

        for port in self.ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"server on {port} did not start") from None
                    time.sleep(0.1)

    def cpu_seconds(self) -> float:
        import psutil

        total = 0.0
        for process in self.processes:
            times = psutil.Process(process.pid).cpu_times()
            total += times.user + times.system
        return total

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


class Measurements:
    def __init__(self):
        self.pending: dict[int, float] = {}  # registration -> when its measured signal left
        self.arrivals: list[tuple[float, float]] = []  # (sent at, latency) of each measured alert
        self.clock_round_trips: list[float] = []
        self.clock_pending: dict[int, float] = {}
        self.signals_measured = 0
        self.signals_sent = 0
        self.heartbeats = 0
        self.errors = 0
        self.recording = False


async def candidate_run(session, url, origin, registration_id, session_key, measurements, stop):
    import aiohttp

    socket = await session.ws_connect(url, headers={"Origin": origin, "Cookie": f"sessionid={session_key}"},
                                      heartbeat=None, timeout=aiohttp.ClientWSTimeout(ws_close=5))
    seq = 0
    next_heartbeat = time.monotonic() + random.uniform(0, HEARTBEAT_SECONDS)
    next_signal = time.monotonic() + random.expovariate(1 / measurements.signal_every)

    async def reader():
        async for message in socket:
            data = json.loads(message.data)
            if data["type"] == "clock" and data.get("echo") in measurements.clock_pending:
                sent = measurements.clock_pending.pop(data["echo"])
                if measurements.recording:
                    measurements.clock_round_trips.append(time.perf_counter() - sent)
            elif data["type"] == "error":
                measurements.errors += 1

    reading = asyncio.create_task(reader())
    try:
        while not stop.is_set():
            now = time.monotonic()
            wait = min(next_heartbeat, next_signal) - now
            if wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                    break
                except TimeoutError:
                    pass
            now = time.monotonic()
            seq += 1
            if now >= next_heartbeat:
                await socket.send_json({"type": "signal", "kind": "heartbeat", "seq": seq, "at": int(time.time() * 1000)})
                measurements.heartbeats += 1
                next_heartbeat = now + HEARTBEAT_SECONDS
                if random.random() < 0.05:  # the baseline: a round trip that touches no database
                    token = registration_id * 1_000_000 + seq
                    measurements.clock_pending[token] = time.perf_counter()
                    await socket.send_json({"type": "clock", "sent_at": token})
                continue
            next_signal = now + random.expovariate(1 / measurements.signal_every)
            kind = random.choice(SIGNAL_KINDS)
            measured = measurements.recording and registration_id not in measurements.pending
            if measured:
                measurements.pending[registration_id] = time.perf_counter()
                measurements.signals_measured += 1
            elif registration_id in measurements.pending:
                continue  # one measured signal in flight per candidate keeps the pairing exact
            measurements.signals_sent += 1
            await socket.send_json({"type": "signal", "kind": kind, "seq": seq, "at": int(time.time() * 1000),
                                    "client": "bench"})
    finally:
        reading.cancel()
        await socket.close()


async def dashboard_run(session, url, origin, session_key, measurements, ready):
    try:
        socket = await session.ws_connect(url, headers={"Origin": origin, "Cookie": f"sessionid={session_key}"})
    finally:
        ready.set()
    async for message in socket:
        data = json.loads(message.data)
        if data["type"] == "alert":
            sent = measurements.pending.pop(data["registration_id"], None)
            if sent is not None:
                measurements.arrivals.append((sent, time.perf_counter() - sent))


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def load(arguments, servers, candidates, staff):
    import aiohttp

    measurements = Measurements()
    measurements.signal_every = arguments.signal_every
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        dashboards = []
        for n, (room_id, key) in enumerate(staff):
            port = servers.ports[n % len(servers.ports)]
            ready = asyncio.Event()
            dashboards.append(asyncio.create_task(dashboard_run(
                session, f"ws://127.0.0.1:{port}/ws/room/{room_id}/", f"http://127.0.0.1:{port}", key,
                measurements, ready)))
            await ready.wait()
            if dashboards[-1].done() and dashboards[-1].exception():
                raise RuntimeError(f"dashboard refused: {dashboards[-1].exception()}")
        sockets = []
        for n, (registration_id, _room_id, key) in enumerate(candidates):
            port = servers.ports[n % len(servers.ports)]
            sockets.append(asyncio.create_task(candidate_run(
                session, f"ws://127.0.0.1:{port}/ws/candidate/", f"http://127.0.0.1:{port}", registration_id, key,
                measurements, stop)))
            await asyncio.sleep(1 / arguments.connect_rate)
        # Every page has sent its first heartbeat, and signals have flowed for a while: the
        # servers' connection pools and caches are as they are in an exam under way.
        await asyncio.sleep(max(HEARTBEAT_SECONDS + 2, arguments.warmup))
        failed = [task for task in sockets if task.done() and task.exception()]
        cpu_before = servers.cpu_seconds()
        client_cpu_before = time.process_time()
        measurements.recording = True
        started = time.monotonic()
        await asyncio.sleep(arguments.duration)
        measurements.recording = False
        elapsed = time.monotonic() - started
        cpu = servers.cpu_seconds() - cpu_before
        measurements.client_cpu_percent = 100 * (time.process_time() - client_cpu_before) / elapsed
        await asyncio.sleep(5)  # late alerts still count; what has not arrived by now is lost
        lost = len(measurements.pending)
        stop.set()
        await asyncio.gather(*sockets, return_exceptions=True)
        for task in dashboards:
            task.cancel()
    return measurements, elapsed, cpu, lost, len(failed)


def main():
    arguments = parse_arguments()
    environment = server_environment()
    os.environ.update({key: environment[key] for key in ("CHANNEL_LAYER_PREFIX", "SECRET_KEY")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invigilate.settings")
    os.environ["INVIGILATE_FAST_PASSWORD_HASHER"] = "1"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    exam, candidates, staff = world_build(candidates=arguments.candidates, rooms=arguments.dashboards)
    servers = Servers(arguments.servers, environment)
    try:
        servers.start()
        measurements, elapsed, cpu, lost, failed = asyncio.run(load(arguments, servers, candidates, staff))
    finally:
        servers.stop()
        world_remove(exam)
    latencies_ms = [latency * 1000 for _sent, latency in measurements.arrivals]
    clocks_ms = [value * 1000 for value in measurements.clock_round_trips]
    cpu_percent_per_100 = 100 * cpu / elapsed / (arguments.candidates / 100)
    windows_print(measurements.arrivals)
    print(
        f"candidates={arguments.candidates} dashboards={arguments.dashboards} servers={arguments.servers} "
        f"duration_s={elapsed:.0f} signals_measured={measurements.signals_measured} "
        f"alert_p50_ms={percentile(latencies_ms, .5):.1f} alert_p95_ms={percentile(latencies_ms, .95):.1f} "
        f"alert_p99_ms={percentile(latencies_ms, .99):.1f} lost={lost} socket_failures={failed} "
        f"error_frames={measurements.errors} "
        f"baseline_clock_p50_ms={percentile(clocks_ms, .5):.1f} baseline_clock_p99_ms={percentile(clocks_ms, .99):.1f} "
        f"server_cpu_pct_per_100_candidates={cpu_percent_per_100:.1f} "
        f"mean_alert_ms={statistics.fmean(latencies_ms) if latencies_ms else float('nan'):.1f} "
        f"client_cpu_pct={measurements.client_cpu_percent:.0f} load_avg={os.getloadavg()[0]:.1f}"
    )


def windows_print(arrivals, seconds=5):
    """Latency per window of sending time: a tail from one stall reads differently from a steady one."""
    if not arrivals:
        return
    start = min(sent for sent, _latency in arrivals)
    windows: dict[int, list[float]] = {}
    for sent, latency in arrivals:
        windows.setdefault(int((sent - start) // seconds), []).append(latency * 1000)
    print(" ".join(f"{index * seconds}s:{percentile(values, .99):.0f}" for index, values in sorted(windows.items())),
          "(p99 ms of signals sent in each window)", file=sys.stderr)


if __name__ == "__main__":
    main()
