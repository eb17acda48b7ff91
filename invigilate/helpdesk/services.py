"""Every change to help requests and technicians' presence.

Moves of a request go through ``_move``: it checks ``TRANSITIONS``, changes the row by
compare-and-set (``filter(pk=..., status=old).update(...)``), so of two technicians, two web
processes or a technician and a sweep only one moves it, appends the audit event in the same
transaction and schedules the pushes for after commit. Routing runs after commit too, under
the exam queue's row lock.
"""

import json
import re
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from invigilate.accounts.models import Role, User
from invigilate.audit.services import actor_label_for_registration, audit_record
from invigilate.exams.models import Exam, ExamStaff, Registration, RoomInvigilator
from invigilate.exams.rules import exam_rules
from invigilate.realtime.groups import candidate_group, exam_group, helpdesk_group
from invigilate.realtime.publish import publish_on_commit, tile_refresh_on_commit

from .models import (
    HANDLED_STATUSES,
    OPEN_STATUSES,
    CallAttempt,
    HelpCategory,
    HelpMessage,
    HelpQueue,
    HelpRequest,
    HelpStatus,
    ResolutionCategory,
    TechnicianPresence,
    TechnicianSkill,
)

S = HelpStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.OFFERED, S.CLAIMED, S.CANCELLED}),
    # Back to the queue: the offer lapsed, was declined, or the technician went offline.
    S.OFFERED: frozenset({S.QUEUED, S.CLAIMED, S.CANCELLED}),
    S.CLAIMED: frozenset({S.CALLING, S.RESOLVED, S.UNREACHABLE, S.TRANSFERRED, S.CANCELLED}),
    # Back to claimed when a call ends without settling it (no answer, call back later).
    S.CALLING: frozenset({S.CLAIMED, S.RESOLVED, S.UNREACHABLE, S.TRANSFERRED, S.CANCELLED}),
    S.RESOLVED: frozenset(),
    S.UNREACHABLE: frozenset(),
    S.TRANSFERRED: frozenset(),
    S.CANCELLED: frozenset(),
}
TERMINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)

DESCRIPTION_MAX = 500
DIAGNOSTICS_MAX_CHARS = 8000
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")
# A console that has not pinged for this long is gone (its process died without a goodbye).
PRESENCE_TIMEOUT = timedelta(seconds=45)


class HelpdeskError(Exception):
    """A change refused for a reason a person can act on; ``str()`` is that reason."""


class HelpRequestConflict(HelpdeskError):
    """Someone else moved the request first (claimed it, cancelled it, it lapsed)."""


def phone_normalise(phone: str) -> str:
    phone = (phone or "").strip()
    if not PHONE_PATTERN.match(phone):
        raise HelpdeskError(_("Enter a phone number we can call, digits only (a leading + is allowed)."))
    return phone


def _diagnostics_clean(diagnostics: Any) -> dict:
    if not isinstance(diagnostics, dict):
        return {}
    text = json.dumps(diagnostics, default=str)
    if len(text) > DIAGNOSTICS_MAX_CHARS:
        return {"truncated": True, "text": text[:DIAGNOSTICS_MAX_CHARS]}
    return json.loads(text)


def _publish(request: HelpRequest) -> None:
    """Tell everyone who shows this request that it changed; they re-read it."""
    publish_on_commit(
        [helpdesk_group(request.exam_id), exam_group(request.exam_id)],
        "help.changed", request_id=request.pk, exam_id=request.exam_id, status=request.status,
    )
    publish_on_commit(candidate_group(request.registration_id), "help.updated", request_id=request.pk, status=request.status)
    room_id = Registration.objects.filter(pk=request.registration_id).values_list("room_id", flat=True).first()
    if room_id is not None:
        tile_refresh_on_commit(room_id=room_id, registration_id=request.registration_id)


def _signal(request: HelpRequest, kind: str) -> None:
    """Put the request on the candidate's timeline and the invigilators' feed (live alerts):
    ``help_requested`` raises an alert; ``help_ended`` (how it ended) is quiet."""
    from invigilate.proctoring.services import signal_record

    signal_record(
        registration=request.registration, kind=kind, source="server",
        data={"request_id": request.pk, "category": request.category, "status": request.status},
    )


