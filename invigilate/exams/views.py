import json
import secrets
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from invigilate.accounts.decorators import candidate_required, role_required
from invigilate.accounts.models import Role
from invigilate.accounts.selectors import exam_list_for_staff
from invigilate.audit.services import deadlock_retry

from . import integrations, selectors, services
from .models import IdentityAttempt, JourneyProgress, PaperSnapshot, Question, Registration, Submission
from .rules import exam_rules
from .services import JourneyError

Stage = Registration.Stage
MAX_PICTURE_BYTES = 2 * 1024 * 1024
BANDWIDTH_SESSION_KEY = "journey_bandwidth"
STEPS = [
    (Stage.DEVICE_CHECK, "exams/journey/device_check.html"),
    (Stage.IDENTITY_CHECK, "exams/journey/identity.html"),
    (Stage.PHONE_PAIRING, "exams/journey/pairing.html"),
    (Stage.PAPER_CHECK, "exams/journey/paper.html"),
    (Stage.WAITING, "exams/journey/waiting.html"),
    (Stage.IN_EXAM, "exams/journey/exam.html"),
    (Stage.SUBMITTED, "exams/journey/submitted.html"),
    (Stage.COMPLETE, "exams/journey/submitted.html"),
]
TEMPLATE_FOR_STAGE = dict(STEPS)
# Pages that run journey-media.js (live media from the waiting room on; recordings in the exam).
MEDIA_STAGES = {Stage.WAITING: "waiting", Stage.IN_EXAM: "in_exam", Stage.SUBMITTED: "submitted",
                Stage.COMPLETE: "submitted"}


def _refusal(error: JourneyError, status: int = 409) -> JsonResponse:
    return JsonResponse({"error": error.code, "message": error.message}, status=status)


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise JourneyError("malformed request", code="bad_request")
    return body


def _registration(request) -> Registration:
    return request.candidate_session.registration


def _clock_context(registration: Registration) -> dict:
    exam = registration.exam
    return {
        "server_now": timezone.now().isoformat(),
        "starts_at": exam.starts_at.isoformat(),
        "ends_at": exam.ends_at.isoformat(),
    }


# --- The candidate's pages ----------------------------------------------------------------------


@candidate_required
def journey(request):
    """The journey's entry: the server's state decides which step the candidate sees."""
    registration = _registration(request)
    try:
        # Opening the exam appends to its audit chain while the candidate's own signals (the
        # reload hides the page) may be appending too: on PostgreSQL the two can deadlock.
        # A rolled-back attempt may have moved the object's stage without the row's: a repeat
        # starts again from the row.
        deadlock_retry(
            lambda: services.journey_enter(registration=registration, session=request.candidate_session),
            again=registration.refresh_from_db,
        )
    except JourneyError as error:
        return render(request, "exams/journey/refused.html", {"registration": registration, "error": error}, status=409)
    return _journey_page(request, registration)


def _journey_page(request, registration: Registration, *, status: int = 200, **extra):
    exam = registration.exam
    rules = exam_rules(exam)
    context = {
        "registration": registration,
        "exam": exam,
        "rules": rules,
        "steps": [(stage, Stage(stage).label) for stage, _template in STEPS[:-1]],
        "clock": _clock_context(registration),
        "stage": registration.stage,
    }
    stage = registration.stage
    if stage == Stage.IDENTITY_CHECK:
        context["identity"] = _identity_context(registration)
    elif stage == Stage.PHONE_PAIRING:
        context["pairing_url"] = integrations.pairing_panel_url()
    elif stage == Stage.PAPER_CHECK:
        context["paper_sides"] = set(
            PaperSnapshot.objects.filter(registration=registration).values_list("side", flat=True)
        )
    elif stage == Stage.IN_EXAM:
        context.update(_exam_context(registration, rules))
    elif stage in (Stage.SUBMITTED, Stage.COMPLETE):
        context.update(_submitted_context(registration))
    if stage in MEDIA_STAGES:
        context["journey_media"] = _journey_media(registration, rules)
    context.update(extra)
    return render(request, TEMPLATE_FOR_STAGE[stage], context, status=status)


