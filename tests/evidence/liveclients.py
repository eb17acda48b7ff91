"""Running an independent tus client in its own process against the live server."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from invigilate.evidence.models import Upload

HERE = Path(__file__).resolve().parent
TUSJS = HERE / "tusjs"


def client_command(client: str, *args) -> list[str]:
    if client == "tuspy":
        return [sys.executable, str(HERE / "clients" / "tuspy_upload.py"), *map(str, args)]
    node = shutil.which("node")
    if node is None or not (TUSJS / "node_modules" / "tus-js-client").exists():
        pytest.fail("tus-js-client is not installed: run `npm ci` in tests/evidence/tusjs (make test does)")
    return [node, str(TUSJS / "upload.mjs"), *map(str, args)]


def run_until(command: list[str], marker: str, timeout: float = 60) -> list[str]:
    """Run a client until it prints ``marker``; kill it there (SIGKILL) and return its lines."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=TUSJS, env={**os.environ})
    lines = []
    try:
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith(marker):
                break
    finally:
        process.kill()
        process.wait(timeout)
    return lines


def server_upload_for(data: bytes) -> Upload:
    return Upload.objects.get(declared_sha256=hashlib.sha256(data).hexdigest())
