"""Upload benchmark: the tus server under ``manage.py serve`` (daphne) and under ``manage.py
serve_uploads`` (uvicorn, the production uploads server) on loopback, one after the other in
the same run; each figure below is measured once per server, keys prefixed ``daphne_`` and
``uvicorn_``.

1. One large upload (default 256 MiB in 8 MiB PATCHes): MB/s, the server's CPU seconds per
   GB, and the server's resident memory before, at its peak, and after (it must stay flat).
   Baseline in the same run: the same bytes POSTed to a Django 404 page by the same client,
   which is what daphne + the network stack cost without the tus server's work.
2. 200 phones at once, each creating and sending one 5-second segment (~500 kB at 800 kbit/s):
   wall time, per-upload latency p50/p95, failures.

Runs on a fresh SQLite database in a temporary folder (embedded mode); PostgreSQL with
DATABASE_URL set. ``python -m bench.uploads [--large-mib 256] [--phones 200] [--servers daphne,uvicorn]``
"""

import argparse
import asyncio
import base64
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_environment(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invigilate.settings")
    os.environ["INVIGILATE_VAR_DIR"] = var_dir
    os.environ["EVIDENCE_QUOTA_BYTES"] = str(64 * 1024**3)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_candidates(count: int) -> list[str]:
    """``count`` registrations with an open PC session each; their session cookies."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from invigilate.accounts.middleware import SESSION_ID_KEY
    from invigilate.accounts.models import CandidateSession
    from invigilate.exams.models import Candidate, Exam, ExamRoom, Registration

    now = timezone.now()
    exam = Exam.objects.create(title="Bench", starts_at=now + timedelta(minutes=5))
    room = ExamRoom.objects.create(exam=exam, name="Bench room")
    cookies = []
    for index in range(count):
        candidate = Candidate.objects.create(full_name=f"Bench {index}", id_number_hash=f"bench-{index}",
                                             id_number_masked="-", phone="-")
        registration = Registration.objects.create(exam=exam, candidate=candidate, room=room, seat=index + 1,
                                                   ticket_number=f"B{index:05d}")
        store = SessionStore()
        store.create()
        session = CandidateSession.objects.create(registration=registration, session_key=store.session_key,
                                                  started_at=now, last_seen_at=now)
        store[SESSION_ID_KEY] = session.pk
        store.save()
        cookies.append(f"sessionid={store.session_key}")
    return cookies


def metadata(data_sha256: str, seq: int, recording: str) -> str:
    values = {"kind": "pc_camera", "recording": recording, "seq": str(seq), "filetype": "video/webm",
              "sha256": data_sha256}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


class Sampler(threading.Thread):
    """Samples the server's resident memory every 50 ms."""

    def __init__(self, process):
        super().__init__(daemon=True)
        self.process, self.peak, self.stopping = process, 0, threading.Event()

    def run(self):
        while not self.stopping.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)


def large_upload(url: str, cookie: str, mib: int, server) -> dict:
    import requests

    block = b"\x1a\x45\xdf\xa3" + os.urandom(1024 * 1024 - 4)
    size, chunk = mib * 1024 * 1024, 8 * 1024 * 1024
    digest = hashlib.sha256()
    for _ in range(mib):
        digest.update(block)
    session = requests.Session()
    session.headers.update({"Cookie": cookie, "Tus-Resumable": "1.0.0"})

    def body(nbytes):
        return block * (nbytes // len(block))  # the client's copy; the server's memory is measured

    # Baseline: the same bytes to a URL Django answers with 404 (the server + Django, no tus work).
    started = time.perf_counter()
    for _offset in range(0, size, chunk):
        session.post(f"{url}/no-such-page/", data=body(chunk))
    baseline = size / (time.perf_counter() - started) / 1e6

    response = session.post(f"{url}/evidence/tus/", headers={
        "Upload-Length": str(size), "Upload-Metadata": metadata(digest.hexdigest(), 0, "00000000-0000-4000-8000-0000000000b1")})
    location = response.headers["Location"]
    rss_before = server.memory_info().rss
    cpu_before = sum(server.cpu_times()[:2])
    sampler = Sampler(server)
    sampler.start()
    started = time.perf_counter()
    for offset in range(0, size, chunk):
        reply = session.patch(location, data=body(chunk), headers={
            "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
        assert reply.status_code == 204, (reply.status_code, reply.text)
    elapsed = time.perf_counter() - started
    sampler.stopping.set()
    sampler.join()
    cpu = sum(server.cpu_times()[:2]) - cpu_before
    return {
        "large_mib": mib, "large_mb_s": round(size / elapsed / 1e6, 1), "baseline_mb_s": round(baseline, 1),
        "server_cpu_s_per_gb": round(cpu / (size / 1e9), 2),
        "server_rss_before_mb": round(rss_before / 1e6), "server_rss_peak_mb": round(sampler.peak / 1e6),
        "server_rss_after_mb": round(server.memory_info().rss / 1e6),
    }


async def phones(url: str, cookies: list[str], segment_bytes: int) -> dict:
    import aiohttp

    latencies, failures = [], 0

    async def one(session, cookie, index):
        nonlocal failures
        data = b"\x1a\x45\xdf\xa3" + os.urandom(segment_bytes - 4)
        headers = {"Cookie": cookie, "Tus-Resumable": "1.0.0"}
        started = time.perf_counter()
        try:
            async with session.post(f"{url}/evidence/tus/", headers={
                **headers, "Upload-Length": str(len(data)),
                "Upload-Metadata": metadata(hashlib.sha256(data).hexdigest(), 0, f"00000000-0000-4000-8000-{index:012d}"),
            }) as response:
                location = response.headers["Location"]
            async with session.patch(location, data=data, headers={
                **headers, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
                "Upload-Checksum": "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode(),
            }) as response:
                if response.status != 204:
                    failures += 1
                    return
            latencies.append(time.perf_counter() - started)
        except Exception:
            failures += 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one(session, cookie, index) for index, cookie in enumerate(cookies)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "phones": len(cookies), "segment_kb": segment_bytes // 1000, "phones_wall_s": round(wall, 2),
        "phone_p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "phone_p95_s": round(latencies[int(len(latencies) * 0.95) - 1], 2) if latencies else None,
        "phone_failures": failures,
    }


COMMANDS = {"daphne": "serve", "uvicorn": "serve_uploads"}


def run_server(name: str, cookies: list[str], args, port: int) -> dict:
    import socket

    import psutil

    server = subprocess.Popen(
        [sys.executable, "manage.py", COMMANDS[name], "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        results = large_upload(url, cookies[0], args.large_mib, psutil.Process(server.pid))
        if args.phones:
            results.update(asyncio.run(phones(url, cookies[: args.phones], args.segment_kb * 1000)))
        return results
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--segment-kb", type=int, default=500)
    parser.add_argument("--servers", default="daphne,uvicorn", help="comma-separated: daphne, uvicorn")
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as var_dir:
        setup_environment(var_dir)
        # One set of candidates per server: the second server's phones create new uploads.
        servers = [name.strip() for name in args.servers.split(",") if name.strip()]
        cookies = make_candidates(max(1, args.phones) * len(servers))
        for index, name in enumerate(servers):
            mine = cookies[index * max(1, args.phones):(index + 1) * max(1, args.phones)]
            figures = run_server(name, mine, args, port=8600 + (os.getpid() + index) % 300)
            results.update({f"{name}_{key}": value for key, value in figures.items()})
    print(" ".join(f"{key}={value}" for key, value in results.items()))


if __name__ == "__main__":
    main()
