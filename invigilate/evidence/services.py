"""Writes of the evidence app: uploads, recordings, interruptions, phone pairing.

Uploads are appended in *parts*: each PATCH (or each stretch of a long one) is streamed to a
temporary file, saved through Django's storage API (local disk by default, S3 in
production: no storage can append, so we never append), and only then made visible by moving
the upload's offset with compare-and-set. A request that loses the race (a newer PATCH took
over, or the offset moved) deletes what it saved, so the committed bytes are always exactly
the parts in the database, end to end.
"""

import base64
import binascii
import hashlib
import io
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from invigilate.audit.services import actor_label_for_registration, audit_record
from invigilate.exams.models import Registration
from invigilate.exams.rules import exam_rules
from invigilate.realtime.groups import phone_group
from invigilate.realtime.publish import publish_on_commit, tile_refresh_on_commit

from .models import (
    Interruption,
    PairingCode,
    PhoneDevice,
    PlacementRequest,
    Recording,
    RecordingKind,
    Source,
    Upload,
    UploadPart,
)
from .signatures import EXTENSIONS, HEAD_BYTES, content_type_allowed, content_type_base, head_possible

logger = logging.getLogger(__name__)


class TusError(Exception):
    """A refusal with its tus/HTTP status; ``message`` is safe to show the client."""

    def __init__(self, status: int, message: str = ""):
        super().__init__(message or str(status))
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Uploader:
    """Who is uploading: a registration, through its PC session or its paired phone."""

    registration: Registration
    source: str
    phone: PhoneDevice | None = None


# --- tus uploads ---------------------------------------------------------------------------

