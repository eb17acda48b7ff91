"""Reads of the review, scoped to who asks: the exam's reviewers and exam admins, nobody else."""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from invigilate.accounts.models import Role, User
from invigilate.evidence.models import Interruption
from invigilate.exams.models import Downtime, Exam, Registration
from invigilate.media.models import RecordingGap
from invigilate.proctoring.models import Alert, InvigilatorAction, Signal

from .models import Decision


def user_may_review(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.is_active
                and (user.is_exam_admin or user.role == Role.REVIEWER))


def exam_list_for_reviewer(*, user: User) -> QuerySet[Exam]:
    """Exams the user reviews: those they are assigned to as reviewer; every exam for exam admins."""
    if not user_may_review(user):
        return Exam.objects.none()
    if user.is_exam_admin:
        return Exam.objects.order_by("-starts_at")
    return Exam.objects.filter(
        staff_assignments__user=user, staff_assignments__role=Role.REVIEWER
    ).distinct().order_by("-starts_at")


def exam_get_for_reviewer(*, user: User, exam_id: int) -> Exam | None:
    return exam_list_for_reviewer(user=user).filter(pk=exam_id).first()


def registration_get_for_reviewer(*, user: User, registration_id: int) -> Registration | None:
    return (Registration.objects.select_related("exam", "room", "candidate")
            .filter(pk=registration_id, exam__in=exam_list_for_reviewer(user=user)).first())


def _count(queryset) -> Coalesce:
    counted = queryset.values("registration").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# How much each kind of finding weighs in the suspicion ranking. An open or escalated alert
# is weighed on top of its severity, so unresolved high alerts come first.
SUSPICION_WEIGHTS = {
    "n_high_alerts": 5, "n_unresolved_alerts": 3, "n_alerts": 1, "n_detector_flags": 2, "n_flags": 8,
    "n_gaps": 2, "n_interruptions": 3, "n_second_logins": 6, "n_downtimes": 2,
}

FILTERS = ("unresolved", "flagged", "detector", "gaps", "second_login", "downtime", "undecided", "violation")


def candidate_list_for_review(
    *, user: User, exam: Exam, room_id: int | None = None, show: str = "", search: str = "",
) -> QuerySet[Registration]:
    """The exam's candidates with what makes each suspicious, most suspicious first.

    ``show`` narrows to one of ``FILTERS``; ``search`` matches name or ticket number.
    """
    if exam_get_for_reviewer(user=user, exam_id=exam.pk) is None:
        return Registration.objects.none()
    by_registration = OuterRef("pk")
    alerts = Alert.objects.filter(registration=by_registration)
    standing = Decision.objects.filter(registration=by_registration, alert__isnull=True,
                                       status__in=Decision.CURRENT)
    registrations = (
        Registration.objects.filter(exam=exam).select_related("candidate", "room")
        .annotate(
            n_alerts=_count(alerts),
            n_high_alerts=_count(alerts.filter(severity=Alert.Severity.HIGH)),
            n_unresolved_alerts=_count(alerts.filter(status__in=[Alert.Status.OPEN, Alert.Status.ESCALATED])),
            n_detector_flags=_count(Signal.objects.filter(registration=by_registration, source=Signal.Source.DETECTOR)),
            n_flags=_count(InvigilatorAction.objects.filter(registration=by_registration,
                                                          kind=InvigilatorAction.Kind.FLAG)),
            n_gaps=_count(RecordingGap.objects.filter(registration=by_registration)),
            n_interruptions=_count(Interruption.objects.filter(registration=by_registration)),
            n_second_logins=_count(Signal.objects.filter(registration=by_registration, kind="second_login")),
            n_downtimes=_count(Downtime.objects.filter(registration=by_registration)),
            decision_outcome=Subquery(standing.values("outcome")[:1]),
            decision_status=Subquery(standing.values("status")[:1]),
        )
    )
    score = Value(0)
    for field, weight in SUSPICION_WEIGHTS.items():
        score = score + Coalesce(field, Value(0)) * weight
    registrations = registrations.annotate(suspicion=score)
    if room_id:
        registrations = registrations.filter(room_id=room_id)
    if search:
        registrations = registrations.filter(Q(candidate__full_name__icontains=search)
                                             | Q(ticket_number__icontains=search))
    narrowed = {
        "unresolved": Q(n_unresolved_alerts__gt=0), "flagged": Q(n_flags__gt=0), "detector": Q(n_detector_flags__gt=0),
        "gaps": Q(n_gaps__gt=0) | Q(n_interruptions__gt=0), "second_login": Q(n_second_logins__gt=0),
        "downtime": Q(n_downtimes__gt=0), "undecided": Q(decision_outcome__isnull=True),
        "violation": Q(decision_outcome="violation"),
    }
    if show in narrowed:
        registrations = registrations.filter(narrowed[show])
    return registrations.order_by("-suspicion", "room__name", "seat")


@dataclass(frozen=True)
class Decisions:
    standing: Decision | None  # the candidate's current decision
    by_alert: dict[int, Decision]  # each alert's current decision
    history: list[Decision]  # every decision, oldest first


def decisions_for_registration(*, registration: Registration) -> Decisions:
    history = list(Decision.objects.filter(registration=registration)
                   .select_related("decided_by", "second_by", "alert").order_by("decided_at", "pk"))
    current = [decision for decision in history if decision.status in Decision.CURRENT]
    return Decisions(
        standing=next((decision for decision in current if decision.alert_id is None), None),
        by_alert={decision.alert_id: decision for decision in current if decision.alert_id is not None},
        history=history,
    )


def decision_get_for_reviewer(*, user: User, decision_id: int) -> Decision | None:
    return (Decision.objects.select_related("registration__exam", "decided_by")
            .filter(pk=decision_id, exam__in=exam_list_for_reviewer(user=user)).first())


def decisions_awaiting_second(*, user: User, exam: Exam) -> QuerySet[Decision]:
    """Violations in the exam waiting for a reviewer other than the one who recorded them."""
    return (Decision.objects.filter(exam=exam, status=Decision.Status.AWAITING_SECOND,
                                    exam__in=exam_list_for_reviewer(user=user))
            .exclude(decided_by=user).select_related("registration__candidate", "decided_by"))
