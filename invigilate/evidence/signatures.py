"""What a file must begin with to be the type it claims (its "magic bytes").

The server never trusts a declared content type: the first bytes of every upload are checked
against the patterns below as they arrive, so a mislabelled file is refused early (415).
A pattern is a list of (offset, bytes); anything not listed may be any byte.
"""

SIGNATURES: dict[str, list[list[tuple[int, bytes]]]] = {
    # EBML header: Matroska and WebM (MediaRecorder in Chrome, Firefox, Android).
    "video/webm": [[(0, b"\x1a\x45\xdf\xa3")]],
    "audio/webm": [[(0, b"\x1a\x45\xdf\xa3")]],
    # ISO base media: a box size, then "ftyp" (MediaRecorder in Safari).
    "video/mp4": [[(4, b"ftyp")]],
    "audio/mp4": [[(4, b"ftyp")]],
    "image/jpeg": [[(0, b"\xff\xd8\xff")]],
    "image/png": [[(0, b"\x89PNG\r\n\x1a\n")]],
    "audio/ogg": [[(0, b"OggS")]],
}
EXTENSIONS = {
    "video/webm": "webm", "audio/webm": "webm", "video/mp4": "mp4", "audio/mp4": "m4a",
    "image/jpeg": "jpg", "image/png": "png", "audio/ogg": "ogg",
}
# Bytes needed to decide for every type above.
HEAD_BYTES = 8


def content_type_base(value: str) -> str:
    """``video/webm;codecs=vp8,opus`` -> ``video/webm``."""
    return value.split(";", 1)[0].strip().lower()


def content_type_allowed(value: str) -> bool:
    return content_type_base(value) in SIGNATURES


def head_possible(content_type: str, head: bytes) -> bool:
    """Could a file of this type begin with ``head`` (which may be shorter than needed)?"""
    for pattern in SIGNATURES.get(content_type_base(content_type), []):
        if all(
            head[offset:offset + len(expected)] == expected[: max(0, len(head) - offset)]
            for offset, expected in pattern
        ):
            return True
    return False
