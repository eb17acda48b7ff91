import json

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from invigilate.accounts.decorators import candidate_required, role_required
from invigilate.accounts.models import Role
from invigilate.exams.models import ExamRoom
from invigilate.supervision import services as supervision_services

from .consumers import _may_watch_room
from .ice import ice_servers_for_browser
from .selectors import registration_watchable
from .thumbnails import THUMBNAIL_TRACKS, thumbnail_path

WATCHING_ROLES = (Role.INVIGILATOR, Role.SUPERVISOR)


@require_GET
@role_required(*WATCHING_ROLES)
def focus(request, registration_id: int):
    """One candidate's live camera, screen and sound (and phone), over WebRTC from its worker."""
    registration = registration_watchable(user=request.user, registration_id=registration_id)
    if registration is None:
        raise PermissionDenied
    supervision_services.candidate_view_record(viewer=request.user, registration=registration, kind="focus")
    return render(request, "media/focus.html", {
        "registration": registration, "ice_servers_json": json.dumps(ice_servers_for_browser(registration_id=None)),
    })


@require_GET
@role_required(*WATCHING_ROLES)
def room_thumbnails(request, room_id: int):
    room = get_object_or_404(ExamRoom.objects.select_related("exam"), pk=room_id)
    if not _may_watch_room(user=request.user, room_id=room_id):
        raise PermissionDenied
    registrations = room.registrations.select_related("candidate").order_by("seat")
    return render(request, "media/room_thumbnails.html", {"room": room, "registrations": registrations})


@require_GET
@role_required(Role.INVIGILATOR, Role.SUPERVISOR, Role.REVIEWER)
def thumbnail(request, registration_id: int, track: str, taken_ms: int):
    """A stored thumbnail JPEG, only for staff who may watch (or review) that candidate."""
    if track not in THUMBNAIL_TRACKS:
        raise Http404
    if registration_watchable(user=request.user, registration_id=registration_id, for_review=True) is None:
        raise PermissionDenied
    path = thumbnail_path(registration_id=registration_id, track=track, taken_ms=taken_ms)
    if not default_storage.exists(path):
        raise Http404
    response = FileResponse(default_storage.open(path, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
@candidate_required
def ice_servers(request):
    """STUN/TURN for the candidate's page, with TURN credentials minted for this candidate."""
    registration_id = request.candidate_session.registration_id
    return JsonResponse({"iceServers": ice_servers_for_browser(registration_id=registration_id)})


@require_GET
@candidate_required
def media_check(request):
    """The candidate's camera and screen check: starts sending and shows what is sent."""
    return render(request, "media/media_check.html", {
        "ice_servers_json": json.dumps(ice_servers_for_browser(registration_id=request.candidate_session.registration_id)),
    })