def _journey_media(registration: Registration, rules) -> dict:
    """What journey-media.js needs: which page it is on, and the whole-exam recorder's setup."""
    return {
        "stage": MEDIA_STAGES[registration.stage],
        "evidence": {
            "registration": registration.pk, "tusEndpoint": reverse("evidence:tus"),
            "reportUrl": reverse("evidence:recording_report"), "interruptionUrl": reverse("evidence:interruption"),
            "statusUrl": reverse("evidence:status"), "segmentSeconds": rules.evidence_segment_seconds,
            "videoKbps": rules.evidence_video_kbps,
        },
    }


def _identity_context(registration: Registration) -> dict:
    attempts = list(registration.identity_attempts.all())
    outcomes = {attempt.outcome for attempt in attempts}
    return {
        "attempts": attempts,
        "awaiting_review": IdentityAttempt.Outcome.AWAITING_REVIEW in outcomes,
        "rejected": IdentityAttempt.Outcome.REJECTED in outcomes,
        "failures": sum(attempt.outcome == IdentityAttempt.Outcome.NOT_MATCHED for attempt in attempts),
    }


def _exam_context(registration: Registration, rules) -> dict:
    progress = JourneyProgress.objects.get(registration=registration)
    pairs = selectors.questions_with_answers(registration=registration)
    question, answer = pairs[progress.question_position - 1] if pairs else (None, None)
    state = {
        "registration": registration.pk,
        "client_id": secrets.token_hex(8),
        "position": progress.question_position,
        "last_position": len(pairs),
        "opened_at": progress.question_opened_at.isoformat(),
        "mode": question.mode if question else None,
        "preparation_seconds": question.preparation_seconds if question else 0,
        "answer_seconds": question.answer_seconds if question else 0,
        "max_takes": 1 + rules.rerecord_allowed,
        "revision": answer.revision if answer else 0,
        "take": answer.take if answer else 0,
        "recording_held": bool(answer and answer.recording_verified),
        "early_submission": registration.exam.early_submission_allowed,
        "urls": {
            "answer": reverse("exams:answer_write", args=[0]),
            "recording": reverse("exams:answer_recording", args=[0]),
            "tus": reverse("evidence:tus"),
            "advance": reverse("exams:question_advance"),
            "submit": reverse("exams:submit"),
            "journey": reverse("exams:journey"),
        },
    }
    return {"question": question, "answer": answer, "progress": progress, "exam_state": state}


def _submitted_context(registration: Registration) -> dict:
    return {
        "submission": Submission.objects.filter(registration=registration).first(),
        "outstanding": services.submission_outstanding(registration=registration),
        "pairs": selectors.questions_with_answers(registration=registration),
        "incident_open": timezone.now() < registration.exam.incident_window_closes_at,
        "reports": registration.incident_reports.order_by("filed_at"),
        "upload_urls_json": json.dumps({
            "answer": reverse("exams:answer_write", args=[0]),
            "recording": reverse("exams:answer_recording", args=[0]),
            "tus": reverse("evidence:tus"),
        }),
    }


@candidate_required
@require_GET
def journey_state(request):
    """The server's view of the journey, for a page that wonders whether it is still current."""
    registration = _registration(request)
    return JsonResponse({"stage": registration.stage, **_clock_context(registration)})


@candidate_required
def bandwidth(request):
    """Upload bandwidth measured by the server: GET starts the clock, POST of N bytes stops it.

    Daphne hands the view the request only once the whole body has arrived, so the server's
    elapsed time covers the upload (plus one round trip, which errs on the safe side).
    """
    if request.method == "GET":
        request.session[BANDWIDTH_SESSION_KEY] = {"started": time.monotonic(), "pid": _process_id()}
        return JsonResponse({"bytes": 2 * 1024 * 1024})
    if request.method != "POST":
        return HttpResponseBadRequest()
    started = request.session.get(BANDWIDTH_SESSION_KEY) or {}
    received = len(request.body)
    # A monotonic clock is only comparable inside one server process.
    if started.get("pid") != _process_id() or received < 256 * 1024:
        return JsonResponse({"error": "restart", "message": "measure again"}, status=409)
    elapsed = max(time.monotonic() - started["started"], 1e-3)
    mbps = received * 8 / elapsed / 1e6
    request.session[BANDWIDTH_SESSION_KEY] = {"mbps": mbps}
    return JsonResponse({"mbps": round(mbps, 2), "needed": exam_rules(_registration(request).exam).min_upload_mbps})


def _process_id() -> str:
    import os

    return f"{os.getpid()}"


