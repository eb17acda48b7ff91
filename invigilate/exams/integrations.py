"""The journey's seams to features built by other apps, each optional until that app lands.

- face matching (media app): ``invigilate.media.faces.face_match``; without it every
  identity attempt goes to the invigilator.
- phone pairing and evidence uploads (evidence app): ``evidence_status_for_registration``;
  without it nothing is expected from the phone.
Each function here is the only place the journey touches that app, so wiring one in is a
change to one function.
"""

import logging
from importlib import import_module

from django.urls import NoReverseMatch, reverse

logger = logging.getLogger(__name__)


def _optional(module: str, name: str):
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


def face_score(*, registration, frame: bytes) -> float | None:
    """Similarity of the live frame to the registered photo in [0, 1], or None without a face model."""
    face_match = _optional("invigilate.media.faces", "face_match")
    photo = registration.candidate.photo
    if face_match is None or not photo:
        return None
    with photo.open("rb") as handle:
        registered = handle.read()
    result = face_match(registered_photo=registered, frame=frame)
    if result is None:
        return None
    score = getattr(result, "score", result)
    return None if score is None else float(score)


def _evidence_status(registration):
    selector = _optional("invigilate.evidence.selectors", "evidence_status_for_registration")
    return None if selector is None else selector(registration=registration)


def pairing_panel_url() -> str | None:
    try:
        return reverse("evidence:pairing_panel")
    except NoReverseMatch:
        return None


def phone_ready(*, registration) -> bool:
    """The phone has reported in (True when no phone app is installed: nothing to wait for)."""
    if pairing_panel_url() is None:
        return True
    status = _evidence_status(registration)
    return bool(getattr(status, "phone_paired", True)) if status is not None else True


def evidence_outstanding(*, registration) -> list[str]:
    """Descriptions of evidence the server expects but does not hold yet (empty without the evidence app)."""
    status = _evidence_status(registration)
    if status is None:
        return []
    outstanding = getattr(status, "outstanding", None)
    if outstanding is None:
        return []
    return [str(item) for item in outstanding]
