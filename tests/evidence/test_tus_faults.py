"""An upload through a network that throttles, cuts connections mid-body and resets them
still ends byte-exact (the server keeps what arrived; the client resumes from HEAD)."""

import hashlib

import pytest
from django.conf import settings

from .faultproxy import FaultProxy
from .liveclients import client_command, run_until, server_upload_for
from .tushelpers import pc_cookie, webm_bytes

pytestmark = pytest.mark.e2e


def test_an_upload_through_a_cutting_throttling_proxy_ends_byte_exact(live_world, tus_server, tmp_path):
    cookie = pc_cookie(live_world.candidate, live_world.candidate_id_number)
    data = webm_bytes(1024 * 1024 + 333, seed=42)
    path = tmp_path / "recording.webm"
    path.write_bytes(data)
    # Each of the first 6 connections dies after 150 KiB, inside a 256 KiB chunk.
    proxy = FaultProxy(tus_server.port, cut_after=150 * 1024, bytes_per_second=4 * 1024 * 1024, cuts=6)
    try:
        lines = run_until(client_command("tuspy", f"http://127.0.0.1:{proxy.port}/evidence/tus/", cookie, path,
                                         tmp_path / "url-store", 256 * 1024, "-", "--retry", "--no-checksum"), "DONE", timeout=120)
    finally:
        proxy.close()
    assert lines[-1].startswith("DONE"), lines[-20:]
    assert proxy.cuts_made >= 3 and any(line.startswith("RETRY") for line in lines)
    resumed_at = [int(line.split()[1]) for line in lines if line.startswith("RESUME")]
    if tus_server.name == "daphne":
        # daphne (twisted) hands a request to the application only once its whole body has
        # arrived, so a PATCH cut mid-body is lost whole and resumed from the last complete one.
        assert all(offset % (256 * 1024) == 0 for offset in resumed_at), resumed_at
    else:
        # uvicorn streams the body: what arrived before each cut is kept, and the client
        # resumes from inside the chunk it was sending.
        assert any(offset % (256 * 1024) for offset in resumed_at), resumed_at
    upload = server_upload_for(data)
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert (settings.MEDIA_ROOT / upload.file_name).read_bytes() == data
