"""Serving a stored file with HTTP Range (RFC 9110 §14), so a video player can seek.

One range per request is what players ask for; a multi-range request gets the whole file
(allowed: a server may ignore Range). The body streams from storage in chunks, so a large
recording never sits in memory.
"""

import re

from django.core.files.storage import default_storage
from django.http import HttpResponse, StreamingHttpResponse

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _stream(handle, start: int, length: int):
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) byte positions; None when there is no usable single range (serve all);
    False when the range cannot be satisfied."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            return False
        return max(0, size - suffix), size - 1
    first_position = int(first)
    last_position = min(int(last), size - 1) if last else size - 1
    if first_position >= size or last_position < first_position:
        return False
    return first_position, last_position


def ranged_file_response(request, *, storage_name: str, content_type: str, download_name: str,
                         attachment: bool = False) -> HttpResponse:
    size = default_storage.size(storage_name)
    wanted = parse_range(request.headers.get("Range", ""), size)
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = wanted if wanted else (0, size - 1)
    length = max(0, last - first + 1)
    handle = default_storage.open(storage_name, "rb")
    if request.method == "HEAD":
        handle.close()
        response = HttpResponse(status=206 if wanted else 200)
    else:
        response = StreamingHttpResponse(_stream(handle, first, length), status=206 if wanted else 200)
    response["Content-Type"] = content_type
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{download_name}"'
    # Evidence is personal data: never in a shared cache, never sniffed as something else.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
