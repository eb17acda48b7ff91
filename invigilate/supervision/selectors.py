"""Reads of supervision: who may see what, and the figures that make supervising fair.

Every figure is computed from stored history (dashboard connections, alert timestamps,
candidate views, invigilators' actions) at a given ``now``, so the same history always
gives the same figures, and the tests replay hand-built histories at fixed times.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from invigilate.accounts.models import Role, User
from invigilate.accounts.selectors import exam_list_for_staff, user_has_exam_role
from invigilate.exams.models import Exam, ExamRoom, Registration, RoomInvigilator
from invigilate.exams.rules import exam_rules
from invigilate.helpdesk.models import OPEN_STATUSES as HELP_OPEN_STATUSES
from invigilate.helpdesk.models import WAITING_STATUSES as HELP_WAITING_STATUSES
from invigilate.helpdesk.models import HelpRequest
from invigilate.proctoring.models import ACTIVE_STATUSES, Alert, InvigilatorAction

from .models import AuditNote, CandidateView, DashboardConnection, StaffMessage

Stage = Registration.Stage
# A reconnect shorter than this (a page reload, a network blip) is not a gap in attention.
GAP_MIN_SECONDS = 10
FINISHED_STAGES = (Stage.SUBMITTED, Stage.COMPLETE)
# Candidates someone must be watching: joined and not finished.
WATCHED_STAGES = tuple(stage for stage in Stage.values if stage not in {Stage.NOT_JOINED, *FINISHED_STAGES})
PRE_EXAM_STAGES = tuple(stage for stage in WATCHED_STAGES if stage != Stage.IN_EXAM)


# --- Who may see what -------------------------------------------------------------------

def exam_list_for_supervisor(*, user: User) -> QuerySet[Exam]:
    if not user.is_active or not (user.is_exam_admin or user.role == Role.SUPERVISOR):
        return Exam.objects.none()
    return exam_list_for_staff(user=user, role=Role.SUPERVISOR).order_by("-starts_at")


def exam_get_for_supervisor(*, user: User, exam_id: int) -> Exam | None:
    return exam_list_for_supervisor(user=user).filter(pk=exam_id).first()


def room_get_for_supervisor(*, user: User, room_id: int) -> ExamRoom | None:
    return ExamRoom.objects.select_related("exam").filter(pk=room_id, exam__in=exam_list_for_supervisor(user=user)).first()


def invigilator_rooms(*, user: User, exam: Exam) -> QuerySet[ExamRoom]:
    return ExamRoom.objects.filter(exam=exam, invigilator_assignments__user=user).order_by("name").distinct()


def invigilator_get_for_supervisor(*, user: User, exam: Exam, invigilator_id: int) -> User | None:
    """An invigilator of one of the exam's rooms, if ``user`` supervises that exam."""
    if exam_get_for_supervisor(user=user, exam_id=exam.pk) is None:
        return None
    return User.objects.filter(pk=invigilator_id, room_assignments__room__exam=exam).distinct().first()


def invigilator_list_for_exam(*, exam: Exam) -> list[User]:
    return list(User.objects.filter(room_assignments__room__exam=exam).distinct().order_by("first_name", "username"))


# --- Presence ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Stretch:
    start: datetime
    end: datetime | None  # None: still going on

    def seconds(self, now: datetime) -> float:
        return ((self.end or now) - self.start).total_seconds()


@dataclass(frozen=True)
class Presence:
    online: bool
    since: datetime | None  # start of the current online (or offline) stretch; None if never seen
    online_stretches: list[Stretch]
    gaps: list[Stretch]  # offline between the first connection and now, GAP_MIN_SECONDS or longer

    def offline_seconds(self, now: datetime) -> float:
        return sum(gap.seconds(now) for gap in self.gaps)


def _merge(connections: list[tuple[datetime, datetime | None]]) -> list[Stretch]:
    """Overlapping connections (two tabs, a reload) are one online stretch."""
    stretches: list[list] = []
    for start, end in sorted(connections, key=lambda pair: pair[0]):
        if stretches and (stretches[-1][1] is None or start <= stretches[-1][1]):
            last = stretches[-1]
            last[1] = None if (last[1] is None or end is None) else max(last[1], end)
        else:
            stretches.append([start, end])
    return [Stretch(start, end) for start, end in stretches]


