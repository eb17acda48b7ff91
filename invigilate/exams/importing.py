"""Bulk import of candidates from a CSV file and a zip of photos.

All rows are validated first; nothing is written unless every row passes. Importing the same
files again changes nothing. Columns (header row required, UTF-8, optional BOM):
``ticket_number, id_number, full_name, phone, room, seat, photo`` where ``photo`` names a file
inside the zip.
"""

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from invigilate.accounts.id_numbers import id_number_hash, id_number_mask, id_number_validate
from invigilate.audit.services import audit_record

from .models import Candidate, Exam, ExamRoom, Registration

COLUMNS = ["ticket_number", "id_number", "full_name", "phone", "room", "seat", "photo"]
PHONE = re.compile(r"^(\+?86)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
TICKET = re.compile(r"^[A-Z0-9-]{4,32}$")
PHOTO_TYPES = {"JPEG": "jpg", "PNG": "png"}
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000


@dataclass
class RowError:
    row: int  # 1-based line number in the CSV file, the header being line 1
    message: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    ticket: str
    id_hash: str
    id_masked: str
    full_name: str
    phone: str
    room: ExamRoom
    seat: int
    photo_bytes: bytes
    photo_ext: str


class ImportFileError(Exception):
    pass


def _read_csv(csv_bytes: bytes) -> list[tuple[int, dict]]:
    try:
        text = csv_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("The CSV file is not UTF-8 text.")) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ImportFileError(_("The CSV file lacks the columns: %(names)s.") % {"names": ", ".join(missing)})
    return [(reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k}) for row in reader]


def _photo(archive: zipfile.ZipFile, names: set[str], name: str) -> tuple[bytes, str]:
    if not name or name not in names:
        raise ValidationError(_("photo %(name)s is not in the zip file") % {"name": name or "(empty)"})
    info = archive.getinfo(name)
    if info.file_size > MAX_PHOTO_BYTES:
        raise ValidationError(_("photo %(name)s is larger than 5 MB") % {"name": name})
    data = archive.read(name)
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            if kind not in PHOTO_TYPES:
                raise ValidationError(_("photo %(name)s must be JPEG or PNG") % {"name": name})
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise ValidationError(_("photo %(name)s has more than 40 million pixels") % {"name": name})
            # verify() only reads headers and passes a truncated JPEG, so decode the image;
            # a JPEG decodes at 1/8 scale (draft), which still reads every byte of it.
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(_("photo %(name)s is not a readable image") % {"name": name}) from None
    return data, PHOTO_TYPES[kind]


def _validate(exam: Exam, rows: list[tuple[int, dict]], archive: zipfile.ZipFile, report: ImportReport) -> list[_Row]:
    rooms = {room.name: room for room in exam.rooms.all()}
    names = set(archive.namelist())
    seen_tickets: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    seen_seats: dict[tuple[str, int], int] = {}
    valid = []
    for line, raw in rows:
        problems = []
        ticket = raw.get("ticket_number", "").upper()
        if not TICKET.match(ticket):
            problems.append(_("ticket number %(t)r should be 4-32 letters, digits or dashes") % {"t": ticket})
        elif ticket in seen_tickets:
            problems.append(_("ticket %(t)s repeats line %(line)s") % {"t": ticket, "line": seen_tickets[ticket]})
        else:
            seen_tickets[ticket] = line
        id_hash = id_masked = ""
        try:
            number = id_number_validate(raw.get("id_number", ""))
            id_hash, id_masked = id_number_hash(number), id_number_mask(number)
            if id_hash in seen_ids:
                problems.append(_("ID number repeats line %(line)s") % {"line": seen_ids[id_hash]})
            seen_ids.setdefault(id_hash, line)
        except ValidationError as error:
            problems.append(error.messages[0])
        full_name = raw.get("full_name", "")
        if not full_name or len(full_name) > 100:
            problems.append(_("name is missing or longer than 100 characters"))
        phone = raw.get("phone", "").replace(" ", "")
        if not PHONE.match(phone):
            problems.append(_("phone number %(p)r is not a mainland mobile or landline number") % {"p": phone})
        room = rooms.get(raw.get("room", ""))
        if room is None:
            problems.append(_("room %(r)r is not a room of this exam") % {"r": raw.get("room", "")})
        seat = 0
        try:
            seat = int(raw.get("seat", ""))
            if seat < 1:
                raise ValueError
        except ValueError:
            problems.append(_("seat must be a positive whole number"))
        if room is not None and seat:
            key = (room.name, seat)
            if key in seen_seats:
                problems.append(_("seat %(s)s in %(r)s repeats line %(line)s") % {"s": seat, "r": room.name, "line": seen_seats[key]})
            seen_seats.setdefault(key, line)
        photo_bytes, photo_ext = b"", ""
        try:
            photo_bytes, photo_ext = _photo(archive, names, raw.get("photo", ""))
        except ValidationError as error:
            problems.append(error.messages[0])
        if problems:
            report.errors.extend(RowError(line, problem) for problem in problems)
        else:
            valid.append(_Row(line, ticket, id_hash, id_masked, full_name, phone, room, seat, photo_bytes, photo_ext))
    return valid


