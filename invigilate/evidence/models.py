"""Evidence: recordings made on the candidate's devices and the resumable uploads carrying them.

A *recording* is one uninterrupted run of a MediaRecorder on one device (the phone's sweep,
the phone's whole-exam view, the PC's camera, the PC's screen, one interview answer). The
client cuts it into *segments* of a few seconds, each a self-contained file numbered from 0,
and sends each segment as one tus upload. Continuity is judged per recording from those
numbers: what the client says it has made versus what has arrived.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordingKind(models.TextChoices):
    SWEEP = "sweep", _("Room sweep (phone)")
    PHONE = "phone", _("Whole-exam view (phone)")
    PC_CAMERA = "pc_camera", _("Camera and microphone (PC)")
    PC_SCREEN = "pc_screen", _("Screen (PC)")
    ANSWER = "answer", _("Interview answer")


class Source(models.TextChoices):
    PC = "pc", _("PC")
    PHONE = "phone", _("Phone")


class PhoneDevice(models.Model):
    """A phone paired to a registration; its browser's Django session holds this id."""

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="phones")
    session_key = models.CharField(max_length=64, db_index=True)
    paired_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)


class PairingCode(models.Model):
    """A one-time code that pairs a phone to the registration whose PC page showed it."""

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="pairing_codes")
    # Typed by hand: short, upper case, no 0/O/1/I. Only unique among codes still usable.
    short_code = models.CharField(max_length=8, db_index=True)
    # Carried by the QR code's URL: long and unguessable.
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    phone = models.ForeignKey(PhoneDevice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")


class Recording(models.Model):
    """One uninterrupted recording on one device, as its client reports it."""

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="recordings")
    kind = models.CharField(max_length=16, choices=RecordingKind.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    # The client's id for the run (a UUID it makes); never used as a path.
    client_id = models.CharField(max_length=64)
    started_at = models.DateTimeField(null=True, blank=True)  # the client's clock
    segment_seconds = models.FloatField(default=5)
    # Highest segment number the client has said it made, and the last one if it has ended.
    last_seq = models.IntegerField(default=-1)
    final_seq = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_heard_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registration", "kind", "client_id"], name="recording_once_per_client_id")
        ]


class Upload(models.Model):
    """One tus upload: one segment of one recording."""

    class Status(models.TextChoices):
        RECEIVING = "receiving", _("Receiving")
        COMPLETE = "complete", _("Complete")
        TERMINATED = "terminated", _("Terminated by the client")
        EXPIRED = "expired", _("Expired before it was finished")
        REJECTED = "rejected", _("Rejected: content does not match its checksum")

    TRANSITIONS = {
        Status.RECEIVING: {Status.COMPLETE, Status.TERMINATED, Status.EXPIRED, Status.REJECTED},
        Status.COMPLETE: set(),
        Status.TERMINATED: set(),
        Status.EXPIRED: set(),
        Status.REJECTED: set(),
    }
    LIVE = (Status.RECEIVING, Status.COMPLETE)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="uploads")
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="uploads")
    source = models.CharField(max_length=8, choices=Source.choices)
    phone = models.ForeignKey(PhoneDevice, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads")
    seq = models.IntegerField()
    client_started_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100)
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    # The first bytes, kept until the magic-number check has seen enough of them.
    head = models.BinaryField(max_length=16, default=b"")
    declared_sha256 = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVING)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    # The assembled file, named by the server (never by the client).
    file_name = models.CharField(max_length=300, blank=True)
    # The request currently allowed to append; a newer PATCH takes over from a dead one.
    writer_token = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recording", "seq"], condition=models.Q(status__in=["receiving", "complete"]),
                name="one_live_upload_per_segment",
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]


class UploadPart(models.Model):
    """Bytes committed to storage by one PATCH (or one stretch of a long PATCH)."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="parts")
    start = models.BigIntegerField()
    size = models.BigIntegerField()
    storage_name = models.CharField(max_length=300)

    class Meta:
        ordering = ["start"]
        constraints = [models.UniqueConstraint(fields=["upload", "start"], name="part_once_per_offset")]


class Interruption(models.Model):
    """A stretch when a device was not recording (page hidden, camera lost, page closed)."""

    class Reason(models.TextChoices):
        PAGE_HIDDEN = "page_hidden", _("Page hidden")
        CAMERA_LOST = "camera_lost", _("Camera lost")
        PAGE_CLOSED = "page_closed", _("Page closed or phone restarted")
        RECORDER_ERROR = "recorder_error", _("Recorder error")
        # Noticed by the server, not reported: nothing arrived from the phone for too long.
        PHONE_SILENT = "phone_silent", _("Nothing heard from the phone")

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="interruptions")
    kind = models.CharField(max_length=16, choices=RecordingKind.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    client_id = models.CharField(max_length=64)  # idempotency: the client's id for this interruption
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "client_id"], name="interruption_once_per_client_id")
        ]

    @property
    def duration_seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


class PlacementRequest(models.Model):
    """An invigilator asks the candidate to move the phone; the candidate confirms on the phone."""

    class Kind(models.TextChoices):
        MORE_DESK = "more_desk", _("Show more of the desk")
        INCLUDE_SCREEN = "include_screen", _("Include the computer's screen")
        INCLUDE_CANDIDATE = "include_candidate", _("Include yourself and your hands")
        OTHER = "other", _("Other (as written)")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Asked, not yet confirmed")
        CONFIRMED = "confirmed", _("Confirmed by the candidate")

    TRANSITIONS = {Status.REQUESTED: {Status.CONFIRMED}, Status.CONFIRMED: set()}

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="placement_requests")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["registration", "status"])]