def _route_after_commit(exam_id: int) -> None:
    transaction.on_commit(lambda: help_queue_route(exam_id=exam_id))


def _audit(request: HelpRequest, event_type: str, *, actor: User | None = None, actor_label: str | None = None,
           data: dict | None = None) -> None:
    audit_record(
        event_type=event_type, actor=actor, actor_label=actor_label, subject=request,
        exam_id=request.exam_id, registration_id=request.registration_id, data=data or {},
    )


def _move(request: HelpRequest, to: str, *, actor: User | None = None, actor_label: str | None = None,
          expected: str | tuple[str, ...] | None = None, data: dict | None = None, **fields) -> HelpRequest:
    """Move ``request`` to ``to`` by compare-and-set; call inside a transaction.

    ``expected`` is the status (or statuses) the caller saw; by default the one in memory.
    Raises HelpRequestConflict when the row is no longer there.
    """
    expected_statuses = (expected,) if isinstance(expected, str) else (expected or (request.status,))
    allowed = [status for status in expected_statuses if to in TRANSITIONS[status]]
    if not allowed:
        raise HelpdeskError(_illegal_move_message(expected_statuses[0], to))
    now = timezone.now()
    if to in TERMINAL:
        fields.setdefault("closed_at", now)
    previous = HelpRequest.objects.filter(pk=request.pk).values_list("status", flat=True).first()
    moved = HelpRequest.objects.filter(pk=request.pk, status__in=allowed).update(
        status=to, status_changed_at=now, **fields
    )
    if not moved:
        request.refresh_from_db()
        raise HelpRequestConflict(_conflict_message(request, to))
    request.refresh_from_db()
    _audit(request, f"help.{to}", actor=actor, actor_label=actor_label,
           data={"from": previous, "to": to, **(data or {})})
    _publish(request)
    return request


def _illegal_move_message(current: str, to: str) -> str:
    return _("A request that is %(from)s cannot become %(to)s.") % {
        "from": HelpStatus(current).label.lower(), "to": HelpStatus(to).label.lower()
    }


def _conflict_message(request: HelpRequest, to: str | None = None) -> str:
    if request.status in (S.CLAIMED, S.CALLING) and request.technician_id:
        name = request.technician.get_full_name() or request.technician.username
        return _("Too late: %(name)s has already taken this request.") % {"name": name}
    if to is not None and to not in TRANSITIONS[request.status]:
        return _illegal_move_message(request.status, to)
    return _("This request has changed meanwhile: it is now %(status)s.") % {"status": request.get_status_display()}


# --- The candidate's side -------------------------------------------------------------------


def help_request_submit(
    *, registration: Registration, category: str, description: str, phone: str, diagnostics: Any,
    identity_verified: bool = True,
) -> tuple[HelpRequest, bool]:
    """Open a help request, or add to the candidate's open one. Returns (request, created)."""
    if category not in HelpCategory.values:
        raise HelpdeskError(_("Choose what the problem is about."))
    phone = phone_normalise(phone)
    description = (description or "").strip()[:DESCRIPTION_MAX]
    diagnostics = _diagnostics_clean(diagnostics)
    actor_label = actor_label_for_registration(registration.pk)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                existing = HelpRequest.objects.select_for_update().filter(
                    registration=registration, status__in=OPEN_STATUSES
                ).first()
                if existing is not None:
                    request = _help_request_add_to(existing, category=category, description=description, phone=phone,
                                                   diagnostics=diagnostics, actor_label=actor_label)
                    created = False
                else:
                    request = _help_request_open(registration, category=category, description=description,
                                                 phone=phone, diagnostics=diagnostics,
                                                 identity_verified=identity_verified, actor_label=actor_label)
                    created = True
        except IntegrityError:
            # Two presses raced and the other one created the request: add to it instead.
            continue
        request.refresh_from_db()  # routing ran on commit
        return request, created
    raise HelpdeskError(_("Your request could not be saved; please press Help again."))


def _help_request_open(registration: Registration, *, category: str, description: str, phone: str, diagnostics: dict,
                       identity_verified: bool, actor_label: str) -> HelpRequest:
    now = timezone.now()
    request = HelpRequest.objects.create(
        exam_id=registration.exam_id, registration=registration, category=category,
        description=description, phone=phone, diagnostics=diagnostics,
        identity_verified=identity_verified, created_at=now, status_changed_at=now,
    )
    _audit(request, "help.requested", actor_label=actor_label, data={
        "category": category, "identity_verified": identity_verified, "description": description,
    })
    _signal(request, "help_requested")
    _publish(request)
    _route_after_commit(request.exam_id)
    return request


