"""Every write of live alerts: signals, alerts and their life, invigilators' actions, presence.

Each change happens in one transaction with its audit row; real-time pushes leave only after
commit (``publish_on_commit``). Alerts move only along ``TRANSITIONS``, by compare-and-set.
"""

import re
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from invigilate.accounts.models import Role
from invigilate.audit.services import actor_label_for_registration, audit_record, deadlock_retry
from invigilate.exams.models import Registration
from invigilate.exams.rules import exam_rules
from invigilate.realtime.groups import candidate_group, exam_group, room_group
from invigilate.realtime.publish import publish_on_commit, tile_refresh_on_commit

from .models import ACTIVE_STATUSES, Alert, ExamAlertCounter, InvigilatorAction, Signal
from .rules import alert_rule, signal_raises_alert

Status = Alert.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.ACKNOWLEDGED, Status.ESCALATED, Status.RESOLVED, Status.DISMISSED}),
    Status.ESCALATED: frozenset({Status.ACKNOWLEDGED, Status.RESOLVED, Status.DISMISSED}),
    Status.ACKNOWLEDGED: frozenset({Status.RESOLVED, Status.DISMISSED}),
    Status.RESOLVED: frozenset(),
    Status.DISMISSED: frozenset(),
}

FINISHED_STAGES = {Registration.Stage.SUBMITTED, Registration.Stage.COMPLETE}
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_.]{0,47}")
MAX_DATA_CHARS = 2000


class SignalRejected(ValueError):
    """A malformed signal; the message says what is wrong with it."""


class AlertTransitionError(Exception):
    """An alert cannot make this move (already closed, or someone else moved it first)."""


# --- Signals ----------------------------------------------------------------------------

def signal_record(
    *,
    registration: Registration,
    kind: str,
    source: str,
    client_seq: int | None = None,
    client_time: datetime | None = None,
    data: dict | None = None,
    client_id: str = "",
) -> Signal | None:
    """Store a signal and raise or fold its alert; None when it is a replay (or a heartbeat).

    Idempotent on (registration, source, client_id, client_seq). Heartbeats are not stored:
    they only keep the candidate's presence (see ``heartbeat_record``).
    """
    if source not in Signal.Source.values:
        raise SignalRejected(f"unknown source {source!r}")
    if not isinstance(kind, str) or not KIND_PATTERN.fullmatch(kind):
        raise SignalRejected("kind must be 1-48 characters of a-z, 0-9, '_' or '.'")
    if data is not None and not isinstance(data, dict):
        raise SignalRejected("data must be an object")
    if data and len(str(data)) > MAX_DATA_CHARS:
        raise SignalRejected(f"data is longer than {MAX_DATA_CHARS} characters")
    if client_seq is not None and (not isinstance(client_seq, int) or client_seq < 0):
        raise SignalRejected("seq must be a non-negative integer")
    now = timezone.now()
    if kind == "heartbeat":
        heartbeat_record(registration=registration, now=now)
        return None
    signal = Signal(
        registration=registration, source=source, kind=kind, client_id=client_id[:40], client_seq=client_seq,
        client_time=client_time, received_at=now, data=data or {},
    )

    def record() -> Signal | None:
        try:
            with transaction.atomic():
                if client_seq is not None and _signal_replayed(signal):
                    return None
                if signal_raises_alert(kind):
                    _signal_save_with_alert(registration=registration, kind=kind, signal=signal, now=now)
                else:
                    signal.save()
                publish_on_commit(
                    room_group(registration.room_id), "signal.recorded",
                    registration_id=registration.pk, kind=kind, at=now.isoformat(),
                )
        except IntegrityError:
            if client_seq is not None and _signal_replayed(signal):
                return None  # the same (client, seq) arrived twice at once: the other copy was kept
            raise
        return signal

    def unsaved() -> None:  # the rolled-back attempt gave the objects rows that are not there
        signal.pk, signal.alert, signal._state.adding = None, None, True

    # A new alert takes the candidate's lock, then the exam's counter and audit chain: a
    # transaction holding the chain that then wants this candidate's alerts deadlocks with it,
    # and a signal is evidence, not to be dropped for that.
    return deadlock_retry(record, again=unsaved)


