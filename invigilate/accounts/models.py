from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INVIGILATOR = "invigilator", _("Invigilator")
    SUPERVISOR = "supervisor", _("Roaming supervisor")
    TECHNICIAN = "technician", _("Technician")
    REVIEWER = "reviewer", _("Reviewer")
    EXAM_ADMIN = "exam_admin", _("Exam administrator")


class User(AbstractUser):
    """A member of staff. Candidates are not users: they sign in per registration."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    @property
    def is_exam_admin(self) -> bool:
        return self.is_superuser or self.role == Role.EXAM_ADMIN


class CandidateSession(models.Model):
    """One signed-in PC page of a registration. At most one is live at a time."""

    class EndReason(models.TextChoices):
        LOGOUT = "logout", _("Signed out")
        REPLACED = "replaced", _("Replaced by a new login")
        EXPIRED = "expired", _("Expired")

    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, db_index=True)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("candidate session")
        verbose_name_plural = _("candidate sessions")
        constraints = [
            # Enforced by the database too: two racing logins cannot both create a live session.
            models.UniqueConstraint(
                fields=["registration"], condition=models.Q(ended_at__isnull=True),
                name="one_open_session_per_registration",
            )
        ]
