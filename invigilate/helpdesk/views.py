import json
from datetime import timedelta

from django.contrib import messages
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from invigilate.accounts.decorators import role_required
from invigilate.accounts.models import Role, User
from invigilate.accounts.views import client_address
from invigilate.exams.rules import exam_rules
from invigilate.proctoring.selectors import tile_get

from . import selectors, services
from .models import CallAttempt, HelpMessage, HelpRequest, HelpStatus, ResolutionCategory

ANONYMOUS_REQUEST_KEY = "help_request_id"
# Asking by ticket number needs no sign-in, so it is throttled per address.
ANONYMOUS_SUBMISSIONS_PER_ADDRESS = 20
ANONYMOUS_WINDOW_SECONDS = 600

# Shown on the candidate's screen with one click; the technician may also type a message.
CANNED_MESSAGES = [
    gettext_lazy("Please answer your phone: we are calling you now."),
    gettext_lazy("We could not reach you. Please check the phone number and press Help again."),
    gettext_lazy("Please reload the page and sign in again."),
    gettext_lazy("Please close other programs that may use the camera or microphone, then reload the page."),
    gettext_lazy("Please check your network connection; do not use a phone hotspot."),
    gettext_lazy("Please put your phone back in its recording position now."),
    gettext_lazy("Your problem is recorded. Please continue your exam."),
]


# --- The candidate's side --------------------------------------------------------------------


def signed_in_registration(request):
    """The registration this browser speaks for: the PC's sign-in, or a phone paired to it."""
    if request.candidate_session:
        return request.candidate_session.registration
    from invigilate.evidence.selectors import phone_for_session

    phone = phone_for_session(session=request.session, session_key=request.session.session_key)
    return phone.registration if phone else None


def candidate_help_request(request) -> HelpRequest | None:
    """The help request this browser may follow: its registration's, or the one it asked for by ticket."""
    registration = signed_in_registration(request)
    if registration:
        return selectors.help_request_current_for_registration(registration_id=registration.pk)
    request_id = request.session.get(ANONYMOUS_REQUEST_KEY)
    if not request_id:
        return None
    help_request = selectors.help_request_latest_of_chain(request_id=request_id)
    if help_request is None or (not help_request.is_open and help_request.closed_at
                                and timezone.now() - help_request.closed_at > selectors.RECENTLY_CLOSED):
        return None
    return help_request


def candidate_status_context(help_request: HelpRequest | None) -> dict:
    if help_request is None:
        return {"help": None}
    return {
        "help": help_request,
        "position": selectors.help_request_queue_position(request=help_request),
        "published_number": services.help_published_number(help_request),
        "to_candidate": [m for m in help_request.messages.all() if m.kind == HelpMessage.Kind.TO_CANDIDATE],
        "passed_to_invigilator": help_request.status == HelpStatus.TRANSFERRED,
    }


def _render_status(request, help_request, *, status: int = 200, error: str | None = None):
    context = candidate_status_context(help_request)
    context["help_error"] = error
    return render(request, "helpdesk/candidate_status.html", context, status=status)


def _back(request):
    target = request.POST.get("next") or request.headers.get("Referer") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


