"""Reads of the media plane, scoped to who asks."""

from django.db.models import Q

from invigilate.accounts.models import Role
from invigilate.exams.models import Registration

from .models import MediaPeer


def registration_watchable(*, user, registration_id: int, for_review: bool = False) -> Registration | None:
    """The registration if ``user`` may watch its media, else None.

    Live media: the invigilators of its room and the supervisors of its exam. Thumbnails
    kept for the review: also the exam's reviewers.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    registrations = Registration.objects.select_related("room", "exam", "candidate").filter(pk=registration_id)
    if user.is_exam_admin:
        return registrations.first()
    roles = [Role.SUPERVISOR, Role.REVIEWER] if for_review else [Role.SUPERVISOR]
    return registrations.filter(
        Q(room__invigilator_assignments__user=user)
        | Q(exam__staff_assignments__user=user, exam__staff_assignments__role__in=roles)
    ).distinct().first()


def media_peer_open(*, registration_id: int, source: str = MediaPeer.Source.PC) -> MediaPeer | None:
    """The connection currently carrying a device's media, with its worker."""
    return (
        MediaPeer.objects.select_related("worker")
        .filter(registration_id=registration_id, source=source)
        .exclude(status=MediaPeer.Status.ENDED)
        .order_by("-created_at")
        .first()
    )


def media_peers_open(*, registration_id: int) -> list[MediaPeer]:
    return [
        peer for peer in (
            media_peer_open(registration_id=registration_id, source=source) for source in MediaPeer.Source.values
        ) if peer is not None
    ]
