"""The tus 1.0 server: core, creation, checksum, expiration and termination.

It is an ASGI application of its own (mounted in ``invigilate/asgi.py`` in front of Django)
because Django's request handling reads a whole body before a view runs: that would lose
every byte of a PATCH whose connection drops, and could not answer while bytes still arrive.
Here a PATCH body is read message by message from the ASGI ``receive`` channel into a
bounded spool (memory stays flat whatever the file size), and what arrived before a dropped
connection is kept (unless the client asked for a checksum, which a partial body cannot meet):
committed every ``EVIDENCE_COMMIT_EVERY_BYTES`` while it comes, the rest on ``http.disconnect``.

That needs a server that streams. In production ``/evidence/tus/`` is served by ``manage.py
serve_uploads`` (uvicorn with h11, this same application; nginx streams to it unbuffered): it
passes body pieces on as they arrive and reports the disconnect, losing only what it had read
and not yet passed on (its 64 KiB flow-control window). daphne, which serves everything in the
embedded ``make run``, buffers a request body (in a temporary file past 100 kB) and calls the
application only once it is complete, so there a PATCH cut mid-body is lost whole and the
client resends that chunk (ours are at most 1 MiB).

Authentication is the Django session cookie: a candidate's PC session or a paired phone.
Cross-site requests cannot send ``Tus-Resumable`` without a CORS preflight, which this server
never grants, and a foreign ``Origin`` is refused outright.
"""

import asyncio
import base64
import binascii
import hashlib
import logging
import tempfile
from email.utils import format_datetime
from importlib import import_module
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http.cookie import parse_cookie

from invigilate.accounts.middleware import SESSION_ID_KEY
from invigilate.accounts.selectors import candidate_session_get

from . import services
from .models import Source, Upload
from .selectors import phone_for_session
from .services import TusError, Uploader

logger = logging.getLogger(__name__)

PREFIX = "/evidence/tus/"
TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,expiration,checksum,termination"
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
WRITER_WAIT_SECONDS = 1.0
WRITER_WAIT_STEPS = 20
STATUS_TEXT = {
    200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 412: "Precondition Failed",
    413: "Request Entity Too Large", 415: "Unsupported Media Type", 460: "Checksum Mismatch",
    500: "Internal Server Error",
}


def _db(function):
    """Run ORM and storage work in a worker thread of its own (not Django's single shared one),
    so that many uploads are not queued behind each other."""

    def call(*args, **kwargs):
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(call, thread_sensitive=False)


def _uploader_from_cookies(cookie_header: str) -> Uploader | None:
    cookies = parse_cookie(cookie_header)
    session_key = cookies.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    candidate_session = candidate_session_get(session_id=store.get(SESSION_ID_KEY), session_key=session_key)
    if candidate_session is not None:
        return Uploader(registration=candidate_session.registration, source=Source.PC)
    phone = phone_for_session(session=store, session_key=session_key)
    if phone is not None:
        return Uploader(registration=phone.registration, source=Source.PHONE, phone=phone)
    return None


def _expires(upload: Upload) -> dict[str, str]:
    if upload.status != Upload.Status.RECEIVING:
        return {}
    return {"Upload-Expires": format_datetime(upload.expires_at, usegmt=True)}


class Request:
    def __init__(self, scope):
        self.scope = scope
        self.headers: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        self.method = scope["method"].upper()
        override = self.headers.get("x-http-method-override", "").upper()
        if self.method == "POST" and override in {"PATCH", "DELETE", "HEAD"}:
            self.method = override
        self.path = scope["path"]

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def base_url(self) -> str:
        host = self.header("host") or "{}:{}".format(*self.scope.get("server", ("127.0.0.1", 80)))
        return f"{self.scope.get('scheme', 'http')}://{host}"


