"""Reads of the help desk, each scoped to who asks."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Avg, Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from invigilate.accounts.models import Role, User
from invigilate.accounts.selectors import exam_list_for_staff, user_has_exam_role
from invigilate.exams.models import Exam, Registration
from invigilate.exams.rules import exam_rules

from .models import (
    OPEN_STATUSES,
    WAITING_STATUSES,
    HelpRequest,
    HelpStatus,
    TechnicianPresence,
    TechnicianSkill,
)

# A finished request stays on the candidate's screen this long, so "resolved" and the
# reminder to put the phone back are seen.
RECENTLY_CLOSED = timedelta(minutes=30)


def _with_people(queryset: QuerySet[HelpRequest]) -> QuerySet[HelpRequest]:
    return queryset.select_related(
        "exam", "technician", "transferred_to", "registration__candidate", "registration__room"
    )


def exam_ids_for_technician(*, user: User) -> list[int]:
    return list(exam_list_for_staff(user=user, role=Role.TECHNICIAN).values_list("pk", flat=True))


def help_request_list_waiting(*, user: User) -> QuerySet[HelpRequest]:
    """The live queue of the technician's exams, oldest first."""
    return _with_people(
        HelpRequest.objects.filter(exam_id__in=exam_ids_for_technician(user=user), status__in=WAITING_STATUSES)
    ).order_by("created_at", "pk")


def help_request_list_mine(*, user: User) -> QuerySet[HelpRequest]:
    """Requests offered to or held by the technician, in their exams."""
    return _with_people(
        HelpRequest.objects.filter(
            technician=user, status__in=OPEN_STATUSES, exam_id__in=exam_ids_for_technician(user=user)
        )
    ).order_by("created_at", "pk")


def help_request_get_for_technician(*, user: User, request_id: int) -> HelpRequest:
    """One request of the technician's exams; 404 for anything else (no hint that it exists)."""
    request = _with_people(HelpRequest.objects.filter(exam_id__in=exam_ids_for_technician(user=user))).filter(
        pk=request_id
    ).first()
    if request is None:
        raise Http404
    return request


def help_request_list_for_supervisor(*, user: User, exam: Exam) -> QuerySet[HelpRequest]:
    """The whole queue and history of one exam, for its supervisors (escalated first, then oldest)."""
    if not user_has_exam_role(user=user, exam_id=exam.pk, role=Role.SUPERVISOR):
        return HelpRequest.objects.none()
    return _with_people(HelpRequest.objects.filter(exam=exam)).order_by(
        F("closed_at").asc(nulls_first=True), F("escalated_at").asc(nulls_last=True), "created_at"
    )


def help_request_current_for_registration(*, registration_id: int) -> HelpRequest | None:
    """What the candidate's page shows: the open request, else one closed a moment ago."""
    requests = _with_people(HelpRequest.objects.filter(registration_id=registration_id))
    current = requests.filter(status__in=OPEN_STATUSES).first()
    if current is not None:
        return current
    return requests.filter(closed_at__gte=timezone.now() - RECENTLY_CLOSED).order_by("-closed_at", "-pk").first()


def help_request_latest_of_chain(*, request_id: int) -> HelpRequest | None:
    """Follow transfers to the request that carries the candidate's case now."""
    request = _with_people(HelpRequest.objects.filter(pk=request_id)).first()
    for _hop in range(20):
        if request is None or request.status != HelpStatus.TRANSFERRED:
            break
        successor = _with_people(HelpRequest.objects.filter(previous=request)).first()
        if successor is None:
            break
        request = successor
    return request


def help_request_queue_position(*, request: HelpRequest) -> int | None:
    """1 for the next to be taken in the exam's queue; None once a technician has it."""
    if request.status not in WAITING_STATUSES:
        return None
    ahead = HelpRequest.objects.filter(exam_id=request.exam_id, status__in=WAITING_STATUSES).filter(
        Q(created_at__lt=request.created_at) | Q(created_at=request.created_at, pk__lt=request.pk)
    )
    return ahead.count() + 1


def help_registration_for_ticket(*, ticket_number: str, now=None) -> Registration | None:
    """The registration a ticket number asks help for: the one whose help window is open
    (from before the join window to the end of the incident window), ending soonest."""
    now = now or timezone.now()
    candidates = Registration.objects.select_related("exam", "candidate", "room").filter(
        ticket_number__iexact=(ticket_number or "").strip()
    )
    open_now = [
        registration for registration in candidates
        if registration.exam.join_opens_at - timedelta(minutes=exam_rules(registration.exam).help_opens_minutes_before_join)
        <= now <= registration.exam.incident_window_closes_at
    ]
    return min(open_now, key=lambda registration: registration.exam.ends_at, default=None)