def _signal_replayed(signal: Signal) -> bool:
    return Signal.objects.filter(
        registration=signal.registration, source=signal.source, client_id=signal.client_id,
        client_seq=signal.client_seq,
    ).exists()


def _signal_save_with_alert(*, registration: Registration, kind: str, signal: Signal, now) -> None:
    """Save the signal with the alert it folds into, or with a new numbered alert it raises.

    A new alert of an exam waits for the exam's alert counter and audit chain, which stay
    locked until commit; so everything else (the alert's row, the signal's row, and a racing
    copy of the signal failing on its unique key) happens before those locks are taken, and
    the numbering and its audit entry are the transaction's last statements.
    """
    _candidate_alerts_lock(registration.pk)
    rules = exam_rules(registration.exam)
    window_start = now - timedelta(seconds=rules.alert_fold_window_seconds)
    live = (
        Alert.objects.filter(
            registration=registration, kind=kind, status__in=ACTIVE_STATUSES, last_seen_at__gte=window_start
        )
        .order_by("-sequence")
        .first()
    )
    if live is not None:
        Alert.objects.filter(pk=live.pk).update(count=F("count") + 1, last_seen_at=now, changed_at=now)
        live.refresh_from_db()
        signal.alert = live
        signal.save()
        _alert_publish(live, "alert.updated")
        return

    rule = alert_rule(kind)
    signal.alert = Alert.objects.create(
        exam_id=registration.exam_id, room_id=registration.room_id, registration=registration,
        sequence=None, kind=kind, severity=rule.severity, status=Status.OPEN,
        first_seen_at=now, last_seen_at=now, changed_at=now, data=_evidence_of(signal),
    )
    signal.save()
    alert = signal.alert
    _alert_number(alert)
    audit_record(
        event_type="alert.raised", actor_label=f"{signal.source}:{registration.pk}", subject=alert,
        exam_id=registration.exam_id, registration_id=registration.pk,
        data={"sequence": alert.sequence, "kind": kind, "severity": alert.severity, "source": signal.source,
              "client_seq": signal.client_seq},
    )
    _alert_publish(alert, "alert.raised")


def _alert_number(alert: Alert) -> None:
    """Give the alert the exam's next number. Locks the exam's counter row until the caller
    commits (a rolled-back alert gives its number back), so the numbers have no gaps."""
    counter, alerts = ExamAlertCounter._meta.db_table, Alert._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip takes the lock and the number and numbers the alert.
            cursor.execute(
                f"WITH next AS (UPDATE {counter} SET last_sequence = last_sequence + 1 WHERE exam_id = %s"
                f" RETURNING last_sequence) UPDATE {alerts} SET sequence = next.last_sequence FROM next"
                f" WHERE {alerts}.id = %s RETURNING {alerts}.sequence",
                [alert.exam_id, alert.pk],
            )
        else:
            cursor.execute(
                f"UPDATE {counter} SET last_sequence = last_sequence + 1 WHERE exam_id = %s RETURNING last_sequence",
                [alert.exam_id],
            )
        row = cursor.fetchone()
        if row is None:
            ExamAlertCounter.objects.get_or_create(exam_id=alert.exam_id)  # the exam's first alert
            return _alert_number(alert)
        if connection.vendor != "postgresql":
            cursor.execute(f"UPDATE {alerts} SET sequence = %s WHERE id = %s", [row[0], alert.pk])
    alert.sequence = row[0]


# An arbitrary namespace for the advisory locks of this module (first key of the pair).
ALERT_LOCK_NAMESPACE = 0x616C7274


