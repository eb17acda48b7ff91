"""Writes of the media plane. Each change is one function, audited where it matters later."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from invigilate.audit.services import audit_record
from invigilate.exams.models import Registration

from .models import MediaPeer, MediaWorker, RecordingGap, RecordingSegment

logger = logging.getLogger(__name__)


class NoMediaWorker(RuntimeError):
    """No live media worker can take the candidate; the page retries."""


class IllegalPeerTransition(ValueError):
    pass


def media_worker_register(*, name: str, channel_name: str, host: str, pid: int) -> MediaWorker:
    now = timezone.now()
    worker, _ = MediaWorker.objects.update_or_create(
        name=name,
        defaults={
            "channel_name": channel_name, "host": host, "pid": pid, "status": MediaWorker.Status.ALIVE,
            "started_at": now, "heartbeat_at": now, "load": 0, "peer_count": 0, "accepting": True,
        },
    )
    return worker


def media_worker_heartbeat(*, worker_id: int, load: float, peer_count: int) -> bool:
    """Record a worker's load. False if it was declared dead meanwhile (it must stop serving)."""
    updated = MediaWorker.objects.filter(pk=worker_id, status=MediaWorker.Status.ALIVE).update(
        heartbeat_at=timezone.now(), load=load, peer_count=peer_count,
        accepting=load < settings.MEDIA_WORKER_MAX_LOAD,
    )
    return bool(updated)


def media_worker_stop(*, worker_id: int) -> None:
    """A clean shutdown: its peers end (the candidates reconnect elsewhere)."""
    with transaction.atomic():
        if MediaWorker.objects.filter(pk=worker_id, status=MediaWorker.Status.ALIVE).update(
            status=MediaWorker.Status.STOPPED
        ):
            _end_peers_of_worker(worker_id=worker_id, reason="worker_stopped")


def media_worker_sweep(*, now=None) -> list[tuple[int, str]]:
    """Declare dead the workers whose heartbeats stopped; end their peers and open gaps.

    Returns the (registration, source) of every device whose page must offer again (the
    caller tells each device: the PC and the phone listen on different sockets).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.MEDIA_WORKER_DEAD_AFTER_SECONDS)
    affected: list[tuple[int, str]] = []
    for worker_id in MediaWorker.objects.filter(status=MediaWorker.Status.ALIVE, heartbeat_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            # Compare-and-set: a sweep running twice declares a worker dead once.
            if not MediaWorker.objects.filter(pk=worker_id, status=MediaWorker.Status.ALIVE, heartbeat_at__lt=cutoff).update(
                status=MediaWorker.Status.DEAD
            ):
                continue
            affected += _end_peers_of_worker(worker_id=worker_id, reason="worker_lost")
            audit_record(event_type="media.worker_lost", data={"worker": worker_id})
    return affected


def _end_peers_of_worker(*, worker_id: int, reason: str) -> list[tuple[int, str]]:
    devices = []
    for peer in MediaPeer.objects.filter(worker_id=worker_id).exclude(status=MediaPeer.Status.ENDED):
        if media_peer_end(peer_id=peer.pk, reason=reason):
            devices.append((peer.registration_id, peer.source))
    return devices


def _workers_alive():
    fresh = timezone.now() - timedelta(seconds=settings.MEDIA_WORKER_DEAD_AFTER_SECONDS)
    return MediaWorker.objects.filter(status=MediaWorker.Status.ALIVE, heartbeat_at__gte=fresh)


def media_worker_choose(*, registration_id: int | None = None, source: str | None = None) -> MediaWorker:
    """The worker for a device: the one already holding the candidate's other device if it
    is alive (the focus view is served by one worker, which must hold the PC and the phone),
    else the least-loaded live worker, preferring those with headroom.

    A phone at its low rate costs little, so it joins its PC's worker even when that worker is
    above its load threshold; only a dead worker splits a candidate's devices.
    """
    if registration_id is not None:
        sibling = (
            MediaPeer.objects.filter(registration_id=registration_id, worker__in=_workers_alive())
            .exclude(source=source).exclude(status=MediaPeer.Status.ENDED)
            .select_related("worker").order_by("-created_at").first()
        )
        if sibling is not None:
            return sibling.worker
    alive = _workers_alive()
    worker = (
        alive.filter(accepting=True).order_by("load", "peer_count", "pk").first()
        or alive.order_by("load", "peer_count", "pk").first()
    )
    if worker is None:
        raise NoMediaWorker("no media worker is alive")
    if not worker.accepting:
        logger.warning("every media worker is above %.0f%% load; %s takes one more", settings.MEDIA_WORKER_MAX_LOAD * 100, worker)
    return worker


def media_peer_assign(*, registration: Registration, source: str) -> tuple[MediaPeer, list[MediaPeer]]:
    """Pin a new connection of a candidate's device to a worker.

    Earlier open peers of the same device end ("replaced"); they are returned so the caller
    tells their workers to close them.
    """
    with transaction.atomic():
        # One device of a candidate is placed at a time, so a PC and a phone offering at the
        # same moment cannot land on two workers.
        Registration.objects.select_for_update().filter(pk=registration.pk).values_list("pk").first()
        worker = media_worker_choose(registration_id=registration.pk, source=source)
        replaced = list(
            MediaPeer.objects.select_related("worker")
            .filter(registration=registration, source=source)
            .exclude(status=MediaPeer.Status.ENDED)
        )
        for old in replaced:
            media_peer_end(peer_id=old.pk, reason="replaced")
        peer = MediaPeer.objects.create(registration=registration, worker=worker, source=source, created_at=timezone.now())
        # Counted now, so a burst of candidates spreads before the next heartbeat.
        MediaWorker.objects.filter(pk=worker.pk).update(peer_count=F("peer_count") + 1)
    peer.worker = worker
    return peer, replaced


def _peer_move(*, peer_id: int, new: str, **fields) -> MediaPeer | None:
    # NO KEY UPDATE: segments being inserted (FK to this row) must not wait on it, nor it on them.
    peer = MediaPeer.objects.select_for_update(no_key=True).filter(pk=peer_id).first()
    if peer is None:
        return None
    if new not in MediaPeer.TRANSITIONS[peer.status]:
        return None  # already ended, or live twice: another path got there first
    updated = MediaPeer.objects.filter(pk=peer_id, status=peer.status).update(status=new, **fields)
    return peer if updated else None


def media_peer_mark_live(*, peer_id: int) -> bool:
    """Media flows: close this device's open gaps."""
    now = timezone.now()
    with transaction.atomic():
        peer = _peer_move(peer_id=peer_id, new=MediaPeer.Status.LIVE, live_at=now)
        if peer is None:
            return False
        for gap in RecordingGap.objects.select_for_update().filter(
            registration_id=peer.registration_id, source=peer.source, ended_at__isnull=True
        ):
            gap.ended_at = now
            gap.save(update_fields=["ended_at"])
            audit_record(
                event_type="media.gap_closed", subject=gap, exam_id=peer.registration.exam_id,
                registration_id=peer.registration_id,
                data={"source": gap.source, "started_at": gap.started_at, "ended_at": now, "reason": gap.reason},
            )
    return True


