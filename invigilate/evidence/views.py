"""Pages and small JSON endpoints of the evidence app (uploads themselves are in ``tus.py``)."""

import json
from datetime import UTC, datetime
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_noop as _
from django.views.decorators.http import require_GET, require_POST

from invigilate.accounts.decorators import candidate_required
from invigilate.exams.models import Registration
from invigilate.exams.rules import exam_rules
from invigilate.media.ice import ice_servers_for_browser

from . import selectors, services
from .models import PlacementRequest, Source
from .services import PairingRefused, PlacementError, Uploader

PHONE_KINDS = ("sweep", "phone")
# Strings the phone's script shows, translated here and handed to it with its config.
PHONE_SCRIPT_STRINGS = [
    _("All evidence uploaded. The server has every recording. You may close this page."),
    _("Allow this page to use the camera and the microphone, then reload it."),
    _("Exam recording"),
    _("Missing"),
    _("Not all uploaded yet; retrying automatically."),
    _("Not allowed or not found"),
    _("OK"),
    _("Room sweep"),
    _("Segments uploaded"),
    _("Set the screen to stay on in the phone's settings"),
    _("Unknown"),
    _("Unknown: keep the phone plugged in"),
    _("Uploading… keep this page open."),
    _("plug the phone in"),
    _("waiting"),
    _("Done: the phone is moved"),
    _("The invigilator asks you to move the phone"),
    _("Live view to the invigilator"),
    _("connected"),
    _("connecting"),
    _("reconnecting"),
    _("stopped"),
]


def uploader_for_request(request) -> Uploader | None:
    """The candidate's PC session, or else the paired phone this browser holds."""
    if request.candidate_session:
        return Uploader(registration=request.candidate_session.registration, source=Source.PC)
    phone = selectors.phone_for_session(session=request.session, session_key=request.session.session_key)
    if phone is not None:
        services.phone_touch(phone=phone)
        return Uploader(registration=phone.registration, source=Source.PHONE, phone=phone)
    return None


def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode().split("?>", 1)[-1]


@candidate_required
@require_GET
def pairing_panel(request):
    """The PC's pairing fragment: QR code and short code until the phone reports in.

    Include it in a page with ``hx-get`` on ``{% url 'evidence:pairing_panel' %}``; it polls
    itself until the phone is paired. Without htmx the same URL renders a whole page.
    """
    registration = request.candidate_session.registration
    phone = selectors.phone_paired(registration=registration)
    code = None
    if phone is None or request.GET.get("again") == "1":
        code = selectors.pairing_code_current(registration=registration)
        if code is None or request.GET.get("again") == "1":
            code = services.pairing_code_issue(registration=registration)
    context = {"phone": phone if code is None else None, "code": code, "registration": registration,
               "phone_url": request.build_absolute_uri(reverse("evidence:phone"))}
    if code is not None:
        context["pair_url"] = request.build_absolute_uri(reverse("evidence:phone_pair", args=[code.token]))
        context["qr_svg"] = _qr_svg(context["pair_url"])
        context["short_code"] = f"{code.short_code[:4]} {code.short_code[4:]}"
    template = "evidence/pairing_panel.html" if request.htmx else "evidence/pairing_page.html"
    return render(request, template, context)


def _phone_login(request, phone) -> None:
    request.session[selectors.PHONE_DEVICE_KEY] = phone.pk


def _phone_session_key(request) -> str:
    if request.session.session_key:
        request.session.cycle_key()  # a new key on pairing: no session fixation
    else:
        request.session.save()
    return request.session.session_key