def _candidate_alerts_lock(registration_id: int) -> None:
    """Handle one candidate's alerts one transaction at a time, so two repeats cannot both raise.

    Not a row lock on the registration: the heartbeat writes update those rows in batches,
    and a row lock here queued every signal behind them (seen in the alerts benchmark).
    SQLite needs nothing: its writers are already serialised (``transaction_mode=IMMEDIATE``).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ALERT_LOCK_NAMESPACE, registration_id])


def _evidence_of(signal: Signal) -> dict:
    # Detectors attach an evidence reference (e.g. {"snapshot": path}); keep it on the alert.
    return {key: value for key, value in signal.data.items() if key in {"snapshot", "clip", "detail"}}


def _alert_publish(alert: Alert, name: str) -> None:
    publish_on_commit(
        [room_group(alert.room_id), exam_group(alert.exam_id)], name,
        alert_id=alert.pk, sequence=alert.sequence, exam_id=alert.exam_id, room_id=alert.room_id,
        registration_id=alert.registration_id, kind=alert.kind, severity=alert.severity, status=alert.status,
        count=alert.count, changed_at=alert.changed_at.isoformat(),
    )


# --- The life of an alert ---------------------------------------------------------------

def _role_of(user) -> str:
    return user.role or (Role.EXAM_ADMIN if user.is_superuser else "")


def _alert_move(*, alert: Alert, to: str, actor=None, event_type: str, fields: dict, data: dict | None = None) -> Alert:
    now = timezone.now()
    with transaction.atomic():
        current = Alert.objects.filter(pk=alert.pk).values_list("status", flat=True).first()
        if current is None:
            raise AlertTransitionError(_("This alert no longer exists."))
        if to not in TRANSITIONS[current]:
            raise AlertTransitionError(
                _("This alert is already %(status)s; it cannot become %(to)s.")
                % {"status": Status(current).label, "to": Status(to).label}
            )
        moved = Alert.objects.filter(pk=alert.pk, status=current).update(status=to, changed_at=now, **{
            key: (now if value is _NOW else value) for key, value in fields.items()
        })
        if not moved:
            raise AlertTransitionError(_("Someone else changed this alert at the same moment; please look again."))
        alert.refresh_from_db()
        audit_record(
            event_type=event_type, actor=actor, subject=alert, exam_id=alert.exam_id,
            registration_id=alert.registration_id,
            data={"sequence": alert.sequence, "from": current, "to": to, **(data or {})},
        )
        _alert_publish(alert, "alert.updated")
    return alert


_NOW = object()


def alert_acknowledge(*, alert: Alert, actor, on_behalf: bool = False) -> Alert:
    """The actor has seen the alert and is looking into it.

    ``on_behalf``: a supervisor (or admin) acting for the room's invigilators; recorded so
    that supervision can tell who handled what. Anyone whose role is not invigilator counts
    as acting on behalf.
    """
    role = _role_of(actor)
    on_behalf = on_behalf or role != Role.INVIGILATOR
    return _alert_move(
        alert=alert, to=Status.ACKNOWLEDGED, actor=actor, event_type="alert.acknowledged",
        fields={"acknowledged_at": _NOW, "acknowledged_by": actor, "acknowledged_role": role,
                "acknowledged_on_behalf": on_behalf},
        data={"role": role, "on_behalf": on_behalf},
    )


def alert_resolve(*, alert: Alert, actor, note: str = "") -> Alert:
    """The matter is dealt with (e.g. the candidate came back in frame after a warning)."""
    return _alert_move(
        alert=alert, to=Status.RESOLVED, actor=actor, event_type="alert.resolved",
        fields={"closed_at": _NOW, "closed_by": actor, "closed_role": _role_of(actor)},
        data={"role": _role_of(actor), "note": note[:300]},
    )


def alert_dismiss(*, alert: Alert, actor, reason: str) -> Alert:
    """A false alarm; the reason is kept for the reviewers."""
    reason = (reason or "").strip()
    if not reason:
        raise AlertTransitionError(_("Say why this alert is a false alarm."))
    return _alert_move(
        alert=alert, to=Status.DISMISSED, actor=actor, event_type="alert.dismissed",
        fields={"closed_at": _NOW, "closed_by": actor, "closed_role": _role_of(actor), "dismiss_reason": reason[:300]},
        data={"role": _role_of(actor), "reason": reason[:300]},
    )


def alert_escalate(*, alert: Alert) -> Alert:
    """Nobody acknowledged the alert in time: it goes to the exam's supervisors."""
    return _alert_move(alert=alert, to=Status.ESCALATED, event_type="alert.escalated", fields={"escalated_at": _NOW})


