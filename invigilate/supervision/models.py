"""What supervision records about the people watching an exam.

- ``DashboardConnection``: one open room dashboard (its websocket), from connect to
  disconnect. Whether an invigilator is online, since when, and their gaps come from these.
- ``CandidateView``: a member of staff looking at one candidate (the drawer or the focused
  live view), as one stretch from first open to the last refresh.
- ``AuditNote``: a supervisor's note on an invigilator or a room, with a severity.
- ``StaffMessage``: a message between invigilators, supervisors and technicians about a
  room or a candidate, kept with the exam's records.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DashboardConnection(models.Model):
    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey("exams.ExamRoom", on_delete=models.CASCADE, related_name="dashboard_connections")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboard_connections")
    # The user's role when they connected: an invigilator at work, or a supervisor dropping in.
    role = models.CharField(max_length=16)
    channel_name = models.CharField(max_length=200)
    connected_at = models.DateTimeField()
    # Bumped by the dashboard's periodic sync; a connection silent for long (a process that
    # died says no goodbye) is closed at its last sign of life by the sweep.
    last_seen_at = models.DateTimeField()
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["connected_at", "pk"]
        indexes = [
            models.Index(fields=["room", "user", "connected_at"]),
            models.Index(fields=["exam", "disconnected_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in room {self.room_id} from {self.connected_at:%H:%M:%S}"


class CandidateView(models.Model):
    class Kind(models.TextChoices):
        DRAWER = "drawer", _("Candidate details")
        FOCUS = "focus", _("Focused live view")

    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey("exams.ExamRoom", on_delete=models.CASCADE, related_name="+")
    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="staff_views")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="candidate_views")
    viewer_role = models.CharField(max_length=16)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["opened_at", "pk"]
        indexes = [
            models.Index(fields=["registration", "last_seen_at"]),
            models.Index(fields=["room", "viewer", "opened_at"]),
        ]


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    CONCERN = "concern", _("Concern")
    SERIOUS = "serious", _("Serious")


class AuditNote(models.Model):
    """A supervisor's observation about an invigilator (``subject_user``) or a room."""

    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="audit_notes")
    room = models.ForeignKey("exams.ExamRoom", null=True, blank=True, on_delete=models.CASCADE, related_name="audit_notes")
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_notes_about"
    )
    registration = models.ForeignKey(
        "exams.Registration", null=True, blank=True, on_delete=models.CASCADE, related_name="audit_notes"
    )
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.INFO)
    text = models.TextField(_("note"), max_length=2000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.severity}: {self.text[:40]}"


class StaffMessage(models.Model):
    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="staff_messages")
    # No room: a message to the exam's supervisors and technicians only.
    room = models.ForeignKey("exams.ExamRoom", null=True, blank=True, on_delete=models.CASCADE, related_name="staff_messages")
    registration = models.ForeignKey(
        "exams.Registration", null=True, blank=True, on_delete=models.CASCADE, related_name="staff_messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=16)
    text = models.TextField(_("message"), max_length=1000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["exam", "created_at"])]

    def __str__(self) -> str:
        return f"{self.author_role}: {self.text[:40]}"

    @property
    def author_role_label(self) -> str:
        from invigilate.accounts.models import Role

        return Role(self.author_role).label if self.author_role in Role.values else self.author_role