def presence_from_connections(connections: list[tuple[datetime, datetime | None]], *, now: datetime) -> Presence:
    """Online stretches and gaps from (connected_at, disconnected_at) pairs, seen at ``now``."""
    connections = [(start, end) for start, end in connections if start <= now]
    connections = [(start, None if end is None or end > now else end) for start, end in connections]
    stretches = _merge(connections)
    if not stretches:
        return Presence(online=False, since=None, online_stretches=[], gaps=[])
    gaps = []
    for before, after in zip(stretches, stretches[1:], strict=False):
        if (after.start - before.end).total_seconds() >= GAP_MIN_SECONDS:
            gaps.append(Stretch(before.end, after.start))
    last = stretches[-1]
    online = last.end is None
    if not online and (now - last.end).total_seconds() >= GAP_MIN_SECONDS:
        gaps.append(Stretch(last.end, None))
    if online:
        # A short blip does not restart "online since".
        since = last.start
        for before, after in zip(reversed(stretches[:-1]), reversed(stretches), strict=False):
            if (after.start - before.end).total_seconds() >= GAP_MIN_SECONDS:
                break
            since = before.start
    else:
        since = last.end
    return Presence(online=online, since=since, online_stretches=stretches, gaps=gaps)


def presence_for_invigilators(*, room_ids: list[int], user_ids: list[int] | None = None, now: datetime) -> dict[tuple[int, int], Presence]:
    """Presence of each (room, invigilator) pair from their room dashboards' connections."""
    connections: dict[tuple[int, int], list] = defaultdict(list)
    rows = DashboardConnection.objects.filter(room_id__in=room_ids, role=Role.INVIGILATOR)
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    for room_id, user_id, start, end in rows.values_list("room_id", "user_id", "connected_at", "disconnected_at"):
        connections[(room_id, user_id)].append((start, end))
    return {key: presence_from_connections(pairs, now=now) for key, pairs in connections.items()}


def presence_for_user(*, user: User, exam: Exam, now: datetime) -> Presence:
    """Whether an invigilator has any of their rooms' dashboards open, across the exam."""
    pairs = list(
        DashboardConnection.objects.filter(exam=exam, user=user, role=Role.INVIGILATOR).values_list(
            "connected_at", "disconnected_at"
        )
    )
    return presence_from_connections(pairs, now=now)


def supervisors_present_in_room(*, room: ExamRoom) -> list[User]:
    """Supervisors (and admins) with the room's wall open now: the invigilators are told."""
    user_ids = (
        DashboardConnection.objects.filter(room=room, disconnected_at__isnull=True)
        .exclude(role=Role.INVIGILATOR).values_list("user_id", flat=True)
    )
    return list(User.objects.filter(pk__in=user_ids).order_by("first_name", "username"))


# --- Alerts -----------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertResponse:
    alert_id: int
    sequence: int
    raised_at: datetime
    response_seconds: float | None  # first human response (acknowledged, or closed without it)
    resolve_seconds: float | None
    on_behalf: bool  # acknowledged by a supervisor for the room


@dataclass
class AlertFigures:
    total: int = 0
    responded: int = 0
    unacknowledged_now: int = 0
    oldest_unacknowledged_seconds: float | None = None
    escalations: int = 0
    escalated_now: int = 0
    acknowledged_on_behalf: int = 0
    median_response_seconds: float | None = None
    max_response_seconds: float | None = None
    median_resolve_seconds: float | None = None
    responses: list[AlertResponse] = field(default_factory=list)


