"""What the media plane keeps in the database.

Frames and packets never touch the database: it records only who serves whom
(``MediaWorker``, ``MediaPeer``), what was recorded (``RecordingSegment``) and where the
recording has holes (``RecordingGap``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MediaWorker(models.Model):
    """One aiortc process (or the embedded one inside the web process)."""

    class Status(models.TextChoices):
        ALIVE = "alive", _("Alive")
        STOPPED = "stopped", _("Stopped")
        DEAD = "dead", _("Dead (missed heartbeats)")

    name = models.CharField(max_length=100, unique=True)
    channel_name = models.CharField(max_length=200)
    host = models.CharField(max_length=100, blank=True)
    pid = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ALIVE)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    # Share of one core used since the previous heartbeat (0..1), and peers held.
    load = models.FloatField(default=0)
    peer_count = models.PositiveIntegerField(default=0)
    accepting = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return self.name


class MediaPeer(models.Model):
    """One WebRTC connection from a candidate's device, held by one worker."""

    class Source(models.TextChoices):
        PC = "pc", _("Computer")
        PHONE = "phone", _("Phone")

    class Status(models.TextChoices):
        CONNECTING = "connecting", _("Connecting")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    TRANSITIONS = {
        Status.CONNECTING: {Status.LIVE, Status.ENDED},
        Status.LIVE: {Status.ENDED},
        Status.ENDED: set(),
    }

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="media_peers")
    worker = models.ForeignKey(MediaWorker, on_delete=models.PROTECT, related_name="peers")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PC)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONNECTING)
    created_at = models.DateTimeField()
    live_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["registration", "source", "status"])]


class RecordingSegment(models.Model):
    """One WebM file made by copying received packets (no re-encoding)."""

    class Track(models.TextChoices):
        CAMERA = "camera", _("Camera and microphone")
        SCREEN = "screen", _("Screen")

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="recording_segments")
    peer = models.ForeignKey(MediaPeer, on_delete=models.SET_NULL, null=True, related_name="segments")
    track = models.CharField(max_length=8, choices=Track.choices)
    sequence = models.PositiveIntegerField()
    path = models.CharField(max_length=300)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    duration_seconds = models.FloatField()
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["registration", "track", "started_at"]


class RecordingGap(models.Model):
    """A stretch of the exam with no media from a device (disconnection, lost worker)."""

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="recording_gaps")
    source = models.CharField(max_length=8, choices=MediaPeer.Source.choices, default=MediaPeer.Source.PC)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=32)

    class Meta:
        ordering = ["registration", "started_at"]