def _wants_fragment(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch" or bool(request.htmx)


@require_POST
def help_submit(request):
    registration = signed_in_registration(request)
    if registration:
        identity_verified = True
    else:
        key = f"help-anon:{client_address(request)}"
        count = cache.get_or_set(key, 0, ANONYMOUS_WINDOW_SECONDS)
        if count >= ANONYMOUS_SUBMISSIONS_PER_ADDRESS:
            return _refuse(request, _("Too many help requests from this network; please call the support hotline."), 429)
        cache.incr(key)
        registration = selectors.help_registration_for_ticket(ticket_number=request.POST.get("ticket_number", ""))
        if registration is None:
            return _refuse(request, _("No exam with this admission ticket number is open for help now."), 400)
        identity_verified = False
    try:
        diagnostics = _json_or_empty(request.POST.get("diagnostics", ""))
        help_request, _created = services.help_request_submit(
            registration=registration, category=request.POST.get("category", ""),
            description=request.POST.get("description", ""), phone=request.POST.get("phone", ""),
            diagnostics={**diagnostics, "address": client_address(request),
                         "user_agent": request.headers.get("User-Agent", "")[:300]},
            identity_verified=identity_verified,
        )
    except services.HelpdeskError as error:
        return _refuse(request, str(error), 400)
    if not identity_verified:
        request.session[ANONYMOUS_REQUEST_KEY] = help_request.pk
    if _wants_fragment(request):
        return _render_status(request, help_request)
    messages.success(request, _("Your help request was sent."))
    return _back(request)


def _refuse(request, message: str, status: int):
    if _wants_fragment(request):
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    messages.error(request, message)
    return _back(request)


def _json_or_empty(text: str) -> dict:
    try:
        value = json.loads(text[: services.DIAGNOSTICS_MAX_CHARS * 2]) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@require_GET
def help_status(request):
    return _render_status(request, candidate_help_request(request))


@require_POST
def help_cancel(request):
    help_request = candidate_help_request(request)
    if help_request is not None and help_request.is_open:
        try:
            help_request = services.help_request_cancel_by_candidate(request=help_request)
        except services.HelpdeskError as error:
            return _refuse(request, str(error), 409)
    if _wants_fragment(request):
        return _render_status(request, help_request)
    return _back(request)


# --- The technician's console ----------------------------------------------------------------

technician_required = role_required(Role.TECHNICIAN)


def _console_context(user: User) -> dict:
    return {
        "waiting": selectors.help_request_list_waiting(user=user),
        "mine": selectors.help_request_list_mine(user=user),
        "counters": selectors.technician_counters(user=user),
        "technicians": selectors.technician_list_for_exams(exam_ids=selectors.exam_ids_for_technician(user=user)),
        "server_now": timezone.now(),
    }


PANELS = {
    "queue": "helpdesk/console_queue.html",
    "mine": "helpdesk/console_mine.html",
    "counters": "helpdesk/console_counters.html",
}


@technician_required
def console(request):
    panel = request.GET.get("panel")
    if panel in PANELS:
        return render(request, PANELS[panel], _console_context(request.user))
    return render(request, "helpdesk/console.html", _console_context(request.user))


def _request_context(user: User, help_request: HelpRequest) -> dict:
    registration = help_request.registration
    offer_deadline = None
    if help_request.status == HelpStatus.OFFERED and help_request.offered_at:
        offer_deadline = help_request.offered_at + timedelta(
            seconds=exam_rules(help_request.exam).help_claim_timeout_seconds
        )
    return {
        "help": help_request,
        "registration": registration,
        "candidate": registration.candidate,
        "invigilators": selectors.invigilator_list_for_request(request=help_request),
        "is_mine": help_request.technician_id == user.pk,
        "holding": help_request.technician_id == user.pk and help_request.status in (HelpStatus.CLAIMED, HelpStatus.CALLING),
        "published_number": services.help_published_number(help_request),
        "phone_differs": help_request.phone.replace(" ", "") != registration.candidate.phone.replace(" ", ""),
        "calls": help_request.calls.select_related("technician"),
        "thread": help_request.messages.select_related("author"),
        "history": HelpRequest.objects.filter(registration=registration).exclude(pk=help_request.pk).order_by("-created_at")[:10],
        "diagnostics": sorted((help_request.diagnostics or {}).items()),
        "offer_deadline": offer_deadline,
        "canned_messages": CANNED_MESSAGES,
        "outcomes": CallAttempt.Outcome.choices,
        "resolutions": ResolutionCategory.choices,
        "transfer_technicians": selectors.technician_list_for_exams(exam_ids=[help_request.exam_id]).exclude(pk=user.pk),
        "server_now": timezone.now(),
        # The candidate's live state exactly as the invigilators' wall shows it.
        "tile": tile_get(room=registration.room, registration_id=registration.pk),
    }


@technician_required
def request_detail(request, pk: int):
    help_request = selectors.help_request_get_for_technician(user=request.user, request_id=pk)
    template = "helpdesk/request_detail.html" if request.GET.get("panel") == "detail" else "helpdesk/request.html"
    return render(request, template, _request_context(request.user, help_request))


ACTIONS = {
    "claim": lambda r, u, p: services.help_request_claim(request=r, technician=u),
    "decline": lambda r, u, p: services.help_request_decline(request=r, technician=u),
    "call": lambda r, u, p: services.help_request_call_start(request=r, technician=u),
    "call-log": lambda r, u, p: services.help_request_call_log(request=r, technician=u, outcome=p.get("outcome", ""),
                                                               note=p.get("note", "")),
    "resolve": lambda r, u, p: services.help_request_resolve(request=r, technician=u,
                                                             resolution_category=p.get("resolution_category", ""),
                                                             note=p.get("note", "")),
    "unreachable": lambda r, u, p: services.help_request_mark_unreachable(request=r, technician=u, note=p.get("note", "")),
    "message": lambda r, u, p: services.help_request_message_send(request=r, technician=u, text=p.get("text", "")),
    "note": lambda r, u, p: services.help_request_note_add(request=r, technician=u, text=p.get("text", "")),
}


@require_POST
@technician_required
def request_action(request, pk: int, action: str):
    help_request = selectors.help_request_get_for_technician(user=request.user, request_id=pk)
    try:
        if action == "transfer":
            to_user = get_object_or_404(User, pk=request.POST.get("to_user") or 0)
            successor = services.help_request_transfer(request=help_request, technician=request.user, to_user=to_user,
                                                       note=request.POST.get("note", ""))
            messages.success(request, _("Transferred to %(name)s.") % {"name": to_user.get_full_name() or to_user.username})
            if successor is None:
                return redirect("helpdesk:home")
            return redirect("helpdesk:request", pk=help_request.pk)
        if action not in ACTIONS:
            raise Http404
        ACTIONS[action](help_request, request.user, request.POST)
    except services.HelpdeskError as error:
        messages.error(request, str(error))
        if action == "claim":
            return redirect("helpdesk:home")
    if action == "decline":
        return redirect("helpdesk:home")
    return redirect("helpdesk:request", pk=help_request.pk)


@require_POST
@technician_required
def pull_oldest(request):
    help_request = services.help_request_pull_oldest(
        technician=request.user, exam_ids=selectors.exam_ids_for_technician(user=request.user)
    )
    if help_request is None:
        messages.info(request, _("Nobody is waiting."))
        return redirect("helpdesk:home")
    return redirect("helpdesk:request", pk=help_request.pk)


@require_POST
@technician_required
def presence_choose(request):
    services.technician_presence_choose(user=request.user, away=request.POST.get("status") == "away")
    return redirect(reverse("helpdesk:home"))


@require_GET
@technician_required
def candidate_photo(request, pk: int):
    """A candidate's registered photo, for technicians of requests they may see."""
    help_request = selectors.help_request_get_for_technician(user=request.user, request_id=pk)
    photo = help_request.registration.candidate.photo
    if not photo:
        raise Http404
    response = FileResponse(photo.open("rb"))
    response["Cache-Control"] = "private, max-age=300"
    return response