def phone(request):
    """The phone's page: the code form until paired, then the evidence camera."""
    uploader = uploader_for_request(request)
    if uploader is not None and uploader.source == Source.PHONE:
        registration = uploader.registration
        rules = exam_rules(registration.exam)
        config = {
            "registration": registration.pk,
            "tusEndpoint": reverse("evidence:tus"),
            "stateUrl": reverse("evidence:phone_state"),
            "reportUrl": reverse("evidence:recording_report"),
            "interruptionUrl": reverse("evidence:interruption"),
            "statusUrl": reverse("evidence:status"),
            "sweepSeconds": rules.sweep_min_seconds,
            "segmentSeconds": rules.evidence_segment_seconds,
            "videoKbps": rules.evidence_video_kbps,
            "pollSeconds": rules.evidence_status_poll_seconds,
            "examEndsAt": registration.exam.ends_at.isoformat(),
            "strings": {text: gettext_now(text) for text in PHONE_SCRIPT_STRINGS},
            # The live view: the phone's camera to a media worker over its own socket.
            "socketPath": "/ws/phone/",
            "iceServers": ice_servers_for_browser(registration_id=registration.pk),
            "placementKinds": {kind: str(label) for kind, label in PlacementRequest.Kind.choices},
        }
        return render(request, "evidence/phone.html", {"registration": registration, "config": config})
    refusal = None
    if request.method == "POST":
        try:
            exam_id = int(request.POST["exam"]) if request.POST.get("exam") else None
            phone = services.pairing_code_redeem(
                short_code=request.POST.get("code", ""), session_key=_phone_session_key(request),
                user_agent=request.headers.get("User-Agent", ""), exam_id=exam_id)
        except PairingRefused as error:
            refusal = error
        except ValueError:
            return HttpResponseBadRequest()
        else:
            _phone_login(request, phone)
            return redirect("evidence:phone")
    return render(request, "evidence/phone_pair.html", {"refusal": refusal, "exam": request.GET.get("exam", "")},
                  status=400 if refusal else 200)


def phone_pair(request, token: str):
    """The QR code's URL: pair at once, then the evidence camera."""
    current = selectors.phone_for_session(session=request.session, session_key=request.session.session_key)
    try:
        phone = services.pairing_code_redeem(token=token, session_key=_phone_session_key(request),
                                             user_agent=request.headers.get("User-Agent", ""), current_phone=current)
    except PairingRefused as error:
        return render(request, "evidence/phone_pair.html", {"refusal": error}, status=400)
    _phone_login(request, phone)
    return redirect("evidence:phone")


def _uploader_or_403(request) -> Uploader:
    uploader = uploader_for_request(request)
    if uploader is None:
        raise PermissionDenied
    return uploader