@dataclass(frozen=True)
class TileSummary:
    request_id: int
    status: str
    label: str
    is_open: bool
    escalated: bool
    category: str
    at: object


def _tile_summary(request: HelpRequest) -> TileSummary:
    if request.status == HelpStatus.TRANSFERRED and request.transferred_to_id and request.transferred_to.role == Role.INVIGILATOR:
        label = _("Help: passed to the invigilator")
    elif request.is_open:
        label = _("Help asked: %(status)s") % {"status": request.get_status_display().lower()}
    else:
        label = _("Help %(status)s") % {"status": request.get_status_display().lower()}
    return TileSummary(
        request_id=request.pk, status=request.status, label=label, is_open=request.is_open,
        escalated=request.escalated_at is not None, category=request.get_category_display(),
        at=request.closed_at or request.created_at,
    )


def help_request_summary_for_tile(*, registration: Registration) -> TileSummary | None:
    """For an invigilator's tile of a registration they may already see: did the candidate ask
    for help, and how did it end. None if they never asked in this exam."""
    latest = (
        HelpRequest.objects.select_related("transferred_to").filter(registration=registration)
        .order_by(F("closed_at").desc(nulls_first=True), "-created_at", "-pk").first()
    )
    return _tile_summary(latest) if latest else None


def help_request_summaries_for_tiles(*, registration_ids: list[int]) -> dict[int, TileSummary]:
    """The same as ``help_request_summary_for_tile`` for a whole wall in one query."""
    summaries: dict[int, TileSummary] = {}
    requests = (
        HelpRequest.objects.select_related("transferred_to").filter(registration_id__in=registration_ids)
        .order_by("registration_id", F("closed_at").desc(nulls_first=True), "-created_at", "-pk")
    )
    for request in requests:
        summaries.setdefault(request.registration_id, _tile_summary(request))
    return summaries


@dataclass(frozen=True)
class TechnicianCounters:
    presence: str
    offered: int
    handling: int
    resolved_today: int
    unreachable_today: int
    transferred_today: int
    minutes_to_resolve_today: float | None


def technician_counters(*, user: User) -> TechnicianCounters:
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    mine = HelpRequest.objects.filter(technician=user)
    open_counts = dict(mine.filter(status__in=OPEN_STATUSES).values_list("status").annotate(n=Count("pk")))
    closed_today = mine.filter(closed_at__gte=since)
    closed_counts = dict(closed_today.values_list("status").annotate(n=Count("pk")))
    average = closed_today.filter(status=HelpStatus.RESOLVED, claimed_at__isnull=False).aggregate(
        duration=Avg(F("closed_at") - F("claimed_at"))
    )["duration"]
    presence = TechnicianPresence.objects.filter(user=user).values_list("status", flat=True).first()
    return TechnicianCounters(
        presence=presence or TechnicianPresence.Status.OFFLINE,
        offered=open_counts.get(HelpStatus.OFFERED, 0),
        handling=open_counts.get(HelpStatus.CLAIMED, 0) + open_counts.get(HelpStatus.CALLING, 0),
        resolved_today=closed_counts.get(HelpStatus.RESOLVED, 0),
        unreachable_today=closed_counts.get(HelpStatus.UNREACHABLE, 0),
        transferred_today=closed_counts.get(HelpStatus.TRANSFERRED, 0),
        minutes_to_resolve_today=round(average.total_seconds() / 60, 1) if average else None,
    )


def technician_list_for_exams(*, exam_ids: list[int]) -> QuerySet[User]:
    """Technicians of these exams with their presence, for the console's side panel and transfers."""
    return (
        User.objects.filter(exam_assignments__exam_id__in=exam_ids, exam_assignments__role=Role.TECHNICIAN, is_active=True)
        .select_related("help_presence").distinct().order_by("first_name", "username")
    )


def invigilator_list_for_request(*, request: HelpRequest) -> QuerySet[User]:
    return User.objects.filter(room_assignments__room_id=request.registration.room_id).distinct()


def technician_skill_list(*, user: User) -> list[str]:
    return list(TechnicianSkill.objects.filter(user=user).values_list("category", flat=True))
