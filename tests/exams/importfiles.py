"""Build import files (CSV + zip of photos) in memory."""

import csv
import io
import zipfile

from PIL import Image

from tests.personas import make_id_number

HEADER = ["ticket_number", "id_number", "full_name", "phone", "room", "seat", "photo"]


def photo_bytes(seed: int, kind: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 64), (seed % 255, 100, 150)).save(buffer, kind)
    return buffer.getvalue()


def good_rows(count: int, *, room="Room A", start=1) -> list[dict]:
    return [
        {"ticket_number": f"T{n:05d}", "id_number": make_id_number(n), "full_name": f"考生{n}",
         "phone": f"139{n:08d}", "room": room, "seat": str(n), "photo": f"p{n}.jpg"}
        for n in range(start, start + count)
    ]


def build(rows: list[dict], *, photos: dict[str, bytes] | None = None) -> tuple[bytes, bytes]:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        if photos is None:
            photos = {row["photo"]: photo_bytes(index) for index, row in enumerate(rows) if row["photo"]}
        for name, data in photos.items():
            zipped.writestr(name, data)
    return text.getvalue().encode("utf-8-sig"), archive.getvalue()