def alerts_escalate_overdue(*, now=None) -> int:
    """Escalate every alert left open longer than its exam allows. Idempotent."""
    now = now or timezone.now()
    escalated = 0
    exam_ids = Alert.objects.filter(status=Status.OPEN).values_list("exam_id", flat=True).distinct()
    for exam_id in list(exam_ids):
        overdue = Alert.objects.filter(exam_id=exam_id, status=Status.OPEN).select_related("exam")
        for alert in overdue:
            limit = timedelta(seconds=exam_rules(alert.exam).alert_escalate_after_seconds)
            if alert.first_seen_at > now - limit:
                continue
            try:
                alert_escalate(alert=alert)
                escalated += 1
            except AlertTransitionError:
                pass  # acknowledged meanwhile: nothing to escalate
    return escalated


# --- Presence ---------------------------------------------------------------------------

def heartbeat_record(*, registration: Registration, now=None) -> bool:
    """The candidate's PC page is alive. Returns True when it had been marked disconnected.

    Reconnecting clears the disconnection; the gap stays on the timeline as a signal.
    """
    now = now or timezone.now()
    # The common case, one statement: a connected candidate is still there.
    if Registration.objects.filter(pk=registration.pk, connected=True).update(last_seen_at=now):
        return False
    with transaction.atomic():
        gap = Registration.objects.filter(pk=registration.pk).values_list("connected", "disconnected_since").first()
        if gap is None or gap[0]:
            return False
        disconnected_since = gap[1]
        moved = Registration.objects.filter(pk=registration.pk, connected=False).update(
            connected=True, disconnected_since=None, last_seen_at=now
        )
        if not moved:
            return False
        if disconnected_since is not None:
            Signal.objects.create(
                registration=registration, source=Signal.Source.SERVER, kind="reconnected", received_at=now,
                data={"disconnected_since": disconnected_since.isoformat(),
                      "gap_seconds": round((now - disconnected_since).total_seconds())},
            )
        tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
    return True


def heartbeats_record(*, registrations: list[Registration], now=None) -> None:
    """Many connected candidates' heartbeats in one statement; reconnections one by one."""
    now = now or timezone.now()
    ids = [registration.pk for registration in registrations]
    Registration.objects.filter(pk__in=ids, connected=True).update(last_seen_at=now)
    marked_away = set(Registration.objects.filter(pk__in=ids, connected=False).values_list("pk", flat=True))
    for registration in registrations:
        if registration.pk in marked_away:
            heartbeat_record(registration=registration, now=now)


def registrations_mark_disconnected(*, now=None) -> int:
    """Mark candidates whose heartbeats stopped as disconnected (since their last one). Idempotent."""
    now = now or timezone.now()
    marked = 0
    stale = Registration.objects.filter(connected=True, last_seen_at__lt=now - timedelta(seconds=5)).select_related(
        "exam"
    )
    for registration in stale:
        timeout = timedelta(seconds=exam_rules(registration.exam).heartbeat_timeout_seconds)
        if registration.last_seen_at > now - timeout:
            continue
        with transaction.atomic():
            moved = Registration.objects.filter(
                pk=registration.pk, connected=True, last_seen_at=registration.last_seen_at
            ).update(connected=False, disconnected_since=registration.last_seen_at)
            if not moved:
                continue  # a heartbeat arrived meanwhile
            marked += 1
            if registration.stage not in FINISHED_STAGES:
                signal_record(
                    registration=registration, kind="disconnected", source=Signal.Source.SERVER,
                    data={"last_seen_at": registration.last_seen_at.isoformat()},
                )
            tile_refresh_on_commit(room_id=registration.room_id, registration_id=registration.pk)
    return marked


