"""The supervisor's pages, and the staff-message and presence panels other dashboards include."""

from django.contrib import messages as flash
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from invigilate.accounts.decorators import role_required
from invigilate.accounts.models import Role
from invigilate.exams.models import Exam, ExamRoom, Registration
from invigilate.proctoring import selectors as proctoring_selectors

from . import fragments, selectors, services
from .models import Severity

STAFF = (Role.INVIGILATOR, Role.SUPERVISOR, Role.TECHNICIAN)


def _exam_or_404(request, exam_id) -> Exam:
    exam = selectors.exam_get_for_supervisor(user=request.user, exam_id=exam_id)
    if exam is None:
        raise Http404
    return exam


@role_required(Role.SUPERVISOR)
def home(request):
    exams = list(selectors.exam_list_for_supervisor(user=request.user))
    if len(exams) == 1:
        return redirect("supervision:overview", exams[0].pk)
    return render(request, "supervision/home.html", {"exams": exams})


@role_required(Role.SUPERVISOR)
@never_cache
def overview(request, exam_id):
    exam = _exam_or_404(request, exam_id)
    now = timezone.now()
    if request.htmx and request.GET.get("panel") == "rooms":
        return render(request, "supervision/_rooms.html", {
            "summaries": selectors.room_summaries_for_exam(exam=exam, now=now), "exam": exam})
    if request.htmx and request.GET.get("panel") == "escalations":
        return HttpResponse(fragments.escalations_html(selectors.escalations_for_exam(user=request.user, exam=exam), exam=exam))
    summaries = selectors.room_summaries_for_exam(exam=exam, now=now)
    return render(request, "supervision/overview.html", {
        "exam": exam,
        "summaries": summaries,
        "escalations": selectors.escalations_for_exam(user=request.user, exam=exam),
        "figures": selectors.exam_figures(exam=exam, now=now, unwatched=sum(summary.unwatched for summary in summaries)),
        "invigilators": selectors.invigilator_list_for_exam(exam=exam),
        "notes": selectors.audit_note_list_for_exam(user=request.user, exam=exam)[:20],
        "severities": Severity.choices,
    })


@role_required(Role.SUPERVISOR)
@never_cache
def invigilator(request, exam_id, user_id):
    exam = _exam_or_404(request, exam_id)
    person = selectors.invigilator_get_for_supervisor(user=request.user, exam=exam, invigilator_id=user_id)
    if person is None:
        raise Http404
    figures = selectors.invigilator_figures(invigilator=person, exam=exam)
    context = {
        "exam": exam, "figures": figures, "severities": Severity.choices,
        "sparkline": selectors.sparkline_points(figures.alerts.responses), "now": timezone.now(),
    }
    template = "supervision/_invigilator_figures.html" if request.htmx else "supervision/invigilator.html"
    return render(request, template, context)


@role_required(Role.SUPERVISOR)
@never_cache
def drop_in(request, room_id):
    """The room's wall as its invigilators see it, with a banner; the visit is on the record."""
    room = selectors.room_get_for_supervisor(user=request.user, room_id=room_id)
    if room is None:
        raise Http404
    services.room_drop_in(supervisor=request.user, room=room)
    context = {
        "room": room,
        "tiles": proctoring_selectors.tile_list_for_room(room=room),
        "alerts": proctoring_selectors.alert_feed_for_room(room=room),
        "can_act": True,
        "rendered_at": timezone.now().isoformat(),
        "drop_in": True,
        "figures": selectors.room_figures(room=room),
        "severities": Severity.choices,
    }
    return render(request, "supervision/drop_in.html", context)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@require_POST
@role_required(Role.SUPERVISOR)
def note_add(request, exam_id):
    exam = _exam_or_404(request, exam_id)
    room = subject_user = None
    if request.POST.get("room"):
        room = ExamRoom.objects.filter(pk=request.POST["room"], exam=exam).first()
    if request.POST.get("invigilator"):
        subject_user = selectors.invigilator_get_for_supervisor(
            user=request.user, exam=exam, invigilator_id=request.POST["invigilator"])
    try:
        services.audit_note_add(
            author=request.user, exam=exam, room=room, subject_user=subject_user,
            severity=request.POST.get("severity", ""), text=request.POST.get("text", ""),
        )
    except services.SupervisionError as error:
        flash.error(request, str(error))
    return redirect(_safe_next(request, reverse("supervision:overview", args=[exam.pk])))


# --- Staff messages and presence, included in the other dashboards ------------------------

def _messages_context(request, exam: Exam, room: ExamRoom | None) -> dict:
    rooms = []
    if room is None and request.user.role != Role.INVIGILATOR:
        rooms = list(ExamRoom.objects.filter(exam=exam).order_by("name"))
    return {
        "exam": exam, "room": room, "rooms": rooms,
        "staff_messages": selectors.staff_message_list_for_user(user=request.user, exam=exam, room=room),
    }


def _exam_and_room_for_messages(request, source) -> tuple[Exam, ExamRoom | None]:
    exam = Exam.objects.filter(pk=source.get("exam") or 0).first()
    room = None
    if source.get("room"):
        room = ExamRoom.objects.filter(pk=source["room"], exam=exam).first() if exam else None
        if room is None:
            raise Http404
    if exam is None or not selectors.staff_message_list_allowed(user=request.user, exam=exam, room=room):
        raise Http404
    return exam, room


@role_required(*STAFF)
@never_cache
def staff_messages(request):
    """GET: the panel of one exam's (or one room's) staff messages. POST: write one."""
    source = request.POST if request.method == "POST" else request.GET
    exam, room = _exam_and_room_for_messages(request, source)
    error = None
    if request.method == "POST":
        target_room = room
        if target_room is None and request.POST.get("to_room"):
            target_room = ExamRoom.objects.filter(pk=request.POST["to_room"], exam=exam).first()
        registration = None
        seat = (request.POST.get("seat") or "").strip()
        if seat:
            registration = Registration.objects.filter(room=target_room, seat=seat).first() if seat.isdigit() and target_room else None
            if registration is None:
                error = "seat"
        if error is None:
            try:
                services.staff_message_post(
                    author=request.user, exam=exam, room=target_room, registration=registration,
                    text=request.POST.get("text", ""),
                )
            except services.SupervisionError as refused:
                error = str(refused)
        if not request.htmx:
            if error:
                flash.error(request, error)
            return redirect(_safe_next(request, "/"))
    context = _messages_context(request, exam, room)
    context["error"] = error
    return render(request, "supervision/_staff_messages.html", context, status=400 if error else 200)


@role_required(Role.INVIGILATOR, Role.SUPERVISOR)
@never_cache
def room_staff(request, room_id):
    """For a room's dashboard: which supervisors are watching the room now, and its staff messages."""
    room = proctoring_selectors.room_get_for_viewer(user=request.user, room_id=room_id)
    if room is None:
        raise Http404
    context = _messages_context(request, room.exam, room)
    context["supervisors_present"] = selectors.supervisors_present_in_room(room=room)
    return render(request, "supervision/_room_staff.html", context)


@role_required(Role.TECHNICIAN)
@never_cache
def console_staff(request):
    """For the technician's console: the staff messages of each of their exams."""
    panels = [_messages_context(request, exam, None) for exam in selectors.staff_message_exams_for_user(user=request.user)]
    return render(request, "supervision/_console_staff.html", {"panels": panels})