@require_GET
def phone_state(request):
    """What the phone needs to know: is the exam over, and the server's clock."""
    uploader = _uploader_or_403(request)
    registration = uploader.registration
    registration.refresh_from_db(fields=["stage", "submitted_at"])
    now = timezone.now()
    over = now >= registration.exam.ends_at or registration.stage in (
        Registration.Stage.SUBMITTED, Registration.Stage.COMPLETE)
    return JsonResponse({"over": over, "server_time": now.isoformat(),
                         "exam_ends_at": registration.exam.ends_at.isoformat(), "stage": registration.stage})


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValueError("body is not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _client_time(value) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(float(value) / 1000, tz=UTC)


@require_POST
def recording_report(request):
    uploader = _uploader_or_403(request)
    try:
        body = _json_body(request)
        recording = services.recording_report(
            uploader=uploader, kind=str(body["kind"]), client_id=str(body["recording"]), last_seq=int(body["last_seq"]),
            started_at=_client_time(body.get("started_at")), ended=bool(body.get("ended")),
            segment_seconds=float(body["segment_seconds"]) if body.get("segment_seconds") else None)
    except (KeyError, ValueError, TypeError) as error:
        return JsonResponse({"error": str(error)[:200]}, status=400)
    return JsonResponse({"last_seq": recording.last_seq, "final_seq": recording.final_seq})


@require_POST
def interruption(request):
    uploader = _uploader_or_403(request)
    try:
        body = _json_body(request)
        started_at = _client_time(body["started_at"])
        services.interruption_record(
            uploader=uploader, kind=str(body["kind"]), reason=str(body["reason"]), client_id=str(body["id"]),
            started_at=started_at, ended_at=_client_time(body.get("ended_at")))
    except (KeyError, ValueError, TypeError) as error:
        return JsonResponse({"error": str(error)[:200]}, status=400)
    return JsonResponse({"ok": True})


def _status_json(status: selectors.EvidenceStatus, kinds) -> dict:
    return {
        "complete": status.complete_for(kinds) if kinds else status.complete,
        "kinds": {
            kind.kind: {"label": kind.label, "expected": kind.expected, "received": kind.received,
                        "outstanding": len(kind.outstanding), "late": len(kind.late), "missing": len(kind.missing),
                        "open_recordings": kind.open_recordings,
                        "complete": kind.complete, "bytes_received": kind.bytes_received}
            for kind in status.kinds.values()
        },
    }


@require_GET
def status(request):
    """The asking device's own evidence, as the server has it (the upload screen's truth)."""
    uploader = _uploader_or_403(request)
    evidence = selectors.evidence_status_for_registration(registration=uploader.registration)
    kinds = [kind for kind in request.GET.get("kinds", "").split(",") if kind]
    if uploader.source == Source.PHONE:
        kinds = kinds or list(PHONE_KINDS)
        evidence.kinds = {kind: value for kind, value in evidence.kinds.items() if kind in PHONE_KINDS}
    return JsonResponse(_status_json(evidence, kinds))


@login_required
@require_GET
def continuity(request, registration_id: int):
    """A candidate's recordings for staff: expected, received, late, missing, gaps (a fragment)."""
    registration = get_object_or_404(Registration.objects.select_related("exam", "candidate"), pk=registration_id)
    evidence = selectors.evidence_status_for_staff(user=request.user, registration=registration)
    if evidence is None:
        raise Http404
    # In the invigilator's drawer the fragment polls: a segment becomes late by the clock alone.
    return render(request, "evidence/continuity.html",
                  {"registration": registration, "evidence": evidence, "poll": bool(request.htmx)})


@candidate_required
@require_GET
def pc_recorder(request):
    """The PC recording check: the journey page's recorder on a page of its own."""
    registration = request.candidate_session.registration
    rules = exam_rules(registration.exam)
    config = {
        "registration": registration.pk, "tusEndpoint": reverse("evidence:tus"),
        "reportUrl": reverse("evidence:recording_report"), "interruptionUrl": reverse("evidence:interruption"),
        "statusUrl": reverse("evidence:status"), "segmentSeconds": rules.evidence_segment_seconds,
        "videoKbps": rules.evidence_video_kbps,
    }
    return render(request, "evidence/pc_recorder.html", {"config": config})


@login_required
def placement(request, registration_id: int):
    """The staff's phone-placement panel: ask the candidate to move the phone, see whether
    they confirmed. A fragment for htmx (the focus view, the drawer), else a page."""
    registration = selectors.registration_for_placement(user=request.user, registration_id=registration_id)
    if registration is None:
        raise Http404
    error, status_code = None, 200
    if request.method == "POST":
        try:
            services.placement_request_send(registration=registration, actor=request.user,
                                            kind=request.POST.get("kind", ""), text=request.POST.get("text", ""))
        except PlacementError as refusal:
            error, status_code = str(refusal), 400
        else:
            if not request.htmx:
                return redirect("evidence:placement", registration.pk)
    requests = selectors.placement_requests_for_staff(registration=registration)
    context = {
        "registration": registration, "requests": requests, "kinds": PlacementRequest.Kind.choices, "error": error,
        "waiting": any(item.status == PlacementRequest.Status.REQUESTED for item in requests),
        "phone": selectors.phone_paired(registration=registration),
    }
    template = "evidence/placement_panel.html" if request.htmx else "evidence/placement_page.html"
    return render(request, template, context, status=status_code)


def tus_not_routed(request, upload_id=None):
    """Only for ``reverse()``: ``invigilate.asgi`` hands these paths to the tus application."""
    raise Http404("tus requests are served by the ASGI tus application")
