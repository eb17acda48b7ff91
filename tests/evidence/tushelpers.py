"""Driving the tus ASGI application in process, and signing a candidate or phone in."""

import base64
import hashlib
import os
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.contrib.sessions.backends.db import SessionStore

from invigilate.accounts.middleware import SESSION_ID_KEY
from invigilate.accounts.services import candidate_login

WEBM_HEAD = b"\x1a\x45\xdf\xa3"


def webm_bytes(size: int, seed: int = 0) -> bytes:
    """A file that passes the WebM magic check, with random bytes after the header."""
    body = hashlib.sha256(str(seed).encode()).digest() + os.urandom(max(0, size - 36))
    return (WEBM_HEAD + body)[:size]


def pc_cookie(registration, id_number: str) -> str:
    store = SessionStore()
    store.create()
    session = candidate_login(id_number=id_number, ticket_number=registration.ticket_number,
                              session_key=store.session_key, address="127.0.0.1")
    store[SESSION_ID_KEY] = session.pk
    store.save()
    return f"sessionid={store.session_key}"


def metadata_header(**values) -> str:
    return ",".join(f"{key} {base64.b64encode(str(value).encode()).decode()}" for key, value in values.items())


def segment_metadata(data: bytes, *, kind="pc_camera", recording="00000000-0000-4000-8000-000000000001", seq=0,
                     filetype="video/webm", **extra) -> str:
    return metadata_header(kind=kind, recording=recording, seq=seq, filetype=filetype,
                           sha256=hashlib.sha256(data).hexdigest(), start=1700000000000 + seq * 5000,
                           duration=5000, **extra)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


async def _call(method, path, headers, chunks, disconnect):
    from invigilate.asgi import application

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    chunks = list(chunks) or [b""]
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": not last or disconnect})
    if disconnect:
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(timeout=10)
        return None
    start = await communicator.receive_output(timeout=10)
    body = await communicator.receive_output(timeout=10)
    await communicator.wait(timeout=10)
    return Reply(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body.get("body", b""))


def tus(method: str, path: str, *, cookie: str | None = None, headers: dict | None = None, chunks=(),
        disconnect: bool = False, version: str | None = "1.0.0") -> Reply | None:
    all_headers = {"host": "testserver"}
    if version:
        all_headers["tus-resumable"] = version
    if cookie:
        all_headers["cookie"] = cookie
    all_headers.update(headers or {})
    return async_to_sync(_call)(method, path, all_headers, chunks, disconnect)


def create(cookie: str, data: bytes, **metadata) -> str:
    reply = tus("POST", "/evidence/tus/", cookie=cookie,
                headers={"upload-length": str(len(data)), "upload-metadata": segment_metadata(data, **metadata)})
    assert reply.status == 201, reply.body
    return reply.headers["location"].split("testserver", 1)[1]


def patch(cookie: str, path: str, offset: int, chunk: bytes, *, checksum: str | None = None, **kwargs) -> Reply:
    headers = {"content-type": "application/offset+octet-stream", "upload-offset": str(offset),
               "content-length": str(len(chunk))}
    if checksum:
        headers["upload-checksum"] = checksum
    return tus("PATCH", path, cookie=cookie, headers=headers, chunks=[chunk], **kwargs)


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()