def _seconds(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else max(0.0, (later - earlier).total_seconds())


def alert_figures(*, alerts: QuerySet[Alert], now: datetime) -> AlertFigures:
    """Time to acknowledge and to resolve, unacknowledged now, escalations, of ``alerts`` at ``now``.

    An alert raised after ``now`` is not counted; a move after ``now`` counts as not made yet.
    """
    figures = AlertFigures()
    rows = alerts.filter(first_seen_at__lte=now).order_by("first_seen_at", "sequence").values_list(
        "pk", "sequence", "first_seen_at", "acknowledged_at", "closed_at", "escalated_at", "acknowledged_on_behalf"
    )
    response_times, resolve_times = [], []
    for pk, sequence, raised, acknowledged, closed, escalated, on_behalf in rows:
        acknowledged = acknowledged if acknowledged and acknowledged <= now else None
        closed = closed if closed and closed <= now else None
        escalated = escalated if escalated and escalated <= now else None
        figures.total += 1
        first_response = min((moment for moment in (acknowledged, closed) if moment), default=None)
        response = _seconds(first_response, raised)
        resolve = _seconds(closed, raised)
        if escalated:
            figures.escalations += 1
        if first_response is None:
            figures.unacknowledged_now += 1
            age = (now - raised).total_seconds()
            figures.oldest_unacknowledged_seconds = max(figures.oldest_unacknowledged_seconds or 0, age)
            if escalated:
                figures.escalated_now += 1
        else:
            figures.responded += 1
            response_times.append(response)
        if acknowledged and on_behalf:
            figures.acknowledged_on_behalf += 1
        if resolve is not None:
            resolve_times.append(resolve)
        figures.responses.append(AlertResponse(pk, sequence, raised, response, resolve, bool(acknowledged and on_behalf)))
    if response_times:
        figures.median_response_seconds = median(response_times)
        figures.max_response_seconds = max(response_times)
    if resolve_times:
        figures.median_resolve_seconds = median(resolve_times)
    return figures


# --- Attention --------------------------------------------------------------------------

@dataclass(frozen=True)
class Unwatched:
    registration: Registration
    since: datetime  # last looked at (or joined, if never looked at)


def candidates_unwatched(*, rooms: QuerySet[ExamRoom] | list[ExamRoom], exam: Exam, now: datetime) -> list[Unwatched]:
    """Candidates in the exam's watched stages that nobody on staff has opened (drawer or focused
    view) for ``ExamRules.unwatched_after_minutes``; one never opened counts from when they joined.
    """
    limit = timedelta(minutes=exam_rules(exam).unwatched_after_minutes)
    registrations = list(
        Registration.objects.filter(room__in=rooms, stage__in=WATCHED_STAGES)
        .select_related("candidate", "room")
        .annotate(joined_at=Min("sessions__started_at"))
        .order_by("room__name", "seat")
    )
    last_viewed = dict(
        CandidateView.objects.filter(registration__in=[r.pk for r in registrations], opened_at__lte=now)
        .values_list("registration_id").annotate(last=Max("last_seen_at"))
    )
    unwatched = []
    for registration in registrations:
        seen = last_viewed.get(registration.pk)
        seen = min(seen, now) if seen else None
        since = seen or registration.joined_at or registration.stage_changed_at or exam.starts_at
        if since <= now - limit:
            unwatched.append(Unwatched(registration, since))
    return unwatched


def candidate_views_by(*, viewer: User, exam: Exam, now: datetime, limit: int = 50) -> list[CandidateView]:
    return list(
        CandidateView.objects.filter(viewer=viewer, exam=exam, opened_at__lte=now)
        .select_related("registration__candidate", "room").order_by("-opened_at")[:limit]
    )


def action_counts(*, actions: QuerySet[InvigilatorAction], now: datetime) -> dict[str, int]:
    counts = dict(actions.filter(created_at__lte=now).values_list("kind").annotate(n=Count("pk")))
    return {kind: counts.get(kind, 0) for kind in InvigilatorAction.Kind.values}


# --- The figures of one invigilator, one room, one exam ------------------------------------

@dataclass
class InvigilatorFigures:
    invigilator: User
    rooms: list[ExamRoom]
    presence: Presence
    alerts: AlertFigures
    viewed_candidates: int
    views: list[CandidateView]
    unwatched: list[Unwatched]
    actions: dict[str, int]
    notes: list[AuditNote]


def invigilator_figures(*, invigilator: User, exam: Exam, now: datetime | None = None) -> InvigilatorFigures:
    """Everything measured about one invigilator in one exam. The caller checked the access."""
    now = now or timezone.now()
    rooms = list(invigilator_rooms(user=invigilator, exam=exam))
    views = candidate_views_by(viewer=invigilator, exam=exam, now=now)
    viewed = CandidateView.objects.filter(viewer=invigilator, exam=exam, opened_at__lte=now)
    return InvigilatorFigures(
        invigilator=invigilator,
        rooms=rooms,
        presence=presence_for_user(user=invigilator, exam=exam, now=now),
        alerts=alert_figures(alerts=Alert.objects.filter(room__in=rooms), now=now),
        viewed_candidates=viewed.values("registration").distinct().count(),
        views=views,
        unwatched=candidates_unwatched(rooms=rooms, exam=exam, now=now),
        actions=action_counts(actions=InvigilatorAction.objects.filter(author=invigilator, registration__exam=exam), now=now),
        notes=list(audit_note_list_for_invigilator(invigilator=invigilator, exam=exam)),
    )


@dataclass
class RoomFigures:
    room: ExamRoom
    invigilators: list[tuple[User, Presence]]
    alerts: AlertFigures
    unwatched: list[Unwatched]
    actions: dict[str, int]
    notes: list[AuditNote]


def room_figures(*, room: ExamRoom, now: datetime | None = None) -> RoomFigures:
    now = now or timezone.now()
    invigilators = list(User.objects.filter(room_assignments__room=room).order_by("first_name", "username"))
    presence = presence_for_invigilators(room_ids=[room.pk], now=now)
    empty = presence_from_connections([], now=now)
    return RoomFigures(
        room=room,
        invigilators=[(user, presence.get((room.pk, user.pk), empty)) for user in invigilators],
        alerts=alert_figures(alerts=Alert.objects.filter(room=room), now=now),
        unwatched=candidates_unwatched(rooms=[room], exam=room.exam, now=now),
        actions=action_counts(actions=InvigilatorAction.objects.filter(registration__room=room), now=now),
        notes=list(AuditNote.objects.filter(room=room).select_related("author", "subject_user")),
    )


@dataclass
class ExamFigures:
    alerts: AlertFigures
    unwatched: int
    actions: dict[str, int]


def exam_figures(*, exam: Exam, now: datetime | None = None, unwatched: int | None = None) -> ExamFigures:
    """``unwatched``: the count when the caller already has it (the overview sums its rooms')."""
    now = now or timezone.now()
    if unwatched is None:
        unwatched = len(candidates_unwatched(rooms=ExamRoom.objects.filter(exam=exam), exam=exam, now=now))
    return ExamFigures(
        alerts=alert_figures(alerts=Alert.objects.filter(exam=exam), now=now),
        unwatched=unwatched,
        actions=action_counts(actions=InvigilatorAction.objects.filter(registration__exam=exam), now=now),
    )


def sparkline_points(responses: list[AlertResponse], *, width: int = 160, height: int = 32) -> str:
    """SVG polyline points of response times in the order the alerts were raised (higher = slower)."""
    values = [response.response_seconds for response in responses if response.response_seconds is not None]
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(1, len(values) - 1)
    return " ".join(
        f"{round(index * step, 1):g},{round(height - 2 - (value / top) * (height - 4), 1):g}"
        for index, value in enumerate(values)
    )


# --- The exam overview ------------------------------------------------------------------

@dataclass
class InvigilatorStatus:
    user: User
    presence: Presence


@dataclass
class RoomSummary:
    room: ExamRoom
    invigilators: list[InvigilatorStatus]
    counts: dict[str, int]  # not_joined, waiting, in_exam, disconnected, submitted, complete
    total: int
    open_alerts: int
    escalated_alerts: int
    open_help: int
    escalated_help: int
    unwatched: int
    supervisors_present: int
    attention: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def invigilators_offline(self) -> int:
        return sum(1 for status in self.invigilators if not status.presence.online)


def _attention(summary: RoomSummary) -> int:
    """Higher needs a supervisor sooner: escalations, then a room with nobody watching, then the rest."""
    nobody_online = bool(summary.invigilators) and summary.invigilators_offline == len(summary.invigilators)
    return (
        1000 * (summary.escalated_alerts + summary.escalated_help)
        + 500 * (nobody_online or not summary.invigilators)
        + 100 * summary.invigilators_offline
        + 20 * summary.open_alerts
        + 10 * summary.counts["disconnected"]
        + 5 * summary.open_help
        + 2 * summary.unwatched
    )


def room_summaries_for_exam(*, exam: Exam, now: datetime | None = None, room_ids: list[int] | None = None) -> list[RoomSummary]:
    """One summary per room (or per room of ``room_ids``), most in need of attention first.

    A fixed number of queries whatever the number of rooms, so the overview of 50 rooms costs
    about what one room costs. The caller checked that the user supervises ``exam``.
    """
    now = now or timezone.now()
    rooms = ExamRoom.objects.filter(exam=exam).order_by("name")
    if room_ids is not None:
        rooms = rooms.filter(pk__in=room_ids)
    rooms = list(rooms)
    ids = [room.pk for room in rooms]
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(
        ["not_joined", "waiting", "in_exam", "disconnected", "submitted", "complete"], 0) for pk in ids}
    totals: dict[int, int] = defaultdict(int)
    stage_rows = (
        Registration.objects.filter(room_id__in=ids)
        .values_list("room_id", "stage")
        .annotate(
            n=Count("pk"),
            gone=Count("pk", filter=Q(connected=False, disconnected_since__isnull=False)),
        )
    )
    for room_id, stage, n, gone in stage_rows:
        totals[room_id] += n
        bucket = "waiting" if stage in PRE_EXAM_STAGES else stage
        counts[room_id][bucket] += n
        if stage not in FINISHED_STAGES and stage != Stage.NOT_JOINED:
            counts[room_id]["disconnected"] += gone
    alert_rows = (
        Alert.objects.filter(room_id__in=ids, status__in=ACTIVE_STATUSES)
        .values_list("room_id").annotate(
            active=Count("pk", filter=Q(status__in=[Alert.Status.OPEN, Alert.Status.ESCALATED])),
            escalated=Count("pk", filter=Q(status=Alert.Status.ESCALATED)),
        )
    )
    alerts = {room_id: (active, escalated) for room_id, active, escalated in alert_rows}
    help_rows = (
        HelpRequest.objects.filter(registration__room_id__in=ids, status__in=HELP_OPEN_STATUSES)
        .values_list("registration__room_id").annotate(
            n=Count("pk"),
            escalated=Count("pk", filter=Q(escalated_at__isnull=False, status__in=HELP_WAITING_STATUSES)),
        )
    )
    help_counts = {room_id: (n, escalated) for room_id, n, escalated in help_rows}
    assignments = defaultdict(list)
    for assignment in RoomInvigilator.objects.filter(room_id__in=ids).select_related("user").order_by("user__first_name"):
        assignments[assignment.room_id].append(assignment.user)
    presence = presence_for_invigilators(room_ids=ids, now=now)
    empty = presence_from_connections([], now=now)
    visiting = dict(
        DashboardConnection.objects.filter(room_id__in=ids, disconnected_at__isnull=True)
        .exclude(role=Role.INVIGILATOR).values_list("room_id").annotate(n=Count("user", distinct=True))
    )
    unwatched = defaultdict(int)
    for item in candidates_unwatched(rooms=rooms, exam=exam, now=now):
        unwatched[item.registration.room_id] += 1
    summaries = []
    for room in rooms:
        room.exam = exam
        summary = RoomSummary(
            room=room,
            invigilators=[InvigilatorStatus(user, presence.get((room.pk, user.pk), empty)) for user in assignments[room.pk]],
            counts=counts[room.pk],
            total=totals[room.pk],
            open_alerts=alerts.get(room.pk, (0, 0))[0],
            escalated_alerts=alerts.get(room.pk, (0, 0))[1],
            open_help=help_counts.get(room.pk, (0, 0))[0],
            escalated_help=help_counts.get(room.pk, (0, 0))[1],
            unwatched=unwatched[room.pk],
            supervisors_present=visiting.get(room.pk, 0),
        )
        summary.attention = _attention(summary)
        summaries.append(summary)
    summaries.sort(key=lambda summary: (-summary.attention, summary.room.name))
    return summaries


