"""The invigilator's dashboard: pages and the fragments htmx and the websocket swap in."""

import json

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from invigilate.accounts.decorators import role_required
from invigilate.accounts.models import Role
from invigilate.supervision import services as supervision_services

from . import fragments, selectors, services
from .models import InvigilatorAction

WATCHERS = (Role.INVIGILATOR, Role.SUPERVISOR)


def _room_or_404(request, room_id):
    room = selectors.room_get_for_viewer(user=request.user, room_id=room_id)
    if room is None:
        raise Http404
    return room


@role_required(*WATCHERS)
def home(request):
    rooms = selectors.room_list_for_viewer(user=request.user)
    return render(request, "proctoring/home.html", {"rooms": rooms})


@role_required(*WATCHERS)
@never_cache
def room(request, room_id):
    room = _room_or_404(request, room_id)
    context = {
        "room": room,
        "tiles": selectors.tiles_for_room(room=room),
        "alerts": selectors.alert_feed_for_room(room=room),
        "can_act": True,
        # The page's catch-up cursor: the socket asks for every change from here on.
        "rendered_at": timezone.now().isoformat(),
    }
    return render(request, "proctoring/room.html", context)


@role_required(*WATCHERS)
@never_cache
def wall(request, room_id):
    room = _room_or_404(request, room_id)
    return render(request, "proctoring/_wall.html", {"room": room, "tiles": selectors.tiles_for_room(room=room)})


@role_required(*WATCHERS)
@never_cache
def feed(request, room_id):
    room = _room_or_404(request, room_id)
    return render(
        request, "proctoring/_feed.html", {"alerts": selectors.alert_feed_for_room(room=room), "can_act": True}
    )


@role_required(*WATCHERS)
@never_cache
def tile(request, room_id, registration_id):
    room = _room_or_404(request, room_id)
    registration = selectors.tile_get(room=room, registration_id=registration_id)
    if registration is None:
        raise Http404
    return HttpResponse(fragments.tile_html(registration))


def _alert_move(request, alert_id, move):
    alert = selectors.alert_get_for_viewer(user=request.user, alert_id=alert_id)
    if alert is None:
        raise Http404
    try:
        alert = move(alert)
    except services.AlertTransitionError as error:
        if not request.htmx:
            messages.error(request, str(error))
            return redirect("proctoring:room", alert.room_id)
        alert.refresh_from_db()
        response = HttpResponse(fragments.alert_html(alert, viewer=request.user), status=409)
        response["HX-Trigger"] = json.dumps({"alertError": str(error)})  # ASCII-escaped: safe in a header
        # htmx does not swap 4xx by default; the page's JS shows the error and swaps.
        return response
    if not request.htmx:
        return redirect("proctoring:room", alert.room_id)
    alert = selectors.alert_get_for_viewer(user=request.user, alert_id=alert.pk)
    return HttpResponse(fragments.alert_html(alert, viewer=request.user))


@require_POST
@role_required(*WATCHERS)
def alert_acknowledge(request, alert_id):
    return _alert_move(request, alert_id, lambda alert: services.alert_acknowledge(alert=alert, actor=request.user))


@require_POST
@role_required(*WATCHERS)
def alert_resolve(request, alert_id):
    return _alert_move(request, alert_id, lambda alert: services.alert_resolve(alert=alert, actor=request.user))


@require_POST
@role_required(*WATCHERS)
def alert_dismiss(request, alert_id):
    reason = request.POST.get("reason", "")
    return _alert_move(
        request, alert_id, lambda alert: services.alert_dismiss(alert=alert, actor=request.user, reason=reason)
    )


def _registration_or_404(request, registration_id):
    registration = selectors.registration_get_for_viewer(user=request.user, registration_id=registration_id)
    if registration is None:
        raise Http404
    return registration


@role_required(*WATCHERS)
@never_cache
def drawer(request, registration_id, *, error=None, status=200):
    registration = _registration_or_404(request, registration_id)
    supervision_services.candidate_view_record(viewer=request.user, registration=registration, kind="drawer")
    context = {
        "registration": registration,
        "timeline": selectors.timeline_for_registration(registration=registration),
        "error": error,
    }
    template = "proctoring/_drawer.html" if request.htmx else "proctoring/drawer_page.html"
    return render(request, template, context, status=status)


ACTIONS = {
    InvigilatorAction.Kind.WARNING: lambda registration, user, text: services.warning_issue(
        registration=registration, actor=user, message=text
    ),
    InvigilatorAction.Kind.NOTE: lambda registration, user, text: services.note_add(
        registration=registration, actor=user, text=text
    ),
    InvigilatorAction.Kind.FLAG: lambda registration, user, text: services.flag_add(
        registration=registration, actor=user, text=text
    ),
}


@require_POST
@role_required(*WATCHERS)
def action(request, registration_id):
    registration = _registration_or_404(request, registration_id)
    perform = ACTIONS.get(request.POST.get("kind"))
    if perform is None:
        return drawer(request, registration_id, error=_("Choose warn, note or flag."), status=400)
    try:
        perform(registration, request.user, request.POST.get("text", ""))
    except ValueError as error:
        return drawer(request, registration_id, error=str(error), status=400)
    if not request.htmx:
        return redirect("proctoring:drawer", registration_id)
    return drawer(request, registration_id)


@role_required(*WATCHERS)
def photo(request, registration_id):
    """The registered photo, only to staff who may watch this candidate's room."""
    registration = _registration_or_404(request, registration_id)
    picture = registration.candidate.photo
    if not picture:
        return HttpResponse(PLACEHOLDER_SVG, content_type="image/svg+xml")
    response = FileResponse(picture.open("rb"))
    response["Cache-Control"] = "private, max-age=300"
    return response


PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 60 72"><rect width="60" height="72" fill="#d9dee5"/>'
    '<circle cx="30" cy="28" r="12" fill="#a3adba"/><rect x="12" y="46" width="36" height="22" rx="10" fill="#a3adba"/></svg>'
)