class TusApplication:
    """Serves ``/evidence/tus/`` and ``/evidence/tus/<id>``; everything else goes to ``inner``."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            return await self.inner(scope, receive, send)
        request = Request(scope)
        response = Response(send)
        try:
            await self.handle(request, receive, response)
        except TusError as error:
            await response.send(error.status, body=error.message)
        except Exception:
            logger.exception("tus %s %s failed", request.method, request.path)
            await response.send(500, body="internal error")

    async def handle(self, request: Request, receive, response: "Response"):
        if request.method == "OPTIONS":
            return await response.send(204, {
                "Tus-Version": TUS_VERSION, "Tus-Extension": EXTENSIONS,
                "Tus-Max-Size": str(settings.EVIDENCE_MAX_UPLOAD_BYTES),
                "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
            })
        if request.header("tus-resumable") != TUS_VERSION:
            return await response.send(412, {"Tus-Version": TUS_VERSION}, body="Tus-Resumable must be 1.0.0")
        origin = request.header("origin")
        if origin and urlsplit(origin).netloc != request.header("host"):
            raise TusError(403, "cross-origin requests are refused")
        uploader = await _db(_uploader_from_cookies)(request.header("cookie") or "")
        if uploader is None:
            raise TusError(403, "sign in first (PC) or pair this phone")
        upload_id = request.path[len(PREFIX):].strip("/")
        if not upload_id:
            if request.method != "POST":
                return await response.send(405, {"Allow": "POST, OPTIONS"})
            return await self.create(request, uploader, response)
        upload = await _db(services.upload_for)(uploader=uploader, upload_id=upload_id)
        if request.method in ("HEAD", "PATCH") and upload.writer_token:
            upload = await self._writer_settled(uploader, upload_id)
        if request.method == "HEAD":
            return await self.head(upload, response)
        if request.method == "PATCH":
            return await self.patch(request, receive, upload, response)
        if request.method == "DELETE":
            await _db(services.upload_terminate)(upload=upload)
            return await response.send(204)
        return await response.send(405, {"Allow": "HEAD, PATCH, DELETE, OPTIONS"})

    async def _writer_settled(self, uploader: Uploader, upload_id: str) -> Upload:
        """Give a request that is still writing (typically one whose connection just dropped
        and is committing what it received) a moment to finish, so the offset we report or
        claim includes its bytes. A writer on a dead connection never finishes: after the
        wait, the new request goes ahead and takes over."""
        for _attempt in range(WRITER_WAIT_STEPS):
            await asyncio.sleep(WRITER_WAIT_SECONDS / WRITER_WAIT_STEPS)
            upload = await _db(services.upload_for)(uploader=uploader, upload_id=upload_id)
            if not upload.writer_token:
                break
        return upload

    async def create(self, request: Request, uploader: Uploader, response: "Response"):
        if request.header("upload-defer-length"):
            raise TusError(400, "Upload-Defer-Length is not supported")
        length = services._int(request.header("upload-length"), "Upload-Length")
        metadata = services.metadata_parse(request.header("upload-metadata") or "")
        upload, _created = await _db(services.upload_create)(uploader=uploader, length=length, metadata=metadata)
        await response.send(201, {
            "Location": f"{request.base_url()}{PREFIX}{upload.pk}", "Upload-Offset": str(upload.offset),
            **_expires(upload),
        })

    async def head(self, upload: Upload, response: "Response"):
        metadata = ",".join(
            f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in upload.metadata.items()
        )
        await response.send(200, {
            "Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length),
            "Upload-Metadata": metadata, "Cache-Control": "no-store", **_expires(upload),
        })

    async def patch(self, request: Request, receive, upload: Upload, response: "Response"):
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != OFFSET_CONTENT_TYPE:
            raise TusError(415, f"Content-Type must be {OFFSET_CONTENT_TYPE}")
        offset = services._int(request.header("upload-offset"), "Upload-Offset")
        checksum = None
        if request.header("upload-checksum"):
            algorithm, _sep, encoded = request.header("upload-checksum").strip().partition(" ")
            if algorithm.lower() not in CHECKSUM_ALGORITHMS:
                raise TusError(400, f"checksum algorithm {algorithm[:20]!r} is not supported")
            try:
                checksum = (algorithm.lower(), base64.b64decode(encoded.strip(), validate=True))
            except binascii.Error:
                raise TusError(400, "Upload-Checksum must be base64") from None
        if offset != upload.offset:
            raise TusError(409, "Upload-Offset does not match the upload's offset")
        declared = request.header("content-length")
        if declared is not None and offset + services._int(declared, "Content-Length") > upload.length:
            raise TusError(413, "the body would exceed Upload-Length")
        token = await _db(services.upload_writer_claim)(upload=upload, offset=offset)
        try:
            upload, disconnected = await self._receive_body(receive, upload, token, offset, checksum)
        finally:
            await _db(services.upload_writer_release)(upload=upload, token=token)
        if disconnected:
            return
        if upload.offset == upload.length and upload.status == Upload.Status.RECEIVING:
            upload = await _db(services.upload_complete)(upload=upload)
        await response.send(204, {"Upload-Offset": str(upload.offset), **_expires(upload)})

    async def _receive_body(self, receive, upload: Upload, token: str, offset: int, checksum):
        """Stream the body into spooled parts; return (upload, client disconnected)."""
        remaining = upload.length - offset
        digest = CHECKSUM_ALGORITHMS[checksum[0]]() if checksum else None
        # With a checksum the body is one unit (kept on disk past the spool's memory size);
        # without one, each stretch of EVIDENCE_COMMIT_EVERY_BYTES is committed as it arrives.
        commit_every = None if checksum else settings.EVIDENCE_COMMIT_EVERY_BYTES
        spool = tempfile.SpooledTemporaryFile(max_size=settings.EVIDENCE_SPOOL_MEMORY_BYTES)
        start, size, disconnected, more = offset, 0, False, True
        try:
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    break
                body = message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > remaining - size - (start - offset):
                    raise TusError(413, "the body exceeds Upload-Length")
                spool.write(body)
                size += len(body)
                if digest:
                    digest.update(body)
                if commit_every and size >= commit_every:
                    upload = await _db(services.upload_part_commit)(
                        upload=upload, token=token, start=start, spool=spool, size=size)
                    spool.close()
                    spool = tempfile.SpooledTemporaryFile(max_size=settings.EVIDENCE_SPOOL_MEMORY_BYTES)
                    start, size = start + size, 0
            if checksum and digest.digest() != checksum[1]:
                if disconnected:
                    return upload, True  # a partial body cannot meet its checksum: drop it
                raise TusError(460, "Upload-Checksum does not match the body; the chunk was discarded")
            if size:
                upload = await _db(services.upload_part_commit)(
                    upload=upload, token=token, start=start, spool=spool, size=size)
        finally:
            spool.close()
        return upload, disconnected


class Response:
    def __init__(self, send):
        self._send = send
        self.sent = False

    async def send(self, status: int, headers: dict[str, str] | None = None, *, body: str = ""):
        if self.sent:
            return
        self.sent = True
        payload = body.encode()
        all_headers = {"Tus-Resumable": TUS_VERSION, "Content-Length": str(len(payload)),
                       "X-Content-Type-Options": "nosniff", **(headers or {})}
        if payload:
            all_headers["Content-Type"] = "text/plain; charset=utf-8"
        await self._send({
            "type": "http.response.start", "status": status,
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in all_headers.items()],
        })
        await self._send({"type": "http.response.body", "body": payload})