@dataclass
class Escalations:
    alerts: list[Alert]
    help_requests: list[HelpRequest]

    @property
    def count(self) -> int:
        return len(self.alerts) + len(self.help_requests)

    @property
    def key(self) -> str:
        """Changes when a new escalation arrives (the page plays a sound then)."""
        return ",".join([f"a{alert.pk}" for alert in self.alerts] + [f"h{request.pk}" for request in self.help_requests])


def escalations_for_exam(*, user: User, exam: Exam) -> Escalations:
    """Escalated alerts still unacknowledged, and help requests flagged and still unclaimed."""
    if exam_get_for_supervisor(user=user, exam_id=exam.pk) is None:
        return Escalations([], [])
    alerts = list(
        Alert.objects.filter(exam=exam, status=Alert.Status.ESCALATED)
        .select_related("registration__candidate", "room").order_by("escalated_at", "sequence")
    )
    help_requests = list(
        HelpRequest.objects.filter(exam=exam, escalated_at__isnull=False, status__in=HELP_WAITING_STATUSES)
        .select_related("registration__candidate", "registration__room").order_by("escalated_at")
    )
    return Escalations(alerts, help_requests)


# --- Audit notes ------------------------------------------------------------------------

def audit_note_list_for_invigilator(*, invigilator: User, exam: Exam) -> QuerySet[AuditNote]:
    return AuditNote.objects.filter(exam=exam, subject_user=invigilator).select_related("author", "room")


