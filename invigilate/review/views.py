
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from invigilate.accounts.decorators import role_required
from invigilate.accounts.models import Role
from invigilate.exams.rules import exam_rules
from invigilate.exams.selectors import questions_with_answers
from invigilate.proctoring.models import Alert

from .files import evidence_file_resolve
from .models import Outcome, ViolationRule
from .providers import client_playlists, server_playlists, thumbnails_kept
from .ranges import ranged_file_response
from .selectors import (
    FILTERS,
    candidate_list_for_review,
    decision_get_for_reviewer,
    decisions_awaiting_second,
    decisions_for_registration,
    exam_get_for_reviewer,
    exam_list_for_reviewer,
    registration_get_for_reviewer,
)
from .services import ReviewError, decision_record, decision_second
from .timeline import IMAGE, timeline_for_registration, timeline_kinds

reviewer_required = role_required(Role.REVIEWER)


def _registration_or_403(request, registration_id: int):
    registration = registration_get_for_reviewer(user=request.user, registration_id=registration_id)
    if registration is None:
        raise PermissionDenied
    return registration


def _file_url(registration, link) -> str:
    return reverse("review:file", kwargs={"registration_id": registration.pk, "category": link.category,
                                          "key": link.key})


@require_GET
@reviewer_required
def home(request):
    exams = exam_list_for_reviewer(user=request.user)
    return render(request, "review/home.html", {"exams": exams})


@require_GET
@reviewer_required
def exam(request, exam_id: int):
    exam = exam_get_for_reviewer(user=request.user, exam_id=exam_id)
    if exam is None:
        raise PermissionDenied
    show = request.GET.get("show", "")
    room = request.GET.get("room", "")
    search = request.GET.get("q", "").strip()
    candidates = candidate_list_for_review(user=request.user, exam=exam, show=show if show in FILTERS else "",
                                           room_id=int(room) if room.isdigit() else None, search=search)
    context = {
        "exam": exam, "candidates": candidates, "show": show, "room": room, "search": search,
        "filters": _filter_labels(), "rooms": exam.rooms.all(),
        "awaiting_second": decisions_awaiting_second(user=request.user, exam=exam),
    }
    template = "review/_candidates.html" if request.htmx else "review/exam.html"
    return render(request, template, context)


def _filter_labels():
    from django.utils.translation import gettext_lazy as _

    return [
        ("", _("All candidates")), ("unresolved", _("Unresolved alerts")), ("flagged", _("Flagged by invigilators")),
        ("detector", _("Detector flags")), ("gaps", _("Recording gaps")), ("second_login", _("Second logins")),
        ("downtime", _("Downtime")), ("undecided", _("Not yet decided")), ("violation", _("Violations")),
    ]


@require_GET
@reviewer_required
def candidate(request, registration_id: int):
    registration = _registration_or_403(request, registration_id)
    known = timeline_kinds()
    chosen = [kind for kind in request.GET.getlist("kind") if kind in known]
    entries = timeline_for_registration(registration=registration, kinds=chosen or None)
    context = {
        "registration": registration, "entries": entries, "kinds": known, "chosen": chosen,
        "rows": [(entry, [(link, _file_url(registration, link)) for link in entry.evidence]) for entry in entries],
        "jumps": [entry for entry in entries if entry.severity in {"medium", "high"} and entry.kind != "system"],
    }
    if request.htmx:
        return render(request, "review/_timeline.html", context)
    playlists = []
    for source, lists in (("client", client_playlists(registration=registration)),
                          ("server", server_playlists(registration=registration))):
        for name, links in lists.items():
            playlists.append({
                "id": f"{source}-{name}", "label": links[0].label.rsplit(" #", 1)[0], "source": source,
                "segments": [{"url": _file_url(registration, link), "media": link.media,
                              "start": link.starts_at.timestamp() * 1000 if link.starts_at else None,
                              "duration": link.duration_seconds, "sha256": link.sha256} for link in links],
            })
    images = [(entry, link) for entry in entries for link in entry.evidence if link.media == IMAGE]
    thumbnails = thumbnails_kept(registration=registration, limit=48)
    decisions = decisions_for_registration(registration=registration)
    alerts = list(Alert.objects.filter(registration=registration).order_by("sequence"))
    context |= {
        "playlists": playlists,
        "images": [(entry, link, _file_url(registration, link)) for entry, link in images],
        "thumbnails": [(link, _file_url(registration, link)) for link in thumbnails],
        "answers": questions_with_answers(registration=registration),
        "decisions": decisions, "alerts": [(alert, decisions.by_alert.get(alert.pk)) for alert in alerts],
        "outcomes": Outcome.choices, "rules": ViolationRule.choices,
        "four_eyes": exam_rules(registration.exam).review_violation_needs_second_reviewer,
    }
    return render(request, "review/candidate.html", context)


@require_http_methods(["GET", "HEAD"])
@reviewer_required
def evidence_file(request, registration_id: int, category: str, key: str):
    """One evidence file, only to the exam's reviewers, with Range so players can seek."""
    registration = _registration_or_403(request, registration_id)
    stored = evidence_file_resolve(registration=registration, category=category, key=key)
    if stored is None:
        raise Http404
    return ranged_file_response(request, storage_name=stored.storage_name, content_type=stored.content_type,
                                download_name=stored.download_name)


@require_POST
@reviewer_required
def decide(request, registration_id: int):
    registration = _registration_or_403(request, registration_id)
    alert = None
    if request.POST.get("alert"):
        alert = Alert.objects.filter(registration=registration, pk=request.POST["alert"]).first()
        if alert is None:
            raise Http404
    replaces = request.POST.get("replaces", "")
    try:
        decision_record(
            user=request.user, registration=registration, alert=alert, outcome=request.POST.get("outcome", ""),
            rule=request.POST.get("rule", ""), reason=request.POST.get("reason", ""),
            replaces=int(replaces) if replaces.isdigit() else None,
        )
    except ReviewError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _decided_message())
    return redirect(reverse("review:candidate", args=[registration.pk]) + "#decision")


def _decided_message() -> str:
    from django.utils.translation import gettext

    return gettext("Decision recorded.")


@require_POST
@reviewer_required
def second(request, decision_id: int):
    decision = decision_get_for_reviewer(user=request.user, decision_id=decision_id)
    if decision is None:
        raise PermissionDenied
    try:
        decision_second(user=request.user, decision=decision, agree=request.POST.get("agree") == "yes",
                        note=request.POST.get("note", ""))
    except ReviewError as error:
        messages.error(request, str(error))
    return redirect(reverse("review:candidate", args=[decision.registration_id]) + "#decision")


@require_GET
@reviewer_required
def export(request, registration_id: int):
    from .export import candidate_export_write

    registration = _registration_or_403(request, registration_id)
    archive = candidate_export_write(user=request.user, registration=registration)
    return FileResponse(archive, as_attachment=True, content_type="application/zip",
                        filename=f"review-{registration.exam_id}-{registration.ticket_number}.zip")