def _help_request_add_to(request: HelpRequest, *, category: str, description: str, phone: str, diagnostics: dict,
                         actor_label: str) -> HelpRequest:
    now = timezone.now()
    text = description or _("(pressed Help again: %(category)s)") % {"category": HelpCategory(category).label}
    HelpMessage.objects.create(request=request, kind=HelpMessage.Kind.CANDIDATE, text=text, created_at=now)
    HelpRequest.objects.filter(pk=request.pk).update(phone=phone, diagnostics=diagnostics)
    request.refresh_from_db()
    _audit(request, "help.added_to", actor_label=actor_label, data={"category": category, "text": text, "phone_changed": phone != request.phone})
    _publish(request)
    return request


def help_request_cancel_by_candidate(*, request: HelpRequest) -> HelpRequest:
    with transaction.atomic():
        request = _move(request, S.CANCELLED, actor_label=actor_label_for_registration(request.registration_id),
                        expected=OPEN_STATUSES)
        _signal(request, "help_ended")
        if request.technician_id:
            _route_after_commit(request.exam_id)
    return request


# --- Routing --------------------------------------------------------------------------------


def _technicians_of_exam(exam_id: int) -> list[int]:
    return list(
        ExamStaff.objects.filter(exam_id=exam_id, role=Role.TECHNICIAN, user__is_active=True)
        .values_list("user_id", flat=True)
    )


def help_queue_route(*, exam_id: int) -> list[HelpRequest]:
    """Offer the exam's queued requests, oldest first, to the technicians best placed to take them.

    Best placed: online, assigned to the exam, holding no pending offer, below the exam's
    limit of open requests; among those, the skilled for the category (when skills are set),
    then the fewest open requests, then the one offered to longest ago (round robin).
    Technicians who let this request's offer lapse come last. Runs under the queue's row
    lock, so concurrent routings of one exam take turns.
    """
    offers: list[HelpRequest] = []
    with transaction.atomic():
        HelpQueue.objects.get_or_create(exam_id=exam_id)
        HelpQueue.objects.select_for_update().get(exam_id=exam_id)
        if not HelpRequest.objects.filter(exam_id=exam_id, status=S.QUEUED).exists():
            return offers
        exam = Exam.objects.get(pk=exam_id)
        limit = exam_rules(exam).help_max_open_per_technician
        online = list(
            TechnicianPresence.objects.filter(
                user_id__in=_technicians_of_exam(exam_id), status=TechnicianPresence.Status.ONLINE
            )
        )
        if not online:
            return offers
        ids = [presence.user_id for presence in online]
        load = dict.fromkeys(ids, 0)
        pending = set()
        for row in (
            HelpRequest.objects.filter(technician_id__in=ids, status__in=OPEN_STATUSES)
            .values("technician_id", "status").annotate(n=Count("pk"))
        ):
            load[row["technician_id"]] += row["n"]
            if row["status"] == S.OFFERED:
                pending.add(row["technician_id"])
        skills: dict[int, set[str]] = {user_id: set() for user_id in ids}
        for user_id, category in TechnicianSkill.objects.filter(user_id__in=ids).values_list("user_id", "category"):
            skills[user_id].add(category)
        presence_of = {presence.user_id: presence for presence in online}
        free = lambda: [i for i in ids if i not in pending and load[i] < limit]  # noqa: E731
        if not free():
            return offers
        for request in HelpRequest.objects.filter(exam_id=exam_id, status=S.QUEUED).order_by("created_at", "pk"):
            available = free()
            if not available:
                break
            able = [i for i in ids if not skills[i] or request.category in skills[i]] or ids
            choices = [i for i in available if i in able]
            if not choices:
                continue  # its skilled technicians are busy; a later request may fit someone free
            fresh = [i for i in choices if i not in request.passed_over]
            choices = fresh or choices
            epoch = timezone.now() - timedelta(days=36500)
            chosen = min(choices, key=lambda i: (load[i], presence_of[i].last_offered_at or epoch, i))
            now = timezone.now()
            try:
                offered = _move(
                    request, S.OFFERED, data={"technician": chosen}, technician_id=chosen, offered_at=now,
                    first_offered_at=request.first_offered_at or now,
                )
            except HelpRequestConflict:
                continue  # cancelled or pulled meanwhile
            TechnicianPresence.objects.filter(user_id=chosen).update(last_offered_at=now)
            presence_of[chosen].last_offered_at = now
            load[chosen] += 1
            pending.add(chosen)
            offers.append(offered)
    return offers


