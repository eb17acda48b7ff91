"""Integrity signals, the alerts raised from them, and what invigilators do about them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Signal(models.Model):
    """One thing a candidate's browser, a detector or the server noticed. Never changed."""

    class Source(models.TextChoices):
        BROWSER = "browser", _("Candidate's browser")
        DETECTOR = "detector", _("Automatic detector")
        SERVER = "server", _("Server")

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="signals")
    source = models.CharField(max_length=16, choices=Source.choices)
    kind = models.CharField(max_length=48)
    # A page load picks a random client_id and numbers its messages from 1; a replay of the
    # same (client_id, client_seq) is ignored. Server and detector signals may have no seq.
    client_id = models.CharField(max_length=40, blank=True, default="")
    client_seq = models.PositiveBigIntegerField(null=True, blank=True)
    client_time = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(db_index=True)
    data = models.JSONField(default=dict, blank=True)
    alert = models.ForeignKey("Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="signals")

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "source", "client_id", "client_seq"],
                condition=models.Q(client_seq__isnull=False),
                name="signal_once_per_client_seq",
            )
        ]
        indexes = [models.Index(fields=["registration", "received_at"])]

    def __str__(self) -> str:
        return f"{self.kind} ({self.source}) #{self.registration_id}"

    @property
    def label(self) -> str:
        from .rules import signal_kind_label

        return signal_kind_label(self.kind)


class ExamAlertCounter(models.Model):
    """The last alert number of an exam. Locked while numbering, so numbers have no gaps."""

    exam = models.OneToOneField("exams.Exam", on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_sequence = models.PositiveIntegerField(default=0)


class Alert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ESCALATED = "escalated", _("Escalated")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")
        DISMISSED = "dismissed", _("Dismissed")

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="alerts")
    room = models.ForeignKey("exams.ExamRoom", on_delete=models.CASCADE, related_name="alerts")
    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="alerts")
    # Gap-free per exam. NULL only inside the transaction that raises the alert, until it is
    # numbered as that transaction's last step (proctoring.services._alert_number).
    sequence = models.PositiveIntegerField(null=True)
    kind = models.CharField(max_length=48)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    count = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    # Bumped by every change (fold or transition): a dashboard catches up on it.
    changed_at = models.DateTimeField(db_index=True)
    data = models.JSONField(default=dict, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The acting user's role when they acknowledged (a supervisor may act for the room).
    acknowledged_role = models.CharField(max_length=16, blank=True)
    acknowledged_on_behalf = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_role = models.CharField(max_length=16, blank=True)
    dismiss_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-sequence"]
        constraints = [models.UniqueConstraint(fields=["exam", "sequence"], name="alert_sequence_unique_per_exam")]
        indexes = [
            models.Index(fields=["room", "changed_at"]),
            models.Index(fields=["registration", "kind", "status"]),
            models.Index(fields=["status", "first_seen_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.kind} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def acknowledged_role_label(self) -> str:
        from invigilate.accounts.models import Role

        return Role(self.acknowledged_role).label if self.acknowledged_role in Role.values else self.acknowledged_role

    @property
    def sentence(self) -> str:
        from .rules import alert_rule

        return alert_rule(self.kind).sentence_for(self)


ACTIVE_STATUSES = {Alert.Status.OPEN, Alert.Status.ESCALATED, Alert.Status.ACKNOWLEDGED}


class InvigilatorAction(models.Model):
    """A warning shown to the candidate, a note, or a flag for the reviewers."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        NOTE = "note", _("Note")
        FLAG = "flag", _("Flagged for review")

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="invigilator_actions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    text = models.TextField(_("text"), max_length=1000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=16, blank=True)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)  # warnings: the candidate pressed OK

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.registration_id}"
