"""Reads of the evidence app, scoped to who asks."""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from invigilate.accounts.selectors import user_has_exam_role, user_may_invigilate_room
from invigilate.exams.models import Registration
from invigilate.exams.rules import exam_rules

from .models import Interruption, PairingCode, PhoneDevice, PlacementRequest, Recording, RecordingKind, Upload

PHONE_DEVICE_KEY = "evidence_phone_id"


def phone_for_session(*, session, session_key: str | None) -> PhoneDevice | None:
    """The paired phone whose browser holds this Django session, unless it was replaced."""
    phone_id = session.get(PHONE_DEVICE_KEY)
    if not phone_id or not session_key:
        return None
    return (
        PhoneDevice.objects.select_related("registration__exam", "registration__room", "registration__candidate")
        .filter(pk=phone_id, session_key=session_key, revoked_at__isnull=True)
        .first()
    )


def pairing_code_current(*, registration: Registration, now=None) -> PairingCode | None:
    now = now or timezone.now()
    return (PairingCode.objects.filter(registration=registration, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at").first())


def phone_paired(*, registration: Registration) -> PhoneDevice | None:
    return PhoneDevice.objects.filter(registration=registration, revoked_at__isnull=True).order_by("-paired_at").first()


@dataclass(frozen=True)
class MissingSegment:
    """A segment the client made (by its sequence numbers) that has not arrived whole.

    ``state``: "pending" (not uploaded yet, not due yet), "uploading" (bytes coming, not due
    yet), "late" (due: it ended on the client's clock more than the exam's
    ``evidence_late_after_seconds`` ago, and the upload window is still open) or "missing"
    (the upload window, which closes with the exam's incident window, is over)."""

    recording_id: int
    seq: int
    state: str
    expected_at: datetime | None  # when the segment ended on the client's clock, if known


@dataclass(frozen=True)
class Gap:
    """A stretch with no recording: an interruption the client reported, or the time
    between two recordings of the same kind (the page was closed, the phone restarted)."""

    started_at: datetime
    ended_at: datetime | None
    reason: str

    @property
    def label(self) -> str:
        labels = dict(Interruption.Reason.choices) | {"recording_restarted": _("The recording restarted")}
        return str(labels.get(self.reason, self.reason.replace("_", " ")))


@dataclass
class KindStatus:
    kind: str
    label: str
    recordings: int = 0
    open_recordings: int = 0  # not yet ended by their client
    expected: int = 0
    received: int = 0
    bytes_received: int = 0
    outstanding: list[MissingSegment] = field(default_factory=list)  # every segment not arrived yet
    gaps: list[Gap] = field(default_factory=list)

    @property
    def late(self) -> list[MissingSegment]:
        return [segment for segment in self.outstanding if segment.state == "late"]

    @property
    def missing(self) -> list[MissingSegment]:
        return [segment for segment in self.outstanding if segment.state == "missing"]

    @property
    def complete(self) -> bool:
        return self.recordings > 0 and self.open_recordings == 0 and not self.outstanding


@dataclass
class EvidenceStatus:
    registration_id: int
    kinds: dict[str, KindStatus]
    interruptions: list[Interruption]

    @property
    def expected(self) -> int:
        return sum(kind.expected for kind in self.kinds.values())

    @property
    def received(self) -> int:
        return sum(kind.received for kind in self.kinds.values())

    @property
    def outstanding(self) -> list[MissingSegment]:
        return [segment for kind in self.kinds.values() for segment in kind.outstanding]

    @property
    def complete(self) -> bool:
        """Every recording this candidate started has ended and every segment arrived."""
        return bool(self.kinds) and all(kind.complete for kind in self.kinds.values())

    def complete_for(self, kinds) -> bool:
        """Complete, and each of ``kinds`` was recorded at all (e.g. the PC page asks for its
        camera and screen)."""
        return self.complete and all(kind in self.kinds and self.kinds[kind].complete for kind in kinds)


def _segment_state(*, expected_at: datetime | None, uploading: bool, late_after: timedelta,
                   window_closes_at: datetime, now: datetime) -> str:
    if now >= window_closes_at:
        return "missing"
    if expected_at is not None and now > expected_at + late_after:
        return "late"
    return "uploading" if uploading else "pending"


def _last_expected_seq(recording: Recording, *, highest_created: int | None) -> int:
    """The recording's last expected segment: its final one if its client ended it, else the
    highest number the client reported or created an upload for (-1: none yet)."""
    if recording.final_seq is not None:
        return recording.final_seq
    return max(recording.last_seq, -1 if highest_created is None else highest_created)


def evidence_status_for_registration(*, registration: Registration, now: datetime | None = None) -> EvidenceStatus:
    """What this candidate's devices said they recorded, what arrived, and what is late or missing.

    Expected segments of a recording are 0..N where N is its final segment if its client
    ended it, else the highest number the client reported or created. A recording followed
    by a later one of the same kind was cut off (page closed): it counts as ended at what it
    reported, and the time between the two is a gap. A segment not arrived is late once it is
    due (see ``MissingSegment``), missing once the exam's upload window has closed; its due
    time is on the client's clock, so a segment of a recording whose start is unknown is never
    late, only missing at the end.
    """
    now = now or timezone.now()
    exam = registration.exam
    late_after = timedelta(seconds=exam_rules(exam).evidence_late_after_seconds)
    recordings = list(Recording.objects.filter(registration=registration).order_by("kind", "started_at", "pk"))
    uploads: dict[int, dict[int, Upload]] = {}
    for upload in Upload.objects.filter(registration=registration, status__in=Upload.LIVE).only(
        "recording_id", "seq", "status", "length", "client_started_at", "duration_ms"
    ):
        uploads.setdefault(upload.recording_id, {})[upload.seq] = upload
    labels = dict(RecordingKind.choices)
    kinds: dict[str, KindStatus] = {}
    by_kind: dict[str, list[Recording]] = {}
    for recording in recordings:
        by_kind.setdefault(recording.kind, []).append(recording)
    for kind, runs in by_kind.items():
        status = kinds[kind] = KindStatus(kind=kind, label=str(labels.get(kind, kind)))
        for index, recording in enumerate(runs):
            segments = uploads.get(recording.pk, {})
            superseded = index < len(runs) - 1
            last = _last_expected_seq(recording, highest_created=max(segments, default=None))
            status.recordings += 1
            if recording.final_seq is None and not superseded:
                status.open_recordings += 1
            for seq in range(last + 1):
                status.expected += 1
                upload = segments.get(seq)
                if upload is not None and upload.status == Upload.Status.COMPLETE:
                    status.received += 1
                    status.bytes_received += upload.length
                    continue
                expected_at = None
                if recording.started_at:
                    expected_at = recording.started_at + timedelta(seconds=recording.segment_seconds * (seq + 1))
                state = _segment_state(expected_at=expected_at, uploading=upload is not None, late_after=late_after,
                                       window_closes_at=exam.incident_window_closes_at, now=now)
                status.outstanding.append(MissingSegment(recording.pk, seq, state, expected_at))
            if superseded and recording.started_at and runs[index + 1].started_at:
                ended = recording.started_at + timedelta(seconds=recording.segment_seconds * (last + 1))
                if runs[index + 1].started_at > ended:
                    status.gaps.append(Gap(ended, runs[index + 1].started_at, "recording_restarted"))
    interruptions = list(Interruption.objects.filter(registration=registration))
    for interruption in interruptions:
        status = kinds.get(interruption.kind)
        if status is not None:
            status.gaps.append(Gap(interruption.started_at, interruption.ended_at, interruption.reason))
    for status in kinds.values():
        status.gaps.sort(key=lambda gap: gap.started_at)
    return EvidenceStatus(registration_id=registration.pk, kinds=kinds, interruptions=interruptions)


def evidence_late_counts(*, registration_ids: list[int], now: datetime | None = None) -> dict[int, int]:
    """How many segments of each of these candidates are late, as ``evidence_status_for_registration``
    counts them, in two queries for a whole wall (the tiles show it). Only candidates with late
    segments are in the result."""
    now = now or timezone.now()
    recordings = list(
        Recording.objects.filter(registration_id__in=registration_ids)
        .select_related("registration__exam")
        .annotate(created_max=Max("uploads__seq", filter=Q(uploads__status__in=Upload.LIVE)))
    )
    due: dict[int, tuple[int, int]] = {}  # recording -> (registration, last segment due)
    for recording in recordings:
        exam = recording.registration.exam
        if recording.started_at is None or now >= exam.incident_window_closes_at:
            continue
        last = _last_expected_seq(recording, highest_created=recording.created_max)
        late_after = exam_rules(exam).evidence_late_after_seconds
        # Segment s is late once started_at + (s + 1) * segment_seconds + late_after < now.
        elapsed = (now - recording.started_at).total_seconds() - late_after
        last_due = min(last, math.ceil(elapsed / recording.segment_seconds) - 2)
        if last_due >= 0:
            due[recording.pk] = (recording.registration_id, last_due)
    if not due:
        return {}
    arrived_filter = Q()
    for recording_id, (_registration_id, last_due) in due.items():
        arrived_filter |= Q(recording_id=recording_id, seq__lte=last_due)
    arrived = dict(
        Upload.objects.filter(arrived_filter, status=Upload.Status.COMPLETE)
        .values("recording_id").annotate(n=Count("pk")).values_list("recording_id", "n")
    )
    counts: dict[int, int] = {}
    for recording_id, (registration_id, last_due) in due.items():
        late = last_due + 1 - arrived.get(recording_id, 0)
        if late:
            counts[registration_id] = counts.get(registration_id, 0) + late
    return counts


def evidence_status_for_staff(*, user, registration: Registration) -> EvidenceStatus | None:
    """The same, for a member of staff who may see this candidate (else None)."""
    allowed = user_may_invigilate_room(user=user, room_id=registration.room_id) or any(
        user_has_exam_role(user=user, exam_id=registration.exam_id, role=role)
        for role in ("supervisor", "reviewer", "technician")
    )
    return evidence_status_for_registration(registration=registration) if allowed else None


def placement_requests_pending(*, registration: Registration):
    """Corrections the candidate has not confirmed yet, oldest first."""
    return PlacementRequest.objects.filter(
        registration=registration, status=PlacementRequest.Status.REQUESTED
    ).order_by("requested_at", "pk")


def registration_for_placement(*, user, registration_id: int) -> Registration | None:
    """The registration if ``user`` may ask its candidate to move the phone: the room's
    invigilators and the exam's supervisors."""
    registration = Registration.objects.select_related("exam", "room", "candidate").filter(pk=registration_id).first()
    if registration is None or not user.is_authenticated or not user.is_active:
        return None
    if user_may_invigilate_room(user=user, room_id=registration.room_id) or user_has_exam_role(
        user=user, exam_id=registration.exam_id, role="supervisor"
    ):
        return registration
    return None


def placement_requests_for_staff(*, registration: Registration, limit: int = 5):
    return list(PlacementRequest.objects.filter(registration=registration).select_related("requested_by")[:limit])


def phone_silences_open(*, registration_ids: list[int]) -> dict[int, datetime]:
    """Since when each of these candidates' phones has been silent (server-noticed), if it is."""
    silences: dict[int, datetime] = {}
    for registration_id, started_at in Interruption.objects.filter(
        registration_id__in=registration_ids, reason=Interruption.Reason.PHONE_SILENT, ended_at__isnull=True
    ).values_list("registration_id", "started_at").order_by("started_at"):
        silences.setdefault(registration_id, started_at)
    return silences