# --- The technician's moves -------------------------------------------------------------------


def _require_technician_of(request: HelpRequest, user: User) -> None:
    if user.is_exam_admin:
        return
    if not ExamStaff.objects.filter(exam_id=request.exam_id, user=user, role=Role.TECHNICIAN).exists():
        raise HelpdeskError(_("You are not a technician of this exam."))


def _require_holder(request: HelpRequest, user: User) -> None:
    if request.status in TERMINAL:
        raise HelpRequestConflict(_("This request is closed: %(status)s.") % {"status": request.get_status_display().lower()})
    if request.technician_id != user.pk or request.status not in HANDLED_STATUSES:
        raise HelpdeskError(_("Only the technician who took this request can do that; claim it first."))


def help_request_claim(*, request: HelpRequest, technician: User) -> HelpRequest:
    """Take a waiting request (offered to anyone, or queued). Exactly one of racing claims wins."""
    _require_technician_of(request, technician)
    with transaction.atomic():
        request = _move(request, S.CLAIMED, actor=technician, expected=(S.QUEUED, S.OFFERED),
                        data={"technician": technician.pk}, technician_id=technician.pk, claimed_at=timezone.now())
        # The technician it was offered to (if someone else) has a free slot again.
        _route_after_commit(request.exam_id)
    return request


def help_request_pull_oldest(*, technician: User, exam_ids: list[int]) -> HelpRequest | None:
    """Claim the oldest waiting request of the given exams; None when nothing is waiting."""
    for _attempt in range(5):
        request = (
            HelpRequest.objects.filter(exam_id__in=exam_ids, status__in=(S.QUEUED, S.OFFERED))
            .order_by("created_at", "pk").first()
        )
        if request is None:
            return None
        try:
            return help_request_claim(request=request, technician=technician)
        except HelpRequestConflict:
            continue  # someone took that one: try the next oldest
    return None


def help_request_decline(*, request: HelpRequest, technician: User) -> HelpRequest:
    with transaction.atomic():
        if request.status != S.OFFERED or request.technician_id != technician.pk:
            raise HelpRequestConflict(_("This request is no longer offered to you."))
        request = _move(request, S.QUEUED, actor=technician, expected=S.OFFERED, data={"reason": "declined"},
                        technician=None, offered_at=None, passed_over=sorted({*request.passed_over, technician.pk}))
        _route_after_commit(request.exam_id)
    return request


def help_published_number(request: HelpRequest) -> str:
    """The number the candidate will see calling: the exam's published one, else the technician's."""
    if request.exam.support_phone:
        return request.exam.support_phone
    return request.technician.phone if request.technician_id else ""


def help_request_call_start(*, request: HelpRequest, technician: User) -> HelpRequest:
    _require_holder(request, technician)
    with transaction.atomic():
        return _move(request, S.CALLING, actor=technician, expected=S.CLAIMED,
                     data={"phone": request.phone, "from_number": help_published_number(request)})


def help_request_call_log(*, request: HelpRequest, technician: User, outcome: str, note: str = "") -> CallAttempt:
    """Record how a call went; a call in progress ends (back to claimed) so the next step is explicit."""
    _require_holder(request, technician)
    if outcome not in CallAttempt.Outcome.values:
        raise HelpdeskError(_("Choose how the call went."))
    with transaction.atomic():
        attempt = CallAttempt.objects.create(
            request=request, technician=technician, phone=request.phone, outcome=outcome,
            note=(note or "").strip()[:2000], created_at=timezone.now(),
        )
        data = {"call": attempt.pk, "outcome": outcome}
        if request.status == S.CALLING:
            _move(request, S.CLAIMED, actor=technician, expected=S.CALLING, data=data)
        elif request.status == S.CLAIMED:
            _audit(request, "help.call_logged", actor=technician, data=data)
            _publish(request)
        else:
            raise HelpRequestConflict(_conflict_message(request))
    return attempt


