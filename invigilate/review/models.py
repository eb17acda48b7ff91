"""Reviewers' decisions on a candidate (and optionally on one of the candidate's alerts).

A decision is never edited: a new decision supersedes the current one, and a second reviewer
confirms or rejects a violation when the exam's rules ask for four eyes. The statuses move
only along ``TRANSITIONS`` (enforced by ``services``).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    NO_VIOLATION = "no_violation", _("No violation")
    VIOLATION = "violation", _("Violation confirmed")
    INCONCLUSIVE = "inconclusive", _("Inconclusive")


class ViolationRule(models.TextChoices):
    """The violations that affect validity, as the candidate notice lists them (§4.9), plus the
    other rules a reviewer may find broken (§4.3, §4.5, §4.7, §4.17)."""

    SUBSTITUTE = "substitute", _("Substitute test-taker")
    SWITCHING_SCREENS = "switching_screens", _("Switching screens or windows")
    SCREENSHOTS = "screenshots", _("Taking screenshots")
    MULTI_SCREEN = "multi_screen", _("Multi-screen login")
    BROWSING = "browsing", _("Browsing the web")
    SEARCHING = "searching", _("Searching online")
    CONSULTING_MATERIAL = "consulting_material", _("Consulting material")
    COMMUNICATION_TOOLS = "communication_tools", _("Using communication tools without permission")
    REMOTE_TOOLS = "remote_tools", _("Using remote tools without permission")
    LEAVING_SEAT = "leaving_seat", _("Leaving the seat")
    TALKING = "talking", _("Talking to others")
    HEADPHONES = "headphones", _("Wearing headphones")
    CHEATING_TOOLS = "cheating_tools", _("Using cheating tools")
    TOUCHING_PHONE = "touching_phone", _("Touching the phone without permission")
    COPYING_QUESTIONS = "copying_questions", _("Filming, copying or spreading the questions")
    RECORDING_INTERRUPTED = "recording_interrupted", _("Unexplained interruption of the evidence recording")
    OTHER_DISCIPLINE = "other_discipline", _("Other breach of the exam rules")


# Statuses of the decision that stands for its subject (see Decision.CURRENT).
_CURRENT_STATUSES = ["recorded", "awaiting_second", "confirmed"]


class Decision(models.Model):
    class Status(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        AWAITING_SECOND = "awaiting_second", _("Awaiting a second reviewer")
        CONFIRMED = "confirmed", _("Confirmed by a second reviewer")
        REJECTED = "rejected", _("Rejected by a second reviewer")
        SUPERSEDED = "superseded", _("Superseded")

    TRANSITIONS = {
        Status.RECORDED: {Status.SUPERSEDED},
        Status.AWAITING_SECOND: {Status.CONFIRMED, Status.REJECTED, Status.SUPERSEDED},
        Status.CONFIRMED: {Status.SUPERSEDED},
        Status.REJECTED: set(),
        Status.SUPERSEDED: set(),
    }
    # The decision that stands for its subject (at most one at a time).
    CURRENT = (Status.RECORDED, Status.AWAITING_SECOND, Status.CONFIRMED)
    # A decision that is in force (a pending violation is not yet).
    FINAL = (Status.RECORDED, Status.CONFIRMED)

    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="review_decisions")
    registration = models.ForeignKey("exams.Registration", on_delete=models.CASCADE, related_name="review_decisions")
    # Set when the decision is about one alert; empty for the candidate as a whole.
    alert = models.ForeignKey("proctoring.Alert", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="review_decisions")
    outcome = models.CharField(_("decision"), max_length=16, choices=Outcome.choices)
    rule = models.CharField(_("rule broken"), max_length=32, choices=ViolationRule.choices, blank=True)
    reason = models.TextField(_("reason"), max_length=4000)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    second_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    second_at = models.DateTimeField(null=True, blank=True)
    second_note = models.TextField(blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            # One standing decision per candidate, and per alert: two racing reviewers cannot both record.
            models.UniqueConstraint(
                fields=["registration"], condition=models.Q(alert__isnull=True, status__in=_CURRENT_STATUSES),
                name="review_one_current_decision_per_candidate",
            ),
            models.UniqueConstraint(
                fields=["alert"], condition=models.Q(alert__isnull=False, status__in=_CURRENT_STATUSES),
                name="review_one_current_decision_per_alert",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="violation", rule__gt="") | ~models.Q(outcome="violation"),
                name="review_violation_names_a_rule",
            ),
        ]
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")

    def __str__(self) -> str:
        return f"{self.outcome} ({self.status}) #{self.registration_id}"

    @property
    def in_force(self) -> bool:
        return self.status in self.FINAL