def audit_note_list_for_exam(*, user: User, exam: Exam) -> QuerySet[AuditNote]:
    if exam_get_for_supervisor(user=user, exam_id=exam.pk) is None:
        return AuditNote.objects.none()
    return AuditNote.objects.filter(exam=exam).select_related("author", "room", "subject_user").order_by("-created_at")


def audit_note_list_for_room(*, room: ExamRoom) -> QuerySet[AuditNote]:
    """Notes on a room and on its invigilators (for the reviewers of its candidates)."""
    invigilators = RoomInvigilator.objects.filter(room=room).values("user_id")
    return AuditNote.objects.filter(Q(room=room) | Q(room__isnull=True, exam_id=room.exam_id, subject_user__in=invigilators)).select_related(
        "author", "subject_user"
    )


def audit_note_list_for_registration(*, registration: Registration) -> QuerySet[AuditNote]:
    """What a reviewer of this candidate should know: notes on the candidate, on their room and
    on its invigilators while the candidate sat there."""
    invigilators = RoomInvigilator.objects.filter(room_id=registration.room_id).values("user_id")
    return AuditNote.objects.filter(exam_id=registration.exam_id).filter(
        Q(registration=registration)
        | Q(registration__isnull=True, room_id=registration.room_id)
        | Q(registration__isnull=True, room__isnull=True, subject_user__in=invigilators)
    ).select_related("author", "subject_user").order_by("created_at", "pk")


