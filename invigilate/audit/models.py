"""The tamper-evident audit chain.

Every state change that matters later is appended here in the same transaction as the change.
Rows form one hash chain per exam (``chain`` = the exam's id, 0 for events that belong to no
exam): each row stores its predecessor's hash and the hash of its own canonical content, so
editing, deleting or reordering any row breaks every link after it. One chain per exam keeps
two exams from queueing behind one lock, and lets an exam's chain be exported on its own.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditChain(models.Model):
    """The head of one chain; its row lock serialises appends to that chain."""

    key = models.BigIntegerField(primary_key=True)
    length = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default="0" * 64)


class AuditEvent(models.Model):
    chain = models.BigIntegerField(_("chain"), db_index=True)
    position = models.BigIntegerField(_("position"))
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who acted, readable without joins and stable if a user is renamed:
    # "user:12", "candidate:345" (a registration), "system".
    actor_label = models.CharField(_("actor"), max_length=64)
    event_type = models.CharField(_("event"), max_length=64, db_index=True)
    subject_type = models.CharField(_("subject type"), max_length=64, blank=True)
    subject_id = models.CharField(_("subject"), max_length=64, blank=True)
    registration_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "position"], name="audit_chain_position_unique")
        ]
        ordering = ["chain", "position"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.chain}#{self.position} {self.event_type} by {self.actor_label}"
