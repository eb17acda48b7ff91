"""Against real server processes: a PATCH whose connection is cut mid-body keeps the bytes that
arrived (uvicorn, the production uploads server, streams bodies; daphne buffers them whole),
also when the project's own browser client sends it, and a connection that died without the
server noticing never blocks the client's next request."""

import hashlib
import http.client
import socket
import time

import pytest
from django.core.files.storage import default_storage

from invigilate.evidence.models import Upload

from .conftest import UPLOADS_COMMIT_EVERY_BYTES
from .faultproxy import FaultProxy
from .tushelpers import pc_cookie, segment_metadata, webm_bytes

pytestmark = pytest.mark.e2e


def request(server, method: str, path: str, cookie: str, headers=None, body: bytes = b""):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers={"Tus-Resumable": "1.0.0", "Cookie": cookie,
                                                             **(headers or {})})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def create(server, cookie: str, data: bytes) -> str:
    status, headers, body = request(server, "POST", "/evidence/tus/", cookie, {
        "Upload-Length": str(len(data)), "Upload-Metadata": segment_metadata(data, kind="pc_screen")})
    assert status == 201, body
    return "/evidence/tus/" + headers["location"].rsplit("/", 1)[1]


def patch_head(path: str, cookie: str, offset: int, length: int) -> bytes:
    """The request line and headers of a PATCH whose body is ``length`` bytes."""
    return (f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\nCookie: {cookie}\r\n"
            f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def writer_gone(upload_id: str, timeout: float = 10) -> Upload:
    """The upload once no request holds its writer token (the cut one has finished)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upload = Upload.objects.get(pk=upload_id)
        if not upload.writer_token:
            return upload
        time.sleep(0.05)
    raise AssertionError(f"the cut request never released the upload: {upload.offset=} {upload.writer_token=}")


def committed_bytes(upload: Upload) -> bytes:
    content = b""
    for part in upload.parts.order_by("start"):
        assert part.start == len(content)
        with default_storage.open(part.storage_name, "rb") as handle:
            content += handle.read()
    return content


def assert_finished_byte_exact(upload_id: str, data: bytes):
    upload = Upload.objects.get(pk=upload_id)
    assert upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    with default_storage.open(upload.file_name, "rb") as handle:
        assert handle.read() == data


def test_a_patch_cut_mid_body_keeps_the_bytes_that_arrived(live_world, uploads_server):
    cookie = pc_cookie(live_world.candidate, live_world.candidate_id_number)
    data = webm_bytes(512 * 1024 + 7, seed=11)
    path = create(uploads_server, cookie, data)
    upload_id = path.rsplit("/", 1)[1]
    head = patch_head(path, cookie, 0, len(data))
    cut_after_body = 200 * 1024
    # 1 MiB/s: the server reads (and commits every 16 KiB) while the body is still coming.
    proxy = FaultProxy(uploads_server.port, cut_after=len(head) + cut_after_body, bytes_per_second=1024 * 1024,
                       cuts=1)
    try:
        with socket.create_connection(("127.0.0.1", proxy.port)) as client:
            try:
                client.sendall(head + data)
                client.recv(1024)  # the proxy resets the connection after the cut
            except OSError:
                pass
    finally:
        proxy.close()
    assert proxy.cuts_made == 1

    upload = writer_gone(upload_id)
    status, headers, _body = request(uploads_server, "HEAD", path, cookie)
    offset = int(headers["upload-offset"])
    assert status == 200 and offset == upload.offset
    # Kept: more than the commits made before the cut (the rest of the spool is committed on
    # disconnect), never more than got through, and exactly the bytes that were sent.
    assert UPLOADS_COMMIT_EVERY_BYTES <= offset <= cut_after_body, offset
    assert committed_bytes(upload) == data[:offset]

    status, headers, body = request(uploads_server, "PATCH", path, cookie, {
        "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}, data[offset:])
    assert status == 204, body
    assert headers["upload-offset"] == str(len(data))
    assert_finished_byte_exact(upload_id, data)


def test_a_connection_that_died_silently_does_not_block_the_next_head_and_patch(live_world, tus_server):
    cookie = pc_cookie(live_world.candidate, live_world.candidate_id_number)
    data = webm_bytes(512 * 1024 + 3, seed=12)
    path = create(tus_server, cookie, data)
    upload_id = path.rsplit("/", 1)[1]
    sent = 100 * 1024
    # A phone that walked out of coverage: half a body sent, then nothing, and no FIN or RST.
    dead = socket.create_connection(("127.0.0.1", tus_server.port))
    try:
        dead.sendall(patch_head(path, cookie, 0, len(data)) + data[:sent])
        deadline = time.monotonic() + 10
        if tus_server.name == "uvicorn":
            while Upload.objects.get(pk=upload_id).offset == 0 and time.monotonic() < deadline:
                time.sleep(0.05)  # the streaming server commits parts while the body comes
        else:
            time.sleep(0.5)  # daphne holds the whole request until its body is complete

        started = time.monotonic()
        status, headers, _body = request(tus_server, "HEAD", path, cookie)
        offset = int(headers["upload-offset"])
        assert status == 200 and time.monotonic() - started < 5
        if tus_server.name == "uvicorn":
            assert 0 < offset <= sent
            assert committed_bytes(Upload.objects.get(pk=upload_id)) == data[:offset]
        else:
            assert offset == 0

        started = time.monotonic()
        status, headers, body = request(tus_server, "PATCH", path, cookie, {
            "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}, data[offset:])
        assert status == 204, body
        assert time.monotonic() - started < 5
        assert headers["upload-offset"] == str(len(data))
        # The dead request wakes up with different bytes and goes away: it took over nothing.
        dead.sendall(b"\0" * 20_000)
    finally:
        dead.close()
    time.sleep(0.5)
    assert_finished_byte_exact(upload_id, data)


def test_the_browser_client_keeps_what_arrived_of_a_cut_patch_and_finishes(live_world, uploads_server, browser):
    """static/js/tus-upload.js in Chromium, through a proxy that resets the first PATCH after
    300 KiB of it: the next attempt starts from inside the chunk, not from its beginning."""
    import base64

    from tests.live import server_transactions_wait

    cookie = pc_cookie(live_world.candidate, live_world.candidate_id_number)
    data = webm_bytes(2 * 1024 * 1024 + 5, seed=13)
    proxy = FaultProxy(uploads_server.port, cut_after=300 * 1024, bytes_per_second=4 * 1024 * 1024, cuts=1,
                       cut_from=b"PATCH ")
    origin = f"http://127.0.0.1:{proxy.port}"
    context = browser.new_context(base_url=origin)
    try:
        name, value = cookie.split("=", 1)
        context.add_cookies([{"name": name, "value": value, "url": origin}])
        page = context.new_page()
        page.goto("/static/js/tus-upload.js")  # any page of the origin, for same-origin fetches
        result = page.evaluate("""async ({ b64, sha256 }) => {
            const { tusCreate, tusSend, tusOffset } = await import("/static/js/tus-upload.js");
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const blob = new Blob([bytes], { type: "video/webm" });
            const url = await tusCreate({ endpoint: "/evidence/tus/", size: blob.size, metadata: {
                kind: "pc_screen", recording: "00000000-0000-4000-8000-0000000000e1", seq: 0,
                filetype: "video/webm", sha256, start: Date.now(), duration: 5000 } });
            const offsets = [];
            let error = null;
            try {
                await tusSend({ url, blob, onProgress: (sent) => offsets.push(sent) });
            } catch (failure) {
                error = String(failure);
                offsets.push(await tusOffset(url));  // what the pipeline's retry does first
                await tusSend({ url, blob, onProgress: (sent) => offsets.push(sent) });
            }
            return { url, error, offsets };
        }""", {"b64": base64.b64encode(data).decode(), "sha256": hashlib.sha256(data).hexdigest()})
    finally:
        context.close()
        proxy.close()
        server_transactions_wait()
    assert proxy.cuts_made == 1
    chunk = 1024 * 1024
    # The attempt after the cut went on from the bytes the cut PATCH delivered. (Chromium may
    # resend the cut PATCH on its own, from offset 0: the server answers 409 and the client
    # asks HEAD, which reports them; seen: offsets [0, 287744, 1336320, 2097157].)
    partial = [offset for offset in result["offsets"] if offset % chunk and offset < len(data)]
    assert partial and 0 < partial[0] <= 300 * 1024, result
    assert_finished_byte_exact(result["url"].rsplit("/", 1)[1], data)