@candidate_required
@require_POST
def device_check(request):
    registration = _registration(request)
    try:
        body = _json_body(request)
        measured = (request.session.get(BANDWIDTH_SESSION_KEY) or {}).get("mbps")
        check = services.device_check_record(
            registration=registration, results=body.get("results") or {}, bandwidth_mbps=measured,
            user_agent=request.headers.get("User-Agent", ""),
        )
    except JourneyError as error:
        return _refusal(error)
    return JsonResponse({"passed": check.passed, "results": check.results, "stage": registration.stage})


def _picture(request) -> bytes:
    data = request.body
    if len(data) > MAX_PICTURE_BYTES:
        raise JourneyError("picture too large", code="too_large")
    return data


@candidate_required
@require_POST
def identity_attempt(request):
    registration = _registration(request)
    try:
        attempt = services.identity_attempt_record(registration=registration, photo=_picture(request))
    except JourneyError as error:
        return _refusal(error)
    return JsonResponse({"outcome": attempt.outcome, "score": attempt.score, "stage": registration.stage})


@candidate_required
@require_GET
def identity_status(request):
    registration = _registration(request)
    if registration.stage != Stage.IDENTITY_CHECK:
        response = render(request, "exams/journey/identity_status.html", {"moved": True})
        response["HX-Redirect"] = reverse("exams:journey")
        return response
    context = {"identity": _identity_context(registration), "rules": exam_rules(registration.exam)}
    return render(request, "exams/journey/identity_status.html", context)


@candidate_required
@require_POST
def pairing_done(request):
    registration = _registration(request)
    try:
        services.phone_pairing_finish(registration=registration)
    except JourneyError as error:
        if registration.stage != Stage.PHONE_PAIRING:
            return redirect("exams:journey")
        return _journey_page(request, registration, status=409, pairing_error=error)
    return redirect("exams:journey")


@candidate_required
@require_POST
def paper_snapshot(request, side: str):
    try:
        services.paper_snapshot_store(registration=_registration(request), side=side, image=_picture(request))
    except JourneyError as error:
        return _refusal(error)
    return JsonResponse({"side": side, "kept": True})


@candidate_required
@require_POST
def paper_done(request):
    try:
        services.paper_check_finish(registration=_registration(request))
    except JourneyError as error:
        return _refusal(error)
    return redirect("exams:journey")


@candidate_required
@require_POST
def answer_write(request, position: int):
    registration = _registration(request)
    try:
        body = _json_body(request)
        result = services.answer_write(
            registration=registration,
            position=position,
            client_id=str(body.get("client_id", "")),
            revision=int(body.get("revision", 0)),
            text=body.get("text") if isinstance(body.get("text"), str) else None,
            take=_optional_int(body.get("take")),
            recording_sha256=body.get("sha256") if isinstance(body.get("sha256"), str) else None,
            recording_size=_optional_int(body.get("size")),
            recording_duration_ms=_optional_int(body.get("duration_ms")),
        )
    except JourneyError as error:
        return _refusal(error)
    except (TypeError, ValueError):
        return JsonResponse({"error": "bad_request", "message": "malformed answer"}, status=400)
    answer = result.answer
    reply = {"applied": result.applied, "revision": answer.revision, "take": answer.take,
             "recording_held": answer.recording_verified}
    if answer.take:
        # The id the take's tus upload carries, so the server finds it by (question, take).
        reply["upload_recording"] = integrations.answer_recording_id(
            registration_id=registration.pk, position=position, take=answer.take)
    return JsonResponse(reply)


def _optional_int(value) -> int | None:
    return None if value in (None, "") else int(value)


@candidate_required
@require_POST
def answer_recording(request, position: int):
    """The page's word that a take's tus upload finished: the server checks and keeps it."""
    registration = _registration(request)
    try:
        body = _json_body(request)
        answer = services.answer_recording_confirm(registration=registration, position=position,
                                                   take=int(body.get("take", 0)))
    except JourneyError as error:
        return _refusal(error, status=422 if error.code == "checksum_mismatch" else 409)
    except (TypeError, ValueError):
        return HttpResponseBadRequest()
    return JsonResponse({"held": answer.recording_verified, "sha256": answer.recording_sha256})


@candidate_required
@require_POST
def question_advance(request):
    registration = _registration(request)
    try:
        body = _json_body(request)
        progress = services.question_advance(registration=registration, from_position=int(body.get("from_position", 0)))
    except JourneyError as error:
        return _refusal(error)
    except (TypeError, ValueError):
        return HttpResponseBadRequest()
    return JsonResponse({"position": progress.question_position})