def _check_against_database(exam: Exam, rows: list[_Row], report: ImportReport) -> None:
    """Tickets and seats already taken by someone else in this exam are errors too."""
    existing = {
        r.ticket_number: r for r in Registration.objects.filter(exam=exam).select_related("candidate", "room")
    }
    by_seat = {(r.room_id, r.seat): r.ticket_number for r in existing.values()}
    by_person = {r.candidate.id_number_hash: r.ticket_number for r in existing.values()}
    importing = {row.ticket for row in rows}
    for row in rows:
        registration = existing.get(row.ticket)
        if registration and registration.candidate.id_number_hash != row.id_hash:
            report.errors.append(RowError(row.line, _("ticket %(t)s already belongs to another person") % {"t": row.ticket}))
        held = by_person.get(row.id_hash)
        if held and held != row.ticket:
            report.errors.append(
                RowError(row.line, _("this person is already registered for this exam with ticket %(t)s") % {"t": held})
            )
        holder = by_seat.get((row.room.pk, row.seat))
        if holder and holder != row.ticket and holder not in importing:
            report.errors.append(
                RowError(row.line, _("seat %(s)s in %(r)s is already taken by ticket %(t)s") % {"s": row.seat, "r": row.room.name, "t": holder})
            )


def _photo_name(row: _Row) -> str:
    return f"photos/{hashlib.sha256(row.photo_bytes).hexdigest()}.{row.photo_ext}"


def _write(exam: Exam, rows: list[_Row], report: ImportReport) -> None:
    """Call inside a transaction, after every row passed validation."""
    candidates = {c.id_number_hash: c for c in Candidate.objects.filter(id_number_hash__in=[r.id_hash for r in rows])}
    registrations = {
        r.ticket_number: r for r in Registration.objects.filter(exam=exam, ticket_number__in=[row.ticket for row in rows])
    }
    new_candidates, new_registrations, moved = [], [], []
    for row in rows:
        photo_name = _photo_name(row)
        candidate = candidates.get(row.id_hash)
        # Photos are named by content: one the candidate already has is stored already
        # (this spares a re-import one existence check per row, a request each on S3).
        if (candidate is None or candidate.photo.name != photo_name) and not default_storage.exists(photo_name):
            default_storage.save(photo_name, ContentFile(row.photo_bytes))
        changed = False
        if candidate is None:
            candidate = Candidate(
                full_name=row.full_name, id_number_hash=row.id_hash, id_number_masked=row.id_masked,
                phone=row.phone, photo=photo_name,
            )
            new_candidates.append(candidate)
            candidates[row.id_hash] = candidate
        elif (candidate.full_name, candidate.phone, candidate.photo.name) != (row.full_name, row.phone, photo_name):
            candidate.full_name, candidate.phone, candidate.photo = row.full_name, row.phone, photo_name
            candidate.save(update_fields=["full_name", "phone", "photo"])
            changed = True
        registration = registrations.get(row.ticket)
        if registration is None:
            new_registrations.append((row, candidate))
            report.created += 1
        elif (registration.room_id, registration.seat) != (row.room.pk, row.seat):
            moved.append((registration, row))
            report.updated += 1
        elif changed:
            report.updated += 1
        else:
            report.unchanged += 1
    Candidate.objects.bulk_create(new_candidates)
    # Seats are unique per room: park moved registrations on seats nobody uses first, so two
    # candidates swapping seats do not collide half-way.
    for parking, (registration, _row) in enumerate(moved, start=1_000_000):
        Registration.objects.filter(pk=registration.pk).update(seat=parking)
    for registration, row in moved:
        Registration.objects.filter(pk=registration.pk).update(room=row.room, seat=row.seat)
    Registration.objects.bulk_create(
        Registration(exam=exam, candidate=candidate, ticket_number=row.ticket, room=row.room, seat=row.seat)
        for row, candidate in new_registrations
    )


def candidates_import(*, exam: Exam, csv_bytes: bytes, photos_zip: bytes, actor=None) -> ImportReport:
    """Validate every row, then write all of them or none. Returns what happened, by row."""
    report = ImportReport()
    try:
        rows = _read_csv(csv_bytes)
        archive = zipfile.ZipFile(io.BytesIO(photos_zip))
    except ImportFileError as error:
        report.errors.append(RowError(1, str(error)))
        return report
    except zipfile.BadZipFile:
        report.errors.append(RowError(0, _("The photos file is not a zip archive.")))
        return report
    if not rows:
        report.errors.append(RowError(1, _("The CSV file has no candidate rows.")))
        return report
    valid = _validate(exam, rows, archive, report)
    if report.errors:
        return report
    with transaction.atomic():
        # One import of an exam at a time: the checks against the database below stay true
        # until this transaction commits (SQLite's IMMEDIATE transactions serialise anyway).
        Exam.objects.select_for_update().filter(pk=exam.pk).first()
        _check_against_database(exam, valid, report)
        if report.errors:
            return report
        _write(exam, valid, report)
        audit_record(
            event_type="candidates.imported",
            actor=actor,
            exam_id=exam.pk,
            subject=exam,
            data={
                "csv_sha256": hashlib.sha256(csv_bytes).hexdigest(),
                "rows": len(valid),
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
    return report
