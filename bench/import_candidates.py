"""Bulk candidate import: 1,000 rows with realistic photos, on the configured database.

    python -m bench.import_candidates [--rows 1000]

(``bench.import`` cannot be the module's name: ``import`` is a Python keyword.)

Runs on a throw-away test database (``test_<name>`` on PostgreSQL, ``var/test-<pid>.sqlite3``
embedded) and a temporary MEDIA_ROOT, so it never touches real data. Times, in one run:
the first import (everything created), importing the same files again (nothing changes), and
a file whose last row is bad (every row validated, nothing written). Ends with one
``key=value`` line.
"""

import argparse
import csv
import io
import os
import shutil
import sys
import tempfile
import time
import zipfile

ROOMS = 10
HEADER = ["ticket_number", "id_number", "full_name", "phone", "room", "seat", "photo"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def _noise_tiles(count: int):
    from PIL import Image

    return [Image.effect_noise((360, 480), 30 + 4 * index).convert("RGB") for index in range(count)]


def photo_jpeg(index: int, tiles) -> bytes:
    """A 360x480 portrait-like JPEG of 20-35 KB, different for every index."""
    from PIL import Image, ImageDraw, ImageFilter

    base = Image.new("RGB", (360, 480), (200, 200 + index % 50, 225))
    draw = ImageDraw.Draw(base)
    draw.ellipse((100, 90, 260, 300), fill=(235, 195 + index % 20, 165))
    draw.rectangle((60, 330, 300, 480), fill=((index * 37) % 255, 90, 140))
    draw.text((10, 10), f"{index:06d}", fill=(20, 20, 20))
    image = Image.blend(base, tiles[index % len(tiles)], 0.18).filter(ImageFilter.GaussianBlur(0.6))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def id_number(index: int) -> str:
    from invigilate.accounts.id_numbers import id_number_check_character

    first = f"110105{1970 + index % 30}{index % 12 + 1:02d}{index % 28 + 1:02d}{index % 1000:03d}"
    return first + id_number_check_character(first)


def build_files(count: int) -> tuple[list[dict], bytes]:
    tiles = _noise_tiles(16)
    rows = []
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for index in range(count):
            rows.append({
                "ticket_number": f"BJ2025-{index:05d}",
                "id_number": id_number(index),
                "full_name": SURNAMES[index % len(SURNAMES)] + GIVEN[(index // 7) % len(GIVEN)] + GIVEN[index % len(GIVEN)],
                "phone": f"13{index % 7 + 3}{index:08d}",
                "room": f"Room {index % ROOMS + 1:02d}",
                "seat": str(index // ROOMS + 1),
                "photo": f"photos/{index:05d}.jpg",
            })
            zipped.writestr(rows[-1]["photo"], photo_jpeg(index, tiles))
    return rows, archive.getvalue()


def csv_bytes(rows: list[dict]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()

    media_root = tempfile.mkdtemp(prefix="bench-import-media-")
    os.environ["MEDIA_ROOT"] = media_root
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invigilate.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from invigilate.exams.importing import candidates_import
    from invigilate.exams.models import Exam, ExamRoom, Registration

    rows, photos = build_files(args.rows)
    first_csv = csv_bytes(rows)
    bad_rows = [dict(row) for row in rows]
    bad_rows[-1]["room"] = "Room 99"
    bad_csv = csv_bytes(bad_rows)
    print(f"files: {len(first_csv) / 1024:.0f} KB CSV, {len(photos) / 1024 / 1024:.1f} MB zip of "
          f"{args.rows} JPEGs (mean {len(photos) / args.rows / 1024:.0f} KB)", file=sys.stderr)

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        exam = Exam.objects.create(title="Bench exam", starts_at=timezone.now())
        ExamRoom.objects.bulk_create(ExamRoom(exam=exam, name=f"Room {n:02d}") for n in range(1, ROOMS + 1))

        started = time.perf_counter()
        report = candidates_import(exam=exam, csv_bytes=first_csv, photos_zip=photos)
        first_s = time.perf_counter() - started
        assert report.ok and report.created == args.rows, report.errors[:5]

        started = time.perf_counter()
        report = candidates_import(exam=exam, csv_bytes=first_csv, photos_zip=photos)
        reimport_s = time.perf_counter() - started
        assert report.ok and report.unchanged == args.rows, report.errors[:5]

        started = time.perf_counter()
        report = candidates_import(exam=exam, csv_bytes=bad_csv, photos_zip=photos)
        rejected_s = time.perf_counter() - started
        assert [error.row for error in report.errors] == [args.rows + 1], report.errors[:5]
        assert Registration.objects.filter(exam=exam).count() == args.rows
        vendor = connection.vendor
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(media_root, ignore_errors=True)

    print(f"rows={args.rows} first_s={first_s:.2f} reimport_s={reimport_s:.2f} "
          f"rejected_s={rejected_s:.2f} db={vendor}")


if __name__ == "__main__":
    main()
