import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import OperationalError, connection, models, transaction
from django.utils import timezone

from .models import AuditChain, AuditEvent

SYSTEM = "system"


def actor_label_for_user(user) -> str:
    return f"user:{user.pk}"


def actor_label_for_registration(registration_id: int) -> str:
    return f"candidate:{registration_id}"


def canonical_content(
    *,
    chain: int,
    position: int,
    occurred_at: datetime,
    actor_label: str,
    event_type: str,
    subject_type: str,
    subject_id: str,
    registration_id: int | None,
    data: dict,
    prev_hash: str,
) -> bytes:
    document = {
        "chain": chain,
        "position": position,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor_label,
        "event": event_type,
        "subject": [subject_type, subject_id],
        "registration": registration_id,
        "data": data,
        "prev": prev_hash,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(
        canonical_content(
            chain=event.chain,
            position=event.position,
            occurred_at=event.occurred_at,
            actor_label=event.actor_label,
            event_type=event.event_type,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            registration_id=event.registration_id,
            data=event.data,
            prev_hash=event.prev_hash,
        )
    ).hexdigest()


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON so what we hash is exactly what the database gives back.
    return json.loads(json.dumps(data, default=str))


def audit_record(
    *,
    event_type: str,
    actor=None,
    actor_label: str | None = None,
    subject: models.Model | None = None,
    exam_id: int | None = None,
    registration_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the exam's chain, inside the caller's transaction.

    The chain head is locked until the caller commits, so appends to one exam's chain are
    serialised and a rolled-back change leaves no audit row behind.
    """
    if actor is not None and actor_label is None:
        actor_label = actor_label_for_user(actor)
    if actor_label is None:
        actor_label = SYSTEM
    chain_key = exam_id or 0
    # No savepoint: a failed append must undo the caller's change anyway. Every statement
    # from here to the caller's commit holds the exam's chain, so there are as few as can be.
    with transaction.atomic(savepoint=False):
        position, prev_hash = _chain_head_take(chain_key)
        event = AuditEvent(
            chain=chain_key,
            position=position,
            occurred_at=timezone.now(),
            actor=actor,
            actor_label=actor_label,
            event_type=event_type,
            subject_type=subject._meta.label_lower if subject is not None else "",
            subject_id=str(subject.pk) if subject is not None else "",
            registration_id=registration_id,
            data=_json_safe(data or {}),
            prev_hash=prev_hash,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
        AuditChain.objects.filter(key=chain_key).update(head_hash=event.hash)
    return event


DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE


def deadlock_retry(call, *, attempts: int = 3, again=None):
    """Run ``call()``, a whole transaction that is safe to repeat, again when PostgreSQL
    aborted it as one side of a deadlock. An append holds its exam's chain head until commit,
    so two transactions that also lock other rows, in opposite orders, can deadlock; the
    database then rolls one of them back whole, and running it again succeeds. ``again()``
    runs before each repeat, to bring objects the rolled-back attempt changed in memory back to
    their rows. Inside an outer transaction there is nothing to repeat: the call runs once."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except OperationalError as error:
            deadlock = getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED
            if not deadlock or attempt == attempts or connection.in_atomic_block:
                raise
            time.sleep(0.05 * attempt)
            if again is not None:
                again()


def _chain_head_take(chain_key: int) -> tuple[int, str]:
    """Lock the chain's head until the caller commits and claim its next position; return
    (that position, the hash it links to). One statement takes the lock, the position and the
    previous hash; the head's hash is updated by the caller once the event is hashed."""
    table, key = (connection.ops.quote_name(name) for name in (AuditChain._meta.db_table, "key"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET length = length + 1 WHERE {key} = %s RETURNING length, head_hash", [chain_key]
        )
        row = cursor.fetchone()
    if row is None:
        AuditChain.objects.get_or_create(key=chain_key)  # a new chain; racing creators meet here
        return _chain_head_take(chain_key)
    return row[0], row[1]


@dataclass(frozen=True)
class BrokenLink:
    chain: int
    position: int
    reason: str


def audit_chain_verify(*, chain: int | None = None) -> list[BrokenLink]:
    """Walk each chain from its start; return the first broken link of each broken chain."""
    chains = [chain] if chain is not None else list(
        AuditChain.objects.order_by("key").values_list("key", flat=True)
    )
    broken: list[BrokenLink] = []
    for key in chains:
        expected_prev = "0" * 64
        expected_position = 1
        head = AuditChain.objects.filter(key=key).first()
        problem = None
        for event in AuditEvent.objects.filter(chain=key).order_by("position").iterator():
            if event.position != expected_position:
                problem = BrokenLink(key, expected_position, "missing row")
            elif event.prev_hash != expected_prev:
                problem = BrokenLink(key, event.position, "predecessor hash does not match")
            elif event_hash(event) != event.hash:
                problem = BrokenLink(key, event.position, "content does not match its hash")
            if problem:
                break
            expected_prev = event.hash
            expected_position += 1
        if problem is None and head is not None and (
            head.length != expected_position - 1 or head.head_hash != expected_prev
        ):
            problem = BrokenLink(key, expected_position, "rows missing at the end of the chain")
        if problem:
            broken.append(problem)
    return broken