def _finish(request: HelpRequest, technician: User, to: str, **fields) -> HelpRequest:
    _require_holder(request, technician)
    with transaction.atomic():
        request = _move(request, to, actor=technician, expected=(S.CLAIMED, S.CALLING), **fields)
        _signal(request, "help_ended")
        _route_after_commit(request.exam_id)
    return request


def help_request_resolve(*, request: HelpRequest, technician: User, resolution_category: str, note: str = "") -> HelpRequest:
    if resolution_category not in ResolutionCategory.values:
        raise HelpdeskError(_("Choose how the problem was resolved."))
    note = (note or "").strip()[:2000]
    return _finish(request, technician, S.RESOLVED, data={"resolution": resolution_category, "note": note},
                   resolution_category=resolution_category, resolution_note=note)


def help_request_mark_unreachable(*, request: HelpRequest, technician: User, note: str = "") -> HelpRequest:
    note = (note or "").strip()[:2000]
    return _finish(request, technician, S.UNREACHABLE, data={"note": note}, resolution_note=note)


def help_request_transfer(*, request: HelpRequest, technician: User, to_user: User, note: str = "") -> HelpRequest | None:
    """Hand the request over: to another technician of the exam (its successor is offered to
    them) or, when it is not technical, to the candidate's invigilator (the help desk is done).
    Returns the successor, or None for a hand-over to the invigilator."""
    _require_holder(request, technician)
    note = (note or "").strip()[:2000]
    is_technician = ExamStaff.objects.filter(exam_id=request.exam_id, user=to_user, role=Role.TECHNICIAN).exists()
    is_invigilator = RoomInvigilator.objects.filter(room__registrations=request.registration_id, user=to_user).exists()
    if to_user.pk == technician.pk or not (is_technician or is_invigilator):
        raise HelpdeskError(_("Transfer to another technician of this exam or to the candidate's invigilator."))
    with transaction.atomic():
        request = _move(request, S.TRANSFERRED, actor=technician, expected=(S.CLAIMED, S.CALLING),
                        data={"to": to_user.pk, "to_role": to_user.role, "note": note},
                        transferred_to_id=to_user.pk, resolution_note=note)
        successor = None
        if not is_technician:
            _signal(request, "help_ended")  # the help desk is done; the invigilator takes it
        if is_technician:
            now = timezone.now()
            successor = HelpRequest.objects.create(
                exam_id=request.exam_id, registration_id=request.registration_id, previous=request,
                status=S.OFFERED, category=request.category, description=request.description, phone=request.phone,
                diagnostics=request.diagnostics, identity_verified=request.identity_verified,
                technician=to_user, created_at=request.created_at, first_offered_at=request.first_offered_at,
                offered_at=now, status_changed_at=now,
            )
            _audit(successor, "help.offered", actor=technician,
                   data={"from": None, "to": S.OFFERED, "technician": to_user.pk, "transferred_from": request.pk})
            _publish(successor)
        _route_after_commit(request.exam_id)
    return successor


def help_request_message_send(*, request: HelpRequest, technician: User, text: str) -> HelpMessage:
    """A message shown on the candidate's screen (the console offers canned ones)."""
    _require_holder(request, technician)
    text = (text or "").strip()[:500]
    if not text:
        raise HelpdeskError(_("The message is empty."))
    with transaction.atomic():
        message = HelpMessage.objects.create(request=request, kind=HelpMessage.Kind.TO_CANDIDATE, author=technician,
                                             text=text, created_at=timezone.now())
        _audit(request, "help.message_sent", actor=technician, data={"text": text})
        _publish(request)
    return message


def help_request_note_add(*, request: HelpRequest, technician: User, text: str) -> HelpMessage:
    _require_technician_of(request, technician)
    text = (text or "").strip()[:2000]
    if not text:
        raise HelpdeskError(_("The note is empty."))
    with transaction.atomic():
        note = HelpMessage.objects.create(request=request, kind=HelpMessage.Kind.NOTE, author=technician, text=text,
                                          created_at=timezone.now())
        _audit(request, "help.note_added", actor=technician, data={"text": text})
        publish_on_commit([helpdesk_group(request.exam_id)], "help.changed", request_id=request.pk,
                          exam_id=request.exam_id, status=request.status)
    return note


