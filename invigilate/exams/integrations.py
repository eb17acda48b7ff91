"""The journey's seams to features of other apps: each function here is the only place the
journey touches that app.

- face matching (media app): ``invigilate.media.faces.face_match`` decides the identity step;
- phone pairing and the PC's whole-exam recordings (evidence app): ``phone_paired`` and
  ``evidence_status_for_registration``;
- recorded answers travel as tus uploads of the evidence app (kind ``answer``), one
  recording per declared take, whose id the server derives from (registration, question, take).
"""

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _

from invigilate.evidence import selectors as evidence_selectors
from invigilate.evidence.models import RecordingKind, Upload
from invigilate.media.faces import FaceMatch, face_match

logger = logging.getLogger(__name__)

# The PC's whole-exam recordings that "submission complete" waits for (the phone confirms its
# own uploads on its own page, as the notice says).
PC_KINDS = (RecordingKind.PC_CAMERA, RecordingKind.PC_SCREEN)
_FACE_MODELS = threading.Lock()
ANSWER_NAMESPACE = uuid.UUID("6b1d8a57-5f0e-4e43-9d86-0f6c1b1e7a31")


# --- Identity -----------------------------------------------------------------------------------


def registered_photo(*, registration) -> bytes | None:
    photo = registration.candidate.photo
    if not photo:
        return None
    with photo.open("rb") as handle:
        return handle.read()


def face_match_for(*, registered: bytes | None, frame: bytes, max_distance: float) -> FaceMatch | None:
    """The live frame against the registered photo, or None when the server cannot decide
    (no registered photo, or one without a face, or a frame that is not a picture): the
    attempt then goes to the invigilator."""
    if not registered:
        return None
    try:
        # The face models are not thread-safe and each process keeps one of each: requests
        # (each in a thread of its own) take turns, ~150 ms apiece.
        with _FACE_MODELS:
            return face_match(registered_photo=registered, frame=frame, max_distance=max_distance)
    except ValueError as error:
        logger.warning("identity not decidable by face match: %s", error)
        return None


# --- Phone pairing ------------------------------------------------------------------------------


def pairing_panel_url() -> str:
    return reverse("evidence:pairing_panel")


def phone_ready(*, registration) -> bool:
    """A phone has been paired to this registration (and not replaced since)."""
    return evidence_selectors.phone_paired(registration=registration) is not None


# --- The PC's whole-exam recordings -------------------------------------------------------------


def evidence_outstanding(*, registration) -> list[str]:
    """What of the PC's camera and screen recordings the server does not hold yet.

    Every PC recording that was started must have ended (its page said so, or a later run of
    the same kind replaced it) and every segment it made must have arrived, checksum verified.
    """
    status = evidence_selectors.evidence_status_for_registration(registration=registration)
    outstanding = []
    for kind in PC_KINDS:
        kind_status = status.kinds.get(kind)
        if kind_status is None or kind_status.complete:
            continue
        if kind_status.outstanding:
            outstanding.append(
                _("%(label)s: %(missing)s of %(expected)s parts still to upload")
                % {"label": kind_status.label, "missing": len(kind_status.outstanding), "expected": kind_status.expected}
            )
        else:
            outstanding.append(_("%(label)s: still recording") % {"label": kind_status.label})
    return outstanding


# --- Recorded answers ---------------------------------------------------------------------------


def answer_recording_id(*, registration_id: int, position: int, take: int) -> str:
    """The evidence recording id of one take of one answer: the page uploads the take under
    it, and the server finds the take by it (never trusting a client-chosen link)."""
    return str(uuid.uuid5(ANSWER_NAMESPACE, f"{registration_id}:{position}:{take}"))


@dataclass(frozen=True)
class ReceivedTake:
    file_name: str
    sha256: str
    size: int
    completed_at: datetime


def answer_take_received(*, registration, position: int, take: int) -> ReceivedTake | None:
    """The take's upload if it has arrived whole (the evidence app checked its SHA-256
    against the one declared at creation)."""
    upload = (
        Upload.objects.filter(
            registration=registration, recording__kind=RecordingKind.ANSWER, status=Upload.Status.COMPLETE,
            recording__client_id=answer_recording_id(registration_id=registration.pk, position=position, take=take),
        )
        .order_by("-completed_at")
        .first()
    )
    if upload is None:
        return None
    return ReceivedTake(file_name=upload.file_name, sha256=upload.sha256, size=upload.length,
                        completed_at=upload.completed_at)
