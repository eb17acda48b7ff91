"""Help requests from candidates, routed to technicians who call them back.

A request lives in one exam's queue. Its ``status`` moves only through
``services.TRANSITIONS``; every move is audited. ``resolved``, ``unreachable``,
``transferred`` and ``cancelled`` end a request; a transfer to another technician ends the
request and opens its successor (``previous``) offered to that technician, so each
technician's part stays a record of its own and a candidate never has two open requests.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class HelpCategory(models.TextChoices):
    LOGIN = "login", _("Cannot log in")
    FACE_CHECK = "face_check", _("Face check fails")
    CAMERA_MICROPHONE = "camera_microphone", _("Camera or microphone")
    SCREEN_SHARE = "screen_share", _("Screen sharing")
    NETWORK = "network", _("Network")
    UPLOAD = "upload", _("Upload fails")
    PHONE = "phone", _("Phone / evidence camera")
    OTHER = "other", _("Other")


class HelpStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    OFFERED = "offered", _("Offered")
    CLAIMED = "claimed", _("Claimed")
    CALLING = "calling", _("Calling")
    RESOLVED = "resolved", _("Resolved")
    UNREACHABLE = "unreachable", _("Unreachable")
    TRANSFERRED = "transferred", _("Transferred")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (HelpStatus.QUEUED, HelpStatus.OFFERED, HelpStatus.CLAIMED, HelpStatus.CALLING)
WAITING_STATUSES = (HelpStatus.QUEUED, HelpStatus.OFFERED)
HANDLED_STATUSES = (HelpStatus.CLAIMED, HelpStatus.CALLING)


class ResolutionCategory(models.TextChoices):
    GUIDED = "guided", _("Guided the candidate through it")
    BROWSER_DEVICE = "browser_device", _("Browser or device settings changed")
    NETWORK = "network", _("Network restored")
    RELOGIN = "relogin", _("Signed in again")
    PLATFORM = "platform", _("Platform fault, reported")
    NOT_TECHNICAL = "not_technical", _("Not a technical problem")
    DUPLICATE = "duplicate", _("Duplicate request")
    OTHER = "other", _("Other")


class HelpQueue(models.Model):
    """One exam's queue. Its row lock serialises routing, so two web processes never offer
    two requests to one technician's single offer slot at the same time."""

    exam = models.OneToOneField("exams.Exam", on_delete=models.CASCADE, related_name="help_queue")


class HelpRequest(models.Model):
    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="help_requests")
    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="help_requests")
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="successor"
    )
    status = models.CharField(_("status"), max_length=12, choices=HelpStatus.choices, default=HelpStatus.QUEUED)
    category = models.CharField(_("category"), max_length=20, choices=HelpCategory.choices)
    description = models.TextField(_("what happened"), blank=True)
    phone = models.CharField(_("phone to call"), max_length=32)
    diagnostics = models.JSONField(_("diagnostics"), default=dict, blank=True)
    # False when asked from the sign-in page: the asker typed a ticket number and proved
    # nothing else, so the technician checks who answers before helping.
    identity_verified = models.BooleanField(default=True)

    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="help_requests"
    )
    # Technicians whose offer lapsed or who declined: skipped while anyone else can take it.
    passed_over = models.JSONField(default=list, blank=True)
    transferred_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    created_at = models.DateTimeField()
    first_offered_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    # Set when a time limit passed (claim lapsed, not resolved in time): the supervisors see it.
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(max_length=32, blank=True)

    resolution_category = models.CharField(
        _("resolution"), max_length=20, choices=ResolutionCategory.choices, blank=True
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["exam", "status", "created_at"])]
        constraints = [
            # One open request per candidate, enforced by the database against racing presses.
            models.UniqueConstraint(
                fields=["registration"],
                condition=models.Q(status__in=["queued", "offered", "claimed", "calling"]),
                name="one_open_help_request_per_registration",
            )
        ]

    def __str__(self) -> str:
        return f"help #{self.pk} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class HelpMessage(models.Model):
    """A line of the conversation: what the candidate added, or a canned message shown on
    the candidate's screen, or a technician's internal note (never shown to the candidate)."""

    class Kind(models.TextChoices):
        CANDIDATE = "candidate", _("From the candidate")
        TO_CANDIDATE = "to_candidate", _("To the candidate")
        NOTE = "note", _("Technician's note")

    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]


class CallAttempt(models.Model):
    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="calls")
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=32)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]


class TechnicianPresence(models.Model):
    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="help_presence")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OFFLINE)
    # What the technician chose; ``status`` is offline whatever they chose when no console is open.
    wants_away = models.BooleanField(default=False)
    connections = models.IntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Round robin: among equally loaded technicians the one offered to longest ago goes first.
    last_offered_at = models.DateTimeField(null=True, blank=True)


class TechnicianSkill(models.Model):
    """A category a technician handles. A technician with no skills set takes every category."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="help_skills")
    category = models.CharField(max_length=20, choices=HelpCategory.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="technician_skill_once")]