def metadata_parse(header: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (the value may be absent)."""
    result: dict[str, str] = {}
    for pair in filter(None, (item.strip() for item in header.split(","))):
        key, _sep, encoded = pair.partition(" ")
        if not key or " " in key or key in result:
            raise TusError(400, "malformed Upload-Metadata")
        try:
            result[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8") if encoded else ""
        except (binascii.Error, UnicodeDecodeError):
            raise TusError(400, f"Upload-Metadata value of {key} is not base64 UTF-8") from None
    return result


def _int(value: str | None, name: str, *, minimum: int = 0) -> int:
    try:
        number = int(value or "")
    except ValueError:
        raise TusError(400, f"{name} must be an integer") from None
    if number < minimum:
        raise TusError(400, f"{name} must be at least {minimum}")
    return number


def _client_time(milliseconds: str | None) -> datetime | None:
    if not milliseconds:
        return None
    return datetime.fromtimestamp(_int(milliseconds, "start") / 1000, tz=UTC)


def recording_for(
    *, uploader: Uploader, kind: str, client_id: str, started_at=None, segment_seconds: float | None = None
) -> Recording:
    now = timezone.now()
    defaults = {"source": uploader.source, "started_at": started_at, "last_heard_at": now}
    if segment_seconds:
        defaults["segment_seconds"] = segment_seconds
    try:
        with transaction.atomic():
            recording, created = Recording.objects.get_or_create(
                registration=uploader.registration, kind=kind, client_id=client_id, defaults=defaults
            )
    except IntegrityError:  # created by a concurrent request
        recording, created = Recording.objects.get(
            registration=uploader.registration, kind=kind, client_id=client_id
        ), False
    if uploader.source == Source.PHONE:
        phone_silence_end(registration=uploader.registration)
    if created:
        with transaction.atomic():
            audit_record(
                event_type="evidence.recording_started", actor_label=actor_label_for_registration(uploader.registration.pk),
                subject=recording, exam_id=uploader.registration.exam_id, registration_id=uploader.registration.pk,
                data={"kind": kind, "source": uploader.source, "client_started_at": started_at},
            )
            tile_refresh_on_commit(room_id=uploader.registration.room_id, registration_id=uploader.registration.pk)
    return recording


def upload_create(*, uploader: Uploader, length: int, metadata: dict[str, str]) -> tuple[Upload, bool]:
    """Create the upload of one segment; (upload, created). Creating the same segment again
    with the same content returns the existing upload, so a client whose creation response
    was lost can retry safely."""
    if length > settings.EVIDENCE_MAX_UPLOAD_BYTES:
        raise TusError(413, "Upload-Length exceeds Tus-Max-Size")
    kind = metadata.get("kind", "")
    if kind not in RecordingKind.values:
        raise TusError(400, "metadata kind must be one of " + ", ".join(RecordingKind.values))
    if uploader.source == Source.PHONE and kind not in (RecordingKind.SWEEP, RecordingKind.PHONE):
        raise TusError(403, "a phone uploads only the sweep and the whole-exam view")
    client_id = metadata.get("recording", "")
    try:
        client_id = str(uuid.UUID(client_id))
    except ValueError:
        raise TusError(400, "metadata recording must be a UUID") from None
    seq = _int(metadata.get("seq"), "seq")
    filetype = metadata.get("filetype", "")
    if not content_type_allowed(filetype):
        raise TusError(415, f"content type {filetype[:60]!r} is not accepted")
    declared = metadata.get("sha256", "").lower()
    if len(declared) != 64 or any(c not in "0123456789abcdef" for c in declared):
        raise TusError(400, "metadata sha256 must be the hex SHA-256 of the whole file")
    if length == 0:
        raise TusError(400, "an empty recording is not evidence")
    started_at = _client_time(metadata.get("start"))
    duration = _int(metadata["duration"], "duration") if metadata.get("duration") else None

    recording = recording_for(uploader=uploader, kind=kind, client_id=client_id,
                              started_at=started_at if seq == 0 else None)
    existing = Upload.objects.filter(recording=recording, seq=seq, status__in=Upload.LIVE).first()
    if existing:
        if existing.length == length and existing.declared_sha256 == declared:
            return existing, False
        raise TusError(409, "this segment was already uploaded with different content")

    now = timezone.now()
    registration = uploader.registration
    with transaction.atomic():
        # The registration's row lock serialises quota checks of one candidate.
        Registration.objects.select_for_update().get(pk=registration.pk)
        used = Upload.objects.filter(registration=registration, status__in=Upload.LIVE).aggregate(
            total=Sum("length"))["total"] or 0
        if used + length > settings.EVIDENCE_QUOTA_BYTES_PER_REGISTRATION:
            raise TusError(413, "the evidence quota of this candidate is used up")
        try:
            with transaction.atomic():
                upload = Upload.objects.create(
                    registration=registration, recording=recording, source=uploader.source, phone=uploader.phone,
                    seq=seq, client_started_at=started_at, duration_ms=duration,
                    content_type=content_type_base(filetype), length=length, declared_sha256=declared,
                    metadata={key: value[:200] for key, value in list(metadata.items())[:20]},
                    created_at=now, expires_at=now + settings.EVIDENCE_UPLOAD_EXPIRY,
                )
        except IntegrityError:
            raise TusError(409, "this segment is being uploaded by another request") from None
        Recording.objects.filter(pk=recording.pk, last_seq__lt=seq).update(last_seq=seq)
        if metadata.get("final") == "1":
            Recording.objects.filter(pk=recording.pk).update(final_seq=seq)
        Recording.objects.filter(pk=recording.pk).update(last_heard_at=now)
    return upload, True


def upload_for(*, uploader: Uploader, upload_id: str) -> Upload:
    """The upload, if this registration created it; otherwise 404 (never say it exists)."""
    try:
        upload = Upload.objects.select_related("registration", "recording").get(
            pk=uuid.UUID(upload_id), registration=uploader.registration
        )
    except (ValueError, Upload.DoesNotExist):
        raise TusError(404, "no such upload") from None
    if upload.status == Upload.Status.TERMINATED:
        raise TusError(404, "the upload was terminated")
    if upload.status == Upload.Status.EXPIRED or (
        upload.status == Upload.Status.RECEIVING and upload.expires_at <= timezone.now()
    ):
        raise TusError(410, "the upload expired")
    if upload.status == Upload.Status.REJECTED:
        raise TusError(410, "the upload was rejected: its content did not match its SHA-256")
    return upload


def upload_writer_claim(*, upload: Upload, offset: int) -> str:
    """Become the one request allowed to append at ``offset``; a newer claim wins, so a
    connection that died without the server noticing never blocks the client's retry."""
    if upload.status == Upload.Status.COMPLETE or offset != upload.offset:
        raise TusError(409, "Upload-Offset does not match the upload's offset")
    token = secrets.token_hex(16)
    claimed = Upload.objects.filter(pk=upload.pk, status=Upload.Status.RECEIVING, offset=offset).update(
        writer_token=token
    )
    if not claimed:
        raise TusError(409, "Upload-Offset does not match the upload's offset")
    return token


def upload_writer_release(*, upload: Upload, token: str) -> None:
    Upload.objects.filter(pk=upload.pk, writer_token=token).update(writer_token="")


def _part_name(upload: Upload, start: int) -> str:
    return f"evidence/{upload.registration.exam_id}/{upload.registration_id}/parts/{upload.pk.hex}-{start:012d}"


def upload_part_commit(*, upload: Upload, token: str, start: int, spool, size: int) -> Upload:
    """Save ``size`` bytes from the spooled file as the part at ``start`` and move the offset.

    Raises TusError(415) if the file does not begin as its type must, TusError(409) if
    another request took over or the offset moved meanwhile (the saved part is removed).
    """
    head = bytes(upload.head)
    if start < HEAD_BYTES:
        spool.seek(0)
        head = (head[:start] + spool.read(HEAD_BYTES - start))[:HEAD_BYTES]
        if not head_possible(upload.content_type, head):
            raise TusError(415, "the file's first bytes do not match its declared type")
    spool.seek(0)
    content = File(spool, name="part")
    content.size = size
    name = default_storage.save(_part_name(upload, start), content)
    try:
        with transaction.atomic():
            moved = Upload.objects.filter(
                pk=upload.pk, writer_token=token, offset=start, status=Upload.Status.RECEIVING
            ).update(offset=F("offset") + size, head=head)
            if not moved:
                raise TusError(409, "another request took over this upload")
            UploadPart.objects.create(upload=upload, start=start, size=size, storage_name=name)
    except Exception:
        default_storage.delete(name)
        raise
    upload.offset = start + size
    upload.head = head
    return upload


class _PartsReader(io.RawIOBase):
    """The committed parts, read in order as one stream, hashed on the way."""

    def __init__(self, names: list[str]):
        self.names = list(names)
        self.current = None
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self.current is None:
                if not self.names:
                    return 0
                self.current = default_storage.open(self.names.pop(0), "rb")
            data = self.current.read(len(buffer))
            if data:
                buffer[: len(data)] = data
                self.digest.update(data)
                return len(data)
            self.current.close()
            self.current = None


def upload_complete(*, upload: Upload) -> Upload:
    """All bytes are in: assemble the parts, check the whole file's SHA-256, record it.

    Raises TusError(460) when the file does not match the SHA-256 its client declared; the
    upload is then rejected and the client must send the segment again as a new upload.
    """
    parts = list(upload.parts.order_by("start"))
    reader = _PartsReader([part.storage_name for part in parts])
    if len(parts) == 1:
        name = parts[0].storage_name
        while reader.read(1024 * 1024):
            pass
    else:
        recording = upload.recording
        extension = EXTENSIONS.get(upload.content_type, "bin")
        target = (f"evidence/{upload.registration.exam_id}/{upload.registration_id}/"
                  f"{recording.kind}-{recording.pk}-{upload.seq:06d}.{extension}")
        content = File(io.BufferedReader(reader, buffer_size=1024 * 1024), name="whole")
        content.size = upload.length
        name = default_storage.save(target, content)
    computed = reader.digest.hexdigest()
    registration = upload.registration
    now = timezone.now()
    matches = computed == upload.declared_sha256
    status = Upload.Status.COMPLETE if matches else Upload.Status.REJECTED
    with transaction.atomic():
        moved = Upload.objects.filter(pk=upload.pk, status=Upload.Status.RECEIVING).update(
            status=status, sha256=computed, file_name=name if matches else "", completed_at=now, writer_token=""
        )
        if not moved:
            raise TusError(409, "the upload was already finished by another request")
        audit_record(
            event_type="evidence.upload_completed" if matches else "evidence.upload_rejected",
            actor_label=actor_label_for_registration(registration.pk), subject=upload,
            exam_id=registration.exam_id, registration_id=registration.pk,
            data={"kind": upload.recording.kind, "recording": upload.recording_id, "seq": upload.seq,
                  "length": upload.length, "sha256": computed, "declared_sha256": upload.declared_sha256,
                  "source": upload.source},
        )
        if matches and len(parts) > 1:
            # The parts' files are deleted below; the whole file is now the one part.
            upload.parts.all().delete()
            UploadPart.objects.create(upload=upload, start=0, size=upload.length, storage_name=name)
        Recording.objects.filter(pk=upload.recording_id).update(last_heard_at=now)
        tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
    if len(parts) > 1 or not matches:
        for part in parts:
            if part.storage_name != name or not matches:
                default_storage.delete(part.storage_name)
        if len(parts) > 1 and not matches:
            default_storage.delete(name)
    upload.status, upload.sha256, upload.file_name = status, computed, name if matches else ""
    if not matches:
        raise TusError(460, "the whole file does not match the SHA-256 declared at creation; send it again")
    return upload


def _upload_files_delete(upload: Upload) -> None:
    for part in upload.parts.all():
        default_storage.delete(part.storage_name)
    upload.parts.all().delete()


def upload_terminate(*, upload: Upload) -> None:
    """tus termination. Finished evidence is never deleted by its candidate."""
    if upload.status == Upload.Status.COMPLETE:
        raise TusError(403, "a finished recording cannot be deleted")
    registration = upload.registration
    with transaction.atomic():
        moved = Upload.objects.filter(pk=upload.pk, status=Upload.Status.RECEIVING).update(
            status=Upload.Status.TERMINATED, writer_token=""
        )
        if not moved:
            raise TusError(404, "no such upload")
        audit_record(
            event_type="evidence.upload_terminated", actor_label=actor_label_for_registration(registration.pk),
            subject=upload, exam_id=registration.exam_id, registration_id=registration.pk,
            data={"kind": upload.recording.kind, "seq": upload.seq, "offset": upload.offset},
        )
    _upload_files_delete(upload)


def uploads_expire(*, now=None) -> int:
    """Expire unfinished uploads past their Upload-Expires and free their storage."""
    now = now or timezone.now()
    expired = 0
    for upload in Upload.objects.filter(status=Upload.Status.RECEIVING, expires_at__lte=now).select_related(
        "registration", "recording"
    ):
        with transaction.atomic():
            if not Upload.objects.filter(pk=upload.pk, status=Upload.Status.RECEIVING).update(
                status=Upload.Status.EXPIRED, writer_token=""
            ):
                continue
            audit_record(
                event_type="evidence.upload_expired", subject=upload, exam_id=upload.registration.exam_id,
                registration_id=upload.registration_id,
                data={"kind": upload.recording.kind, "seq": upload.seq, "offset": upload.offset,
                      "length": upload.length},
            )
            tile_refresh_on_commit(room_id=upload.registration.room_id, registration_id=upload.registration.pk)
        _upload_files_delete(upload)
        expired += 1
    return expired


# --- recordings and interruptions -------------------------------------------------------------

def recording_report(
    *, uploader: Uploader, kind: str, client_id: str, last_seq: int, started_at=None, ended: bool = False,
    segment_seconds: float | None = None,
) -> Recording:
    """The client says how far a recording has got (it may be offline when segments are made,
    so this is how the server learns which segments to expect before they arrive)."""
    if kind not in RecordingKind.values:
        raise ValueError("unknown recording kind")
    client_id = str(uuid.UUID(client_id))
    recording = recording_for(uploader=uploader, kind=kind, client_id=client_id, started_at=started_at,
                              segment_seconds=segment_seconds)
    now = timezone.now()
    with transaction.atomic():
        Recording.objects.filter(pk=recording.pk, last_seq__lt=last_seq).update(last_seq=last_seq)
        Recording.objects.filter(pk=recording.pk).update(last_heard_at=now)
        if ended and recording.final_seq is None:
            Recording.objects.filter(pk=recording.pk, final_seq__isnull=True).update(final_seq=last_seq)
            audit_record(
                event_type="evidence.recording_ended", actor_label=actor_label_for_registration(uploader.registration.pk),
                subject=recording, exam_id=uploader.registration.exam_id, registration_id=uploader.registration.pk,
                data={"kind": kind, "segments": last_seq + 1},
            )
            tile_refresh_on_commit(room_id=uploader.registration.room_id, registration_id=uploader.registration.pk)
    recording.refresh_from_db()
    return recording


def interruption_alert(*, registration: Registration, interruption: Interruption) -> None:
    """Tell the invigilators, through the live-alerts rules (the device reported it)."""
    from invigilate.proctoring.services import signal_record

    kind = "phone_interrupted" if interruption.source == Source.PHONE else "recording_interrupted"
    signal_record(
        registration=registration, kind=kind, source="browser",
        client_time=interruption.started_at,
        data={"device": interruption.source, "recording_kind": interruption.kind, "reason": interruption.reason,
              "started_at": interruption.started_at.isoformat(),
              "ended_at": interruption.ended_at.isoformat() if interruption.ended_at else None,
              "duration_seconds": interruption.duration_seconds},
    )


def interruption_record(
    *, uploader: Uploader, kind: str, reason: str, client_id: str, started_at: datetime, ended_at: datetime | None
) -> Interruption:
    """Record (or close) an interruption of recording; idempotent on the client's id."""
    if kind not in RecordingKind.values or reason not in Interruption.Reason.values:
        raise ValueError("unknown recording kind or reason")
    if ended_at is not None and ended_at < started_at:
        raise ValueError("an interruption cannot end before it starts")
    registration = uploader.registration
    with transaction.atomic():
        interruption, created = Interruption.objects.select_for_update().get_or_create(
            registration=registration, client_id=client_id[:64],
            defaults={"kind": kind, "source": uploader.source, "reason": reason, "started_at": started_at,
                      "ended_at": ended_at, "recorded_at": timezone.now()},
        )
        if not created and interruption.ended_at is None and ended_at is not None:
            interruption.ended_at = ended_at
            interruption.save(update_fields=["ended_at"])
        elif not created:
            return interruption
        audit_record(
            event_type="evidence.interruption", actor_label=actor_label_for_registration(registration.pk),
            subject=interruption, exam_id=registration.exam_id, registration_id=registration.pk,
            data={"kind": kind, "reason": reason, "source": uploader.source,
                  "started_at": started_at.isoformat(), "ended_at": ended_at.isoformat() if ended_at else None},
        )
        tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
        transaction.on_commit(lambda: interruption_alert(registration=registration, interruption=interruption))
    return interruption


# --- phone pairing ------------------------------------------------------------------------

SHORT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class PairingRefused(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def pairing_code_issue(*, registration: Registration, now=None) -> PairingCode:
    """A fresh code for the PC page to show; earlier unused codes of this registration die."""
    now = now or timezone.now()
    minutes = exam_rules(registration.exam).pairing_code_minutes
    with transaction.atomic():
        PairingCode.objects.filter(registration=registration, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        while True:
            short_code = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(8))
            if not PairingCode.objects.filter(short_code=short_code, used_at__isnull=True, expires_at__gt=now).exists():
                break
        return PairingCode.objects.create(
            registration=registration, short_code=short_code, token=secrets.token_urlsafe(32),
            created_at=now, expires_at=now + timedelta(minutes=minutes),
        )


def short_code_normalise(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def pairing_code_redeem(
    *, short_code: str = "", token: str = "", session_key: str, user_agent: str = "", exam_id: int | None = None,
    current_phone: PhoneDevice | None = None, now=None,
) -> PhoneDevice:
    """Pair the phone whose browser holds ``session_key``; raise PairingRefused with a
    message the candidate can act on."""
    now = now or timezone.now()
    with transaction.atomic():
        codes = PairingCode.objects.select_for_update().select_related("registration__exam")
        if token:
            code = codes.filter(token=token).first()
        else:
            normalised = short_code_normalise(short_code)
            code = codes.filter(short_code=normalised).order_by("-created_at").first() if normalised else None
        if code is None:
            raise PairingRefused(_("This code is not known. Check it against the code on your computer's screen."),
                                 code="unknown")
        registration = code.registration
        if (exam_id is not None and registration.exam_id != exam_id) or (
            current_phone is not None and current_phone.registration.exam_id != registration.exam_id
        ):
            raise PairingRefused(_("This code belongs to another exam. Use the code shown by this exam's page "
                                   "on your computer."), code="other_exam")
        if code.used_at is not None:
            raise PairingRefused(_("This code has already been used. Ask your computer's page for a new code."),
                                 code="used")
        if code.expires_at <= now:
            raise PairingRefused(_("This code has expired. Ask your computer's page for a new code."),
                                 code="expired")
        if now >= registration.exam.incident_window_closes_at:
            raise PairingRefused(_("This exam is over; a phone can no longer be paired."), code="exam_over")
        for replaced in PhoneDevice.objects.filter(registration=registration, revoked_at__isnull=True):
            publish_on_commit(phone_group(registration.pk), "phone.replaced", phone_id=replaced.pk)
        PhoneDevice.objects.filter(registration=registration, revoked_at__isnull=True).update(revoked_at=now)
        phone = PhoneDevice.objects.create(
            registration=registration, session_key=session_key, paired_at=now, last_seen_at=now,
            user_agent=user_agent[:300],
        )
        code.used_at = now
        code.phone = phone
        code.save(update_fields=["used_at", "phone"])
        audit_record(
            event_type="evidence.phone_paired", actor_label=actor_label_for_registration(registration.pk),
            subject=phone, exam_id=registration.exam_id, registration_id=registration.pk,
            data={"user_agent": user_agent[:200], "by": "qr" if token else "short_code"},
        )
        tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
    return phone


def phone_touch(*, phone: PhoneDevice, now=None) -> None:
    now = now or timezone.now()
    if now - phone.last_seen_at >= timedelta(seconds=5):
        PhoneDevice.objects.filter(pk=phone.pk).update(last_seen_at=now)
        phone.last_seen_at = now


# --- a phone gone silent ------------------------------------------------------------------

def _silence_client_id(last_heard_at: datetime) -> str:
    # One episode per moment last heard: a sweep running again finds the same episode.
    return f"server-silent-{int(last_heard_at.timestamp() * 1000)}"


def phone_silence_sweep(*, now=None) -> int:
    """Notice phones that stopped sending while their exam runs; alert once per episode.

    A phone that is recording the exam (an open ``phone`` recording) but from which nothing
    (no segment created, no report) has arrived for ``phone_silent_seconds`` is silent: the app
    was killed, the phone died or lost its network. The episode is an ``Interruption`` with
    reason ``phone_silent`` from the moment it was last heard; it ends when the phone is heard
    again (``phone_silence_end``). Idempotent: returns the number of episodes opened.
    """
    from invigilate.proctoring.services import signal_record

    now = now or timezone.now()
    recording_now = (
        Recording.objects.filter(
            kind=RecordingKind.PHONE, final_seq__isnull=True, registration__stage=Registration.Stage.IN_EXAM,
            registration__exam__starts_at__lte=now,
        ).values_list("registration_id", flat=True).distinct()
    )
    heard = (
        Recording.objects.filter(registration_id__in=list(recording_now), kind=RecordingKind.PHONE)
        .values("registration_id").annotate(last=Max("last_heard_at"))
    )
    opened = 0
    for row in heard:
        registration = Registration.objects.select_related("exam").get(pk=row["registration_id"])
        if now >= registration.exam.ends_at:
            continue  # the exam is over: the phone stops and uploads; silence is expected
        last_heard_at = row["last"]
        silent_for = (now - last_heard_at).total_seconds()
        if silent_for < exam_rules(registration.exam).phone_silent_seconds:
            continue
        with transaction.atomic():
            interruption, created = Interruption.objects.get_or_create(
                registration=registration, client_id=_silence_client_id(last_heard_at),
                defaults={"kind": RecordingKind.PHONE, "source": Source.PHONE,
                          "reason": Interruption.Reason.PHONE_SILENT, "started_at": last_heard_at,
                          "recorded_at": now},
            )
            if not created:
                continue
            audit_record(
                event_type="evidence.phone_silent", subject=interruption, exam_id=registration.exam_id,
                registration_id=registration.pk,
                data={"last_heard_at": last_heard_at.isoformat(), "silent_seconds": round(silent_for)},
            )
            signal_record(
                registration=registration, kind="phone_interrupted", source="server",
                data={"device": Source.PHONE, "reason": Interruption.Reason.PHONE_SILENT,
                      "started_at": last_heard_at.isoformat(), "silent_seconds": round(silent_for)},
            )
            tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
            opened += 1
    return opened


LATE_COUNT_CACHE_KEY = "evidence-late:{registration_id}"


def evidence_late_sweep(*, now=None) -> int:
    """Refresh the wall's tile of every candidate whose number of late segments changed.

    A segment becomes late by the clock alone (see ``selectors.MissingSegment``), with no
    request to push a change, so this sweep compares each candidate's count (of exams between
    their start and the close of their upload window) with the one it last pushed, kept in
    the cache. Only a push: the counts are derived from the database, nothing is stored.
    Returns the number of tiles refreshed."""
    from django.core.cache import cache

    from .selectors import evidence_late_counts

    now = now or timezone.now()
    registrations = {
        registration.pk: registration
        for registration in Registration.objects.filter(
            # Bounded so the sweep never scans history; no exam plus its upload window lasts 2 days.
            exam__starts_at__lte=now, exam__starts_at__gte=now - timedelta(days=2), recordings__isnull=False,
        ).select_related("exam").distinct()
        if now < registration.exam.incident_window_closes_at
    }
    if not registrations:
        return 0
    counts = evidence_late_counts(registration_ids=list(registrations), now=now)
    keys = {LATE_COUNT_CACHE_KEY.format(registration_id=pk): pk for pk in registrations}
    pushed = cache.get_many(list(keys))
    changed = {key: counts.get(pk, 0) for key, pk in keys.items() if pushed.get(key, 0) != counts.get(pk, 0)}
    for key in changed:
        registration = registrations[keys[key]]
        tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
    cache.set_many(changed, timeout=3 * 24 * 3600)
    return len(changed)


def phone_silence_end(*, registration: Registration, now=None) -> bool:
    """The phone was heard again: close its open silence, with how long it lasted."""
    from invigilate.proctoring.services import signal_record

    now = now or timezone.now()
    open_silences = Interruption.objects.filter(
        registration=registration, reason=Interruption.Reason.PHONE_SILENT, ended_at__isnull=True
    )
    if not open_silences.exists():
        return False
    with transaction.atomic():
        ended = False
        for interruption in open_silences.select_for_update():
            interruption.ended_at = max(now, interruption.started_at)
            interruption.save(update_fields=["ended_at"])
            seconds = round(interruption.duration_seconds)
            audit_record(
                event_type="evidence.phone_heard_again", subject=interruption, exam_id=registration.exam_id,
                registration_id=registration.pk,
                data={"started_at": interruption.started_at.isoformat(), "ended_at": interruption.ended_at.isoformat(),
                      "silent_seconds": seconds},
            )
            signal_record(registration=registration, kind="phone_resumed", source="server",
                          data={"gap_seconds": seconds, "started_at": interruption.started_at.isoformat()})
            ended = True
        if ended:
            tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
    return ended


# --- placement corrections -----------------------------------------------------------------

class PlacementError(ValueError):
    """A placement request that cannot be made or confirmed; the message says why."""


def placement_request_send(*, registration: Registration, actor, kind: str, text: str = "") -> PlacementRequest:
    """Ask the candidate to move the phone; it shows on the phone at once, to be confirmed there."""
    text = (text or "").strip()[:300]
    if kind not in PlacementRequest.Kind.values:
        raise PlacementError(_("Choose what the phone should show."))
    if kind == PlacementRequest.Kind.OTHER and not text:
        raise PlacementError(_("Write what the candidate should change."))
    if not PhoneDevice.objects.filter(registration=registration, revoked_at__isnull=True).exists():
        raise PlacementError(_("This candidate has no paired phone."))
    with transaction.atomic():
        request = PlacementRequest.objects.create(
            registration=registration, kind=kind, text=text, requested_by=actor, requested_at=timezone.now()
        )
        audit_record(
            event_type="evidence.placement_requested", actor=actor, subject=request, exam_id=registration.exam_id,
            registration_id=registration.pk, data={"kind": kind, "text": text},
        )
        # The phone shows the kind in its own language; the text is the invigilator's words.
        publish_on_commit(phone_group(registration.pk), "placement.requested", request_id=request.pk, kind=kind,
                          text=text)
        tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
    return request


def placement_request_confirm(*, registration: Registration, request_id: int) -> bool:
    """The candidate moved the phone and pressed "Done"; False if already confirmed or not theirs."""
    now = timezone.now()
    new = PlacementRequest.Status.CONFIRMED
    with transaction.atomic():
        request = PlacementRequest.objects.filter(pk=request_id, registration=registration).first()
        if request is None or new not in PlacementRequest.TRANSITIONS[request.status]:
            return False
        moved = PlacementRequest.objects.filter(pk=request.pk, status=request.status).update(
            status=new, confirmed_at=now)
        if not moved:
            return False
        audit_record(
            event_type="evidence.placement_confirmed", actor_label=actor_label_for_registration(registration.pk),
            subject=request, exam_id=registration.exam_id, registration_id=registration.pk,
            data={"kind": request.kind, "requested_at": request.requested_at.isoformat(),
                  "seconds_to_confirm": round((now - request.requested_at).total_seconds())},
        )
        tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
    return True