# --- Staff messages ---------------------------------------------------------------------

def _staff_exam_role(user: User, exam: Exam) -> str | None:
    if user.is_exam_admin:
        return Role.SUPERVISOR
    if user.role in (Role.SUPERVISOR, Role.TECHNICIAN) and user_has_exam_role(user=user, exam_id=exam.pk, role=user.role):
        return user.role
    if user.role == Role.INVIGILATOR and invigilator_rooms(user=user, exam=exam).exists():
        return Role.INVIGILATOR
    return None


def staff_message_may_post(*, user: User, exam: Exam, room: ExamRoom | None) -> bool:
    role = _staff_exam_role(user, exam)
    if role is None or (room is not None and room.exam_id != exam.pk):
        return False
    if role == Role.INVIGILATOR:
        return room is not None and invigilator_rooms(user=user, exam=exam).filter(pk=room.pk).exists()
    return True


def staff_message_list_allowed(*, user: User, exam: Exam, room: ExamRoom | None) -> bool:
    role = _staff_exam_role(user, exam)
    if role is None or (room is not None and room.exam_id != exam.pk):
        return False
    if role == Role.INVIGILATOR and room is not None:
        return invigilator_rooms(user=user, exam=exam).filter(pk=room.pk).exists()
    return True


def staff_message_list_for_user(*, user: User, exam: Exam, room: ExamRoom | None = None, limit: int = 50) -> list[StaffMessage]:
    """Newest last. Invigilators read their rooms' messages; supervisors and technicians the exam's."""
    role = _staff_exam_role(user, exam)
    if role is None:
        return []
    messages = StaffMessage.objects.filter(exam=exam)
    if role == Role.INVIGILATOR:
        messages = messages.filter(room__in=invigilator_rooms(user=user, exam=exam))
    if room is not None:
        messages = messages.filter(room=room)
    newest = messages.select_related("author", "room", "registration__candidate").order_by("-created_at", "-pk")[:limit]
    return list(reversed(newest))


def staff_message_exams_for_user(*, user: User) -> list[Exam]:
    """Exams whose staff messages the user takes part in (the technician's console lists them)."""
    if user.role == Role.INVIGILATOR:
        return list(exam_list_for_staff(user=user, role=Role.INVIGILATOR))
    if user.role in (Role.SUPERVISOR, Role.TECHNICIAN) or user.is_exam_admin:
        return list(exam_list_for_staff(user=user, role=user.role if not user.is_exam_admin else None))
    return []
