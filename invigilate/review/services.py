"""Writes of the review: decisions (with four eyes on violations) and exports."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from invigilate.accounts.models import User
from invigilate.audit.services import audit_record
from invigilate.exams.models import Registration
from invigilate.exams.rules import exam_rules
from invigilate.proctoring.models import Alert

from .models import Decision, Outcome, ViolationRule


class ReviewError(Exception):
    """A decision that cannot be made as asked; the message says what to do instead."""


def _move(*, decision: Decision, to: str, fields: dict) -> bool:
    """Compare-and-set ``decision`` from its current status to ``to``; False if someone moved it first."""
    if to not in Decision.TRANSITIONS[decision.status]:
        raise ReviewError(_("This decision is %(status)s and can no longer be changed that way.")
                          % {"status": decision.get_status_display()})
    moved = Decision.objects.filter(pk=decision.pk, status=decision.status).update(status=to, **fields)
    if moved:
        decision.status = to
        for name, value in fields.items():
            setattr(decision, name, value)
    return bool(moved)


def _snapshot(decision: Decision) -> dict:
    return {"outcome": decision.outcome, "rule": decision.rule, "status": decision.status,
            "decided_by": decision.decided_by_id, "alert": decision.alert_id}


def decision_record(
    *, user: User, registration: Registration, outcome: str, reason: str, rule: str = "",
    alert: Alert | None = None, replaces: int | None = None,
) -> Decision:
    """Record a reviewer's decision on a candidate (or one alert), superseding the standing one.

    ``replaces`` is the id of the decision the reviewer saw as standing (None if none): if
    another reviewer decided in the meantime, nothing is recorded and ``ReviewError`` says so.
    The caller has checked that ``user`` may review ``registration``.
    """
    if outcome not in Outcome.values:
        raise ReviewError(_("Choose a decision."))
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("Give the reason for the decision."))
    if outcome == Outcome.VIOLATION:
        if rule not in ViolationRule.values:
            raise ReviewError(_("Name the rule that was broken."))
    else:
        rule = ""
    if alert is not None and alert.registration_id != registration.pk:
        raise ReviewError(_("That alert belongs to another candidate."))
    needs_second = outcome == Outcome.VIOLATION and exam_rules(registration.exam).review_violation_needs_second_reviewer
    now = timezone.now()
    try:
        with transaction.atomic():
            standing = (Decision.objects.select_for_update()
                        .filter(registration=registration, alert=alert, status__in=Decision.CURRENT).first())
            if (standing.pk if standing else None) != replaces:
                raise ReviewError(_("Another reviewer has just recorded a decision here; read it and decide again."))
            before = None
            if standing is not None:
                before = _snapshot(standing)
                if not _move(decision=standing, to=Decision.Status.SUPERSEDED, fields={"superseded_at": now}):
                    raise ReviewError(_("Another reviewer has just recorded a decision here; read it and decide again."))
            decision = Decision.objects.create(
                exam_id=registration.exam_id, registration=registration, alert=alert, outcome=outcome, rule=rule,
                reason=reason, decided_by=user, decided_at=now,
                status=Decision.Status.AWAITING_SECOND if needs_second else Decision.Status.RECORDED,
            )
            audit_record(
                event_type="review.decision_recorded", actor=user, subject=decision, exam_id=registration.exam_id,
                registration_id=registration.pk,
                data={"before": before, "after": _snapshot(decision), "reason": reason},
            )
    except IntegrityError as error:
        # The partial unique index: a racing reviewer recorded first.
        raise ReviewError(_("Another reviewer has just recorded a decision here; read it and decide again.")) from error
    return decision


def decision_second(*, user: User, decision: Decision, agree: bool, note: str = "") -> Decision:
    """A second reviewer confirms (``agree``) or rejects a violation awaiting four eyes."""
    if decision.decided_by_id == user.pk:
        raise ReviewError(_("A second reviewer must confirm this; you recorded it yourself."))
    note = (note or "").strip()
    if not agree and not note:
        raise ReviewError(_("Say why you do not agree."))
    to = Decision.Status.CONFIRMED if agree else Decision.Status.REJECTED
    with transaction.atomic():
        before = _snapshot(decision)
        if not _move(decision=decision, to=to, fields={"second_by": user, "second_at": timezone.now(),
                                                       "second_note": note}):
            raise ReviewError(_("Another reviewer has just acted on this decision; reload the page."))
        audit_record(
            event_type="review.decision_confirmed" if agree else "review.decision_rejected", actor=user,
            subject=decision, exam_id=decision.exam_id, registration_id=decision.registration_id,
            data={"before": before, "after": _snapshot(decision), "note": note},
        )
    return decision