# --- Time limits (run by the sweeps) ------------------------------------------------------------


def help_request_offer_lapse(*, request: HelpRequest) -> HelpRequest:
    """The offer was not claimed in time: back to the queue, skip that technician, tell the supervisors."""
    with transaction.atomic():
        lapsed_technician = request.technician_id
        request = _move(request, S.QUEUED, expected=S.OFFERED,
                        data={"reason": "claim_timeout", "technician": lapsed_technician},
                        technician=None, offered_at=None,
                        passed_over=sorted({*request.passed_over, lapsed_technician} - {None}),
                        escalated_at=request.escalated_at or timezone.now(),
                        escalation_reason=request.escalation_reason or "claim_timeout")
        _route_after_commit(request.exam_id)
    return request


def help_request_escalate(*, request: HelpRequest, reason: str) -> bool:
    """Flag the request to the supervisors once (compare-and-set on ``escalated_at``)."""
    with transaction.atomic():
        flagged = HelpRequest.objects.filter(pk=request.pk, escalated_at__isnull=True, status__in=OPEN_STATUSES).update(
            escalated_at=timezone.now(), escalation_reason=reason
        )
        if flagged:
            request.refresh_from_db()
            _audit(request, "help.escalated", data={"reason": reason, "status": request.status})
            _publish(request)
    return bool(flagged)


def help_requests_sweep_offers(*, now=None) -> int:
    """Lapse offers older than the exam's claim limit; flag requests nobody was offered in time;
    route every queue with waiting requests (catches routing lost with a crashed process)."""
    now = now or timezone.now()
    moved = 0
    exam_ids = set(HelpRequest.objects.filter(status__in=(S.QUEUED, S.OFFERED)).values_list("exam_id", flat=True))
    for exam in Exam.objects.filter(pk__in=exam_ids):
        limit = timedelta(seconds=exam_rules(exam).help_claim_timeout_seconds)
        for request in HelpRequest.objects.filter(exam=exam, status=S.OFFERED, offered_at__lt=now - limit):
            try:
                help_request_offer_lapse(request=request)
                moved += 1
            except HelpRequestConflict:
                pass  # claimed at the last moment
        for request in HelpRequest.objects.filter(exam=exam, status=S.QUEUED, escalated_at__isnull=True,
                                                  created_at__lt=now - limit):
            moved += help_request_escalate(request=request, reason="not_taken")
        help_queue_route(exam_id=exam.pk)
    return moved


def help_requests_sweep_unresolved(*, now=None) -> int:
    now = now or timezone.now()
    flagged = 0
    exam_ids = set(HelpRequest.objects.filter(status__in=OPEN_STATUSES).exclude(escalation_reason="not_resolved")
                   .values_list("exam_id", flat=True))
    for exam in Exam.objects.filter(pk__in=exam_ids):
        limit = timedelta(minutes=exam_rules(exam).help_resolve_timeout_minutes)
        overdue = HelpRequest.objects.filter(exam=exam, status__in=OPEN_STATUSES, created_at__lt=now - limit).exclude(
            escalation_reason="not_resolved"
        )
        for request in overdue:
            with transaction.atomic():
                # Re-flag even if it was flagged for a lapsed claim: this is a new, worse reason.
                if HelpRequest.objects.filter(pk=request.pk, status__in=OPEN_STATUSES).exclude(
                    escalation_reason="not_resolved"
                ).update(escalated_at=now, escalation_reason="not_resolved"):
                    request.refresh_from_db()
                    _audit(request, "help.escalated", data={"reason": "not_resolved", "status": request.status})
                    _publish(request)
                    flagged += 1
    return flagged


# --- Presence ------------------------------------------------------------------------------------


def _exam_ids_of_technician(user_id: int) -> list[int]:
    return list(ExamStaff.objects.filter(user_id=user_id, role=Role.TECHNICIAN).values_list("exam_id", flat=True))