@candidate_required
@require_POST
def submit(request):
    registration = _registration(request)
    # At or after the end the page's own submission is the forced one, arriving first.
    how = Submission.How.FORCED if timezone.now() >= registration.exam.ends_at else Submission.How.CANDIDATE
    try:
        services.submission_submit(registration=registration, how=how)
    except JourneyError as error:
        return _refusal(error)
    return JsonResponse({"stage": registration.stage})


@candidate_required
@require_GET
def submission_status(request):
    """The fragment the page polls after submitting: what the server holds, what it still expects."""
    registration = _registration(request)
    if registration.stage == Stage.SUBMITTED:
        services.submission_completion_check(registration=registration)
    context = {"registration": registration, **_submitted_context(registration)}
    return render(request, "exams/journey/submission_status.html", context)


@candidate_required
@require_POST
def incident_report(request):
    registration = _registration(request)
    error = None
    try:
        services.incident_report_file(registration=registration, text=request.POST.get("text", ""))
    except JourneyError as refusal:
        error = refusal
    context = {"registration": registration, **_submitted_context(registration), "incident_error": error}
    return render(request, "exams/journey/incident.html", context, status=409 if error else 200)


# --- Staff ---------------------------------------------------------------------------------------


@role_required(Role.INVIGILATOR)
def identity_review(request):
    """Identity attempts awaiting a decision in the user's rooms (a page, and its polled fragment)."""
    attempts = selectors.identity_attempts_awaiting_review(user=request.user)
    if request.htmx:
        return render(request, "exams/staff/identity_review_list.html", {"attempts": attempts})
    # The page follows the rooms' sockets (the proctoring dashboard's), so it updates the moment
    # an attempt is sent for review or decided by someone else.
    rooms = list(selectors.rooms_invigilated_by(user=request.user).values_list("pk", flat=True))
    return render(request, "exams/staff/identity_review.html", {"attempts": attempts, "room_ids": rooms})


@role_required(Role.INVIGILATOR)
@require_POST
def identity_decide(request, attempt_id: int):
    attempt = selectors.identity_attempt_for_reviewer(user=request.user, attempt_id=attempt_id)
    if attempt is None:
        raise Http404
    services.identity_attempt_decide(
        attempt=attempt, user=request.user, approve=request.POST.get("decision") == "approve",
        reason=request.POST.get("reason", ""),
    )
    if request.htmx:
        return identity_review(request)
    return redirect("exams:identity_review")


@role_required(Role.INVIGILATOR, Role.SUPERVISOR, Role.REVIEWER, Role.TECHNICIAN)
def identity_photo(request, attempt_id: int):
    attempt = selectors.identity_attempt_for_staff(user=request.user, attempt_id=attempt_id)
    if attempt is None:
        raise Http404
    return FileResponse(attempt.photo.open("rb"), content_type="image/jpeg")


@role_required(Role.INVIGILATOR, Role.SUPERVISOR, Role.REVIEWER, Role.TECHNICIAN)
def registered_photo(request, registration_id: int):
    registration = selectors.registration_for_staff(user=request.user, registration_id=registration_id)
    if registration is None or not registration.candidate.photo:
        raise Http404
    return FileResponse(registration.candidate.photo.open("rb"), content_type="image/jpeg")


@role_required(Role.INVIGILATOR, Role.SUPERVISOR, Role.REVIEWER, Role.TECHNICIAN)
def readiness(request, exam_id: int):
    """Every visible candidate's step, device check, identity, rejoins and mock status."""
    exam = get_object_or_404(exam_list_for_staff(user=request.user), pk=exam_id)
    if request.user.role == Role.INVIGILATOR and not request.user.is_exam_admin:
        if not exam.rooms.filter(invigilator_assignments__user=request.user).exists():
            raise PermissionDenied
    context = {
        "exam": exam,
        "registrations": selectors.readiness_list_for_staff(user=request.user, exam=exam),
        "mock_missing": selectors.mock_missing_count(exam=exam) if request.user.is_exam_admin
        or request.user.role != Role.INVIGILATOR else None,
        "question_count": Question.objects.filter(exam=exam).count(),
        "session_live_seconds": settings.CANDIDATE_SESSION_LIVE_SECONDS,
    }
    return render(request, "exams/staff/readiness.html", context)