def media_peer_end(*, peer_id: int, reason: str) -> bool:
    """A connection ended. If it had carried media, a gap opens until the device is back."""
    now = timezone.now()
    worker_id = MediaPeer.objects.filter(pk=peer_id).values_list("worker_id", flat=True).first()
    with transaction.atomic():
        # Worker row first, then the peer: the order media_worker_stop and the sweep lock in
        # (worker, then its peers). The other order deadlocked when connections closed while
        # their worker was stopping (seen by bench/media).
        list(MediaWorker.objects.select_for_update().filter(pk=worker_id).values_list("pk"))
        peer = _peer_move(peer_id=peer_id, new=MediaPeer.Status.ENDED, ended_at=now, end_reason=reason[:32])
        if peer is None:
            return False
        MediaWorker.objects.filter(pk=peer.worker_id, peer_count__gt=0).update(peer_count=F("peer_count") - 1)
        # A replacing connection was opened already; anything else leaves a hole.
        if peer.status == MediaPeer.Status.LIVE and reason != "replaced":
            gap = RecordingGap.objects.create(
                registration_id=peer.registration_id, source=peer.source, started_at=now, reason=reason[:32]
            )
            audit_record(
                event_type="media.gap_opened", subject=gap, exam_id=peer.registration.exam_id,
                registration_id=peer.registration_id, data={"source": peer.source, "reason": reason},
            )
    return True


def recording_segment_record(
    *, registration_id: int, peer_id: int | None, track: str, sequence: int, path: str,
    started_at, ended_at, duration_seconds: float, size_bytes: int, sha256: str,
) -> RecordingSegment:
    """A finished segment file: its checksum goes into the exam's audit chain."""
    registration = Registration.objects.only("exam_id").get(pk=registration_id)
    with transaction.atomic():
        segment = RecordingSegment.objects.create(
            registration_id=registration_id, peer_id=peer_id, track=track, sequence=sequence, path=path,
            started_at=started_at, ended_at=ended_at, duration_seconds=duration_seconds, size_bytes=size_bytes,
            sha256=sha256,
        )
        audit_record(
            event_type="media.segment_recorded", subject=segment, exam_id=registration.exam_id,
            registration_id=registration_id,
            data={"track": track, "sequence": sequence, "path": path, "sha256": sha256, "bytes": size_bytes,
                  "started_at": started_at, "ended_at": ended_at},
        )
    return segment