# --- Invigilators' actions --------------------------------------------------------------

def warning_issue(*, registration: Registration, actor, message: str, alert: Alert | None = None) -> InvigilatorAction:
    """Show a warning on the candidate's screen at once; they must confirm it."""
    message = (message or "").strip()
    if not message:
        raise ValueError(_("Write the warning the candidate will see."))
    with transaction.atomic():
        warning = InvigilatorAction.objects.create(
            registration=registration, kind=InvigilatorAction.Kind.WARNING, text=message[:1000], author=actor,
            author_role=_role_of(actor), alert=alert, created_at=timezone.now(),
        )
        audit_record(
            event_type="candidate.warned", actor=actor, subject=warning, exam_id=registration.exam_id,
            registration_id=registration.pk, data={"message": warning.text, "alert": alert.pk if alert else None},
        )
        publish_on_commit(candidate_group(registration.pk), "warning.issued", warning_id=warning.pk, message=warning.text)
        publish_on_commit(
            room_group(registration.room_id), "action.recorded",
            registration_id=registration.pk, action_id=warning.pk, kind=warning.kind,
        )
    return warning


def warning_confirm(*, registration: Registration, warning_id: int) -> bool:
    """The candidate pressed "I understand"; False if already confirmed or not theirs."""
    now = timezone.now()
    with transaction.atomic():
        confirmed = InvigilatorAction.objects.filter(
            pk=warning_id, registration=registration, kind=InvigilatorAction.Kind.WARNING, confirmed_at__isnull=True
        ).update(confirmed_at=now)
        if confirmed:
            audit_record(
                event_type="candidate.warning_confirmed", actor_label=actor_label_for_registration(registration.pk),
                exam_id=registration.exam_id, registration_id=registration.pk, data={"warning": warning_id},
            )
            publish_on_commit(
                [room_group(registration.room_id), exam_group(registration.exam_id)], "warning.confirmed",
                warning_id=warning_id, registration_id=registration.pk, confirmed_at=now.isoformat(),
            )
    return bool(confirmed)


def warnings_unconfirmed(*, registration: Registration):
    return InvigilatorAction.objects.filter(
        registration=registration, kind=InvigilatorAction.Kind.WARNING, confirmed_at__isnull=True
    )


def note_add(*, registration: Registration, actor, text: str, alert: Alert | None = None) -> InvigilatorAction:
    return _action_add(registration=registration, actor=actor, kind=InvigilatorAction.Kind.NOTE, text=text, alert=alert)


def flag_add(*, registration: Registration, actor, text: str, alert: Alert | None = None) -> InvigilatorAction:
    """Flag the candidate for the reviewers, with why."""
    return _action_add(registration=registration, actor=actor, kind=InvigilatorAction.Kind.FLAG, text=text, alert=alert)


def _action_add(*, registration, actor, kind, text, alert) -> InvigilatorAction:
    text = (text or "").strip()
    if not text:
        raise ValueError(_("Write what you saw."))
    with transaction.atomic():
        action = InvigilatorAction.objects.create(
            registration=registration, kind=kind, text=text[:1000], author=actor, author_role=_role_of(actor),
            alert=alert, created_at=timezone.now(),
        )
        audit_record(
            event_type=f"candidate.{kind}", actor=actor, subject=action, exam_id=registration.exam_id,
            registration_id=registration.pk, data={"text": action.text, "alert": alert.pk if alert else None},
        )
        publish_on_commit(
            room_group(registration.room_id), "action.recorded",
            registration_id=registration.pk, action_id=action.pk, kind=kind,
        )
    return action