def _presence_set(presence: TechnicianPresence, status: str, *, reason: str) -> None:
    """Call inside a transaction with the presence row locked."""
    if presence.status == status:
        return
    previous = presence.status
    presence.status = status
    presence.save(update_fields=["status"])
    audit_record(event_type="help.presence", actor_label=f"user:{presence.user_id}",
                 data={"user": presence.user_id, "from": previous, "to": status, "reason": reason})
    if status != TechnicianPresence.Status.ONLINE:
        # Offers waiting for someone who is not there go back to the queue.
        for request in HelpRequest.objects.filter(technician_id=presence.user_id, status=S.OFFERED):
            try:
                _move(request, S.QUEUED, expected=S.OFFERED, data={"reason": f"technician_{status}"},
                      technician=None, offered_at=None,
                      passed_over=sorted({*request.passed_over, presence.user_id}))
            except HelpRequestConflict:
                pass
    for exam_id in _exam_ids_of_technician(presence.user_id):
        publish_on_commit(helpdesk_group(exam_id), "help.changed", request_id=0, exam_id=exam_id, status="presence")
        _route_after_commit(exam_id)


def _presence_locked(user_id: int) -> TechnicianPresence:
    TechnicianPresence.objects.get_or_create(user_id=user_id)
    return TechnicianPresence.objects.select_for_update().get(user_id=user_id)


def technician_presence_connect(*, user: User) -> TechnicianPresence:
    with transaction.atomic():
        presence = _presence_locked(user.pk)
        presence.connections = F("connections") + 1
        presence.last_seen_at = timezone.now()
        presence.save(update_fields=["connections", "last_seen_at"])
        presence.refresh_from_db()
        wanted = TechnicianPresence.Status.AWAY if presence.wants_away else TechnicianPresence.Status.ONLINE
        _presence_set(presence, wanted, reason="console_opened")
    return presence


def technician_presence_disconnect(*, user: User) -> TechnicianPresence:
    with transaction.atomic():
        presence = _presence_locked(user.pk)
        presence.connections = Greatest(F("connections") - 1, 0)
        presence.save(update_fields=["connections"])
        presence.refresh_from_db()
        if presence.connections == 0:
            _presence_set(presence, TechnicianPresence.Status.OFFLINE, reason="console_closed")
    return presence


def technician_presence_touch(*, user: User) -> None:
    TechnicianPresence.objects.filter(user=user).update(last_seen_at=timezone.now())


def technician_presence_choose(*, user: User, away: bool) -> TechnicianPresence:
    """The technician chose online or away; away keeps their requests but takes no new offers."""
    with transaction.atomic():
        presence = _presence_locked(user.pk)
        presence.wants_away = away
        presence.save(update_fields=["wants_away"])
        if presence.status != TechnicianPresence.Status.OFFLINE or presence.connections > 0:
            wanted = TechnicianPresence.Status.AWAY if away else TechnicianPresence.Status.ONLINE
            _presence_set(presence, wanted, reason="chosen")
    return presence


def technician_presence_sweep(*, now=None) -> int:
    """Consoles not heard from in PRESENCE_TIMEOUT are gone (a crashed process says no goodbye)."""
    now = now or timezone.now()
    gone = 0
    stale = TechnicianPresence.objects.exclude(status=TechnicianPresence.Status.OFFLINE).filter(
        Q(last_seen_at__lt=now - PRESENCE_TIMEOUT) | Q(last_seen_at__isnull=True)
    )
    for user_id in stale.values_list("user_id", flat=True):
        with transaction.atomic():
            presence = _presence_locked(user_id)
            if presence.last_seen_at and presence.last_seen_at >= now - PRESENCE_TIMEOUT:
                continue
            presence.connections = 0
            presence.save(update_fields=["connections"])
            _presence_set(presence, TechnicianPresence.Status.OFFLINE, reason="not_heard_from")
            gone += 1
    return gone


def technician_skills_set(*, user: User, categories: list[str], actor: User | None = None) -> None:
    with transaction.atomic():
        before = sorted(TechnicianSkill.objects.select_for_update().filter(user=user).values_list("category", flat=True))
        TechnicianSkill.objects.filter(user=user).exclude(category__in=categories).delete()
        for category in categories:
            TechnicianSkill.objects.get_or_create(user=user, category=category)
        audit_record(event_type="help.skills_set", actor=actor,
                     data={"user": user.pk, "before": before, "categories": sorted(categories)})
