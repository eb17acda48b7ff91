"""Two independent tus clients (tuspy, and tus-js-client under Node) upload to the live server
(daphne, and the uploads server on uvicorn), are killed half-way, and a new process resumes;
the server's SHA-256 matches."""

import hashlib

import pytest

from .liveclients import client_command, run_until, server_upload_for
from .tushelpers import pc_cookie, webm_bytes

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("client", ["tuspy", "tus-js-client"])
def test_a_killed_client_resumes_from_a_new_process(client, live_world, tus_server, tmp_path):
    cookie = pc_cookie(live_world.candidate, live_world.candidate_id_number)
    data = webm_bytes(3 * 1024 * 1024 + 17, seed=len(client))
    path = tmp_path / "recording.webm"
    path.write_bytes(data)
    store = tmp_path / "url-store"
    args = (f"{tus_server.url}/evidence/tus/", cookie, path, store, 256 * 1024)

    first = run_until(client_command(client, *args, 1024 * 1024), "PAUSED")
    assert first[-1] == "PAUSED", first
    halfway = server_upload_for(data)
    assert 1024 * 1024 <= halfway.offset < len(data)

    second = run_until(client_command(client, *args, "-"), "DONE")
    assert second[-1].startswith("DONE"), second
    assert int(second[0].split()[1]) == halfway.offset  # resumed where the first stopped
    upload = server_upload_for(data)
    assert upload.status == "complete"
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    with open(stored_path(upload), "rb") as handle:
        assert handle.read() == data


def stored_path(upload):
    from django.conf import settings

    return settings.MEDIA_ROOT / upload.file_name
