"""Timeline providers for the apps that exist: each reads one app's models, scoped to one
registration, and says what happened in words a reviewer reads.

Imported from ``ReviewConfig.ready``; other apps register theirs the same way (see
``timeline.py``).
"""

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _

from invigilate.accounts.models import CandidateSession
from invigilate.audit.selectors import audit_event_list_for_registration
from invigilate.evidence.models import RecordingKind, Upload
from invigilate.evidence.selectors import evidence_status_for_registration
from invigilate.exams.models import (
    Answer,
    DeviceCheck,
    Downtime,
    IdentityAttempt,
    IncidentReport,
    PaperSnapshot,
    Submission,
)
from invigilate.helpdesk.models import CallAttempt, HelpMessage, HelpRequest
from invigilate.media.models import RecordingGap, RecordingSegment
from invigilate.media.thumbnails import THUMBNAIL_TRACKS
from invigilate.proctoring.models import Alert, InvigilatorAction, Signal
from invigilate.proctoring.rules import QUIET_KINDS, alert_rule

from .models import Decision
from .timeline import AUDIO, HIGH, IMAGE, INFO, LOW, MEDIUM, VIDEO, EvidenceLink, TimelineEntry, timeline_provider


def person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _seconds(value: float | None) -> str:
    if value is None:
        return str(_("still open"))
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}:{seconds:02d}"


# --- proctoring --------------------------------------------------------------------------
# Heartbeats and "back to normal" signals are on the timeline only where they end something;
# kept out, a whole exam of heartbeats would bury everything else.
HIDDEN_SIGNALS = {"heartbeat"}


@timeline_provider(source="proctoring", kinds={
    "alert": _("Alerts"), "signal": _("Integrity signals"), "detector": _("Automatic detector flags"),
})
def proctoring_signals_and_alerts(*, registration):
    for signal in Signal.objects.filter(registration=registration).exclude(kind__in=HIDDEN_SIGNALS):
        evidence = ()
        if isinstance((signal.data or {}).get("snapshot"), str):
            evidence = (EvidenceLink("detection", str(signal.pk), _("Detector snapshot"), IMAGE),)
        detector = signal.source == Signal.Source.DETECTOR
        yield TimelineEntry(
            at=signal.received_at, kind="detector" if detector else "signal", source="proctoring",
            title=signal.label, severity=INFO if signal.kind in QUIET_KINDS else alert_rule(signal.kind).severity,
            detail=_signal_detail(signal), actor=signal.get_source_display(), ref=f"signal:{signal.pk}",
            evidence=evidence,
        )
    for alert in Alert.objects.filter(registration=registration).select_related("acknowledged_by", "closed_by"):
        status = alert.get_status_display()
        detail = _("%(count)s× · now %(status)s") % {"count": alert.count, "status": status}
        if alert.dismiss_reason:
            detail += f" · {alert.dismiss_reason}"
        severity = alert.severity
        yield TimelineEntry(
            at=alert.first_seen_at, ends_at=alert.last_seen_at, kind="alert", source="proctoring",
            title=alert.sentence, detail=detail, severity=severity, ref=f"alert:{alert.pk}", alert_id=alert.pk,
            actor=str(_("Alert #%(sequence)s") % {"sequence": alert.sequence}),
        )
        moves = [
            (alert.escalated_at, _("Alert #%(sequence)s escalated to the supervisors"), None),
            (alert.acknowledged_at, _("Alert #%(sequence)s acknowledged"), alert.acknowledged_by),
            (alert.closed_at, _("Alert #%(sequence)s closed: %(status)s"), alert.closed_by),
        ]
        for at, title, by in moves:
            if at is not None:
                yield TimelineEntry(
                    at=at, kind="alert", source="proctoring", severity=INFO, actor=person(by),
                    title=title % {"sequence": alert.sequence, "status": status}, ref=f"alert:{alert.pk}:{int(at.timestamp() * 1000)}",
                )


def _signal_detail(signal: Signal) -> str:
    shown = {key: value for key, value in (signal.data or {}).items() if key not in {"snapshot"}}
    return json.dumps(shown, ensure_ascii=False, default=str)[:300] if shown else ""


@timeline_provider(source="proctoring", kinds={
    "note": _("Invigilator notes"), "warning": _("Warnings to the candidate"), "flag": _("Flagged for review"),
})
def invigilator_actions(*, registration):
    severities = {InvigilatorAction.Kind.WARNING: MEDIUM, InvigilatorAction.Kind.FLAG: HIGH}
    for action in InvigilatorAction.objects.filter(registration=registration).select_related("author"):
        detail = action.text
        if action.kind == InvigilatorAction.Kind.WARNING:
            detail += " · " + (str(_("confirmed by the candidate")) if action.confirmed_at
                               else str(_("not confirmed by the candidate")))
        yield TimelineEntry(
            at=action.created_at, kind=action.kind, source="proctoring", title=action.get_kind_display(),
            detail=detail, severity=severities.get(action.kind, LOW), actor=person(action.author),
            ref=f"action:{action.pk}",
        )


# --- exams: the journey --------------------------------------------------------------------
@timeline_provider(source="exams", kinds={
    "journey": _("Journey steps"), "identity": _("Identity checks"), "paper": _("Blank paper snapshots"),
    "answer": _("Answers"), "downtime": _("Downtime and second logins"), "incident": _("Incident reports"),
})
def journey(*, registration):
    for check in DeviceCheck.objects.filter(registration=registration):
        failed = [item for item, result in (check.results or {}).items() if not (result or {}).get("ok")]
        yield TimelineEntry(
            at=check.checked_at, kind="journey", source="exams",
            title=_("Device check passed") if check.passed else _("Device check failed"),
            detail=", ".join(failed), severity=INFO if check.passed else LOW, ref=f"device_check:{check.pk}",
        )
    for attempt in IdentityAttempt.objects.filter(registration=registration).select_related("decided_by"):
        score = f"{attempt.score:.2f}" if attempt.score is not None else "–"
        bad = attempt.outcome in {IdentityAttempt.Outcome.NOT_MATCHED, IdentityAttempt.Outcome.REJECTED}
        yield TimelineEntry(
            at=attempt.attempted_at, kind="identity", source="exams",
            title=_("Identity check: %(outcome)s") % {"outcome": attempt.get_outcome_display()},
            detail=_("score %(score)s") % {"score": score} + (f" · {attempt.reason}" if attempt.reason else ""),
            severity=MEDIUM if bad else INFO, actor=person(attempt.decided_by), ref=f"identity:{attempt.pk}",
            evidence=(EvidenceLink("identity", str(attempt.pk), _("Photo taken"), IMAGE),
                      EvidenceLink("registered_photo", "photo", _("Registered photo"), IMAGE)),
        )
    for snapshot in PaperSnapshot.objects.filter(registration=registration):
        yield TimelineEntry(
            at=snapshot.taken_at, kind="paper", source="exams",
            title=_("Blank paper shown: %(side)s") % {"side": snapshot.get_side_display()},
            ref=f"paper:{snapshot.pk}",
            evidence=(EvidenceLink("paper", str(snapshot.pk), snapshot.get_side_display(), IMAGE),),
        )
    for answer in Answer.objects.filter(registration=registration).select_related("question"):
        question = answer.question
        evidence = ()
        if answer.recording and answer.recording_verified:
            media = AUDIO if question.mode == question.Mode.AUDIO else VIDEO
            evidence = (EvidenceLink("answer", str(answer.pk), _("Recorded answer, take %(take)s") % {"take": answer.take},
                                     media, sha256=answer.recording_sha256),)
        if question.is_recorded:
            detail = (_("take %(take)s, received and verified") if answer.recording_verified
                      else _("take %(take)s declared, bytes not received")) % {"take": answer.take}
        else:
            detail = answer.text
        yield TimelineEntry(
            at=answer.updated_at, kind="answer", source="exams",
            title=_("Answer to question %(position)s") % {"position": question.position},
            detail=detail, severity=INFO if (not question.is_recorded or answer.recording_verified) else LOW,
            ref=f"answer:{answer.pk}", evidence=evidence,
        )
    for downtime in Downtime.objects.filter(registration=registration):
        yield TimelineEntry(
            at=downtime.lost_at, ends_at=downtime.resumed_at, kind="downtime", source="exams",
            title=_("PC connection lost until the candidate signed in again"),
            detail=_("%(duration)s lost (no time added back), during %(stage)s")
            % {"duration": _seconds(downtime.seconds), "stage": downtime.stage},
            severity=MEDIUM, ref=f"downtime:{downtime.pk}",
        )
    for session in CandidateSession.objects.filter(registration=registration):
        yield TimelineEntry(
            at=session.started_at, kind="journey", source="exams", title=_("Signed in on a PC"),
            detail=f"{session.address or ''} {session.user_agent[:120]}".strip(), ref=f"session:{session.pk}",
        )
        if session.ended_at:
            replaced = session.end_reason == CandidateSession.EndReason.REPLACED
            yield TimelineEntry(
                at=session.ended_at, kind="downtime" if replaced else "journey", source="exams",
                title=_("PC session ended: %(reason)s") % {"reason": session.get_end_reason_display()},
                severity=MEDIUM if replaced else INFO, ref=f"session:{session.pk}:end",
            )
    submission = Submission.objects.filter(registration=registration).first()
    if submission is not None:
        yield TimelineEntry(at=submission.submitted_at, kind="journey", source="exams",
                            title=submission.get_how_display(), ref=f"submission:{submission.pk}")
        if submission.completed_at:
            yield TimelineEntry(at=submission.completed_at, kind="journey", source="exams",
                                title=_("Submission complete: every upload arrived"),
                                ref=f"submission:{submission.pk}:complete")
    for report in IncidentReport.objects.filter(registration=registration):
        yield TimelineEntry(at=report.filed_at, kind="incident", source="exams",
                            title=_("Incident reported by the candidate"), detail=report.text, severity=LOW,
                            ref=f"incident:{report.pk}")


# --- helpdesk -----------------------------------------------------------------------------
@timeline_provider(source="helpdesk", kinds={"help": _("Help requests")})
def help_requests(*, registration):
    requests = HelpRequest.objects.filter(registration=registration).select_related("technician")
    for request in requests:
        detail = f"{request.get_category_display()} · {request.description}".strip(" ·")
        yield TimelineEntry(
            at=request.created_at, ends_at=request.closed_at, kind="help", source="helpdesk",
            title=_("Asked for help (now %(status)s)") % {"status": request.get_status_display()}, detail=detail,
            severity=LOW, actor=person(request.technician), ref=f"help:{request.pk}",
        )
        if request.closed_at and request.resolution_category:
            yield TimelineEntry(
                at=request.closed_at, kind="help", source="helpdesk",
                title=_("Help request closed: %(resolution)s") % {"resolution": request.get_resolution_category_display()},
                detail=request.resolution_note, actor=person(request.technician), ref=f"help:{request.pk}:closed",
            )
    for message in HelpMessage.objects.filter(request__registration=registration).select_related("author"):
        yield TimelineEntry(at=message.created_at, kind="help", source="helpdesk", title=message.get_kind_display(),
                            detail=message.text, actor=person(message.author), ref=f"help_message:{message.pk}")
    for call in CallAttempt.objects.filter(request__registration=registration).select_related("technician"):
        yield TimelineEntry(
            at=call.created_at, kind="help", source="helpdesk",
            title=_("Technician called: %(outcome)s") % {"outcome": call.get_outcome_display()}, detail=call.note,
            actor=person(call.technician), ref=f"help_call:{call.pk}",
        )


# --- evidence: the clients' recordings ------------------------------------------------------
def client_playlists(*, registration) -> dict[str, list[EvidenceLink]]:
    """Each recording kind's received segments, in time order, as playable links."""
    labels = dict(RecordingKind.choices)
    playlists: dict[str, list[EvidenceLink]] = defaultdict(list)
    uploads = (Upload.objects.filter(registration=registration, status=Upload.Status.COMPLETE)
               .select_related("recording").order_by("recording__kind", "recording__started_at", "recording_id", "seq"))
    for upload in uploads:
        recording = upload.recording
        starts_at = upload.client_started_at or (
            recording.started_at + timedelta(seconds=recording.segment_seconds * upload.seq)
            if recording.started_at else None)
        duration = (upload.duration_ms / 1000) if upload.duration_ms else recording.segment_seconds
        media = AUDIO if upload.content_type.startswith("audio/") else VIDEO
        playlists[recording.kind].append(EvidenceLink(
            "upload", str(upload.pk), f"{labels.get(recording.kind, recording.kind)} #{upload.seq}", media,
            sha256=upload.sha256, starts_at=starts_at, duration_seconds=duration,
        ))
    return dict(playlists)


@timeline_provider(source="evidence", kinds={
    "recording": _("Recordings"), "gap": _("Recording gaps and interruptions"),
})
def client_recordings(*, registration):
    status = evidence_status_for_registration(registration=registration)
    playlists = client_playlists(registration=registration)
    labels = dict(RecordingKind.choices)
    for kind, links in playlists.items():
        timed = [link for link in links if link.starts_at]
        if not timed:
            continue
        last = timed[-1]
        yield TimelineEntry(
            at=timed[0].starts_at, ends_at=last.starts_at + timedelta(seconds=last.duration_seconds or 0),
            kind="recording", source="evidence",
            title=_("Client recording: %(kind)s") % {"kind": labels.get(kind, kind)},
            detail=_("%(count)s segments received") % {"count": len(links)}, ref=f"client_recording:{kind}",
            evidence=tuple(links),
        )
    for kind, kind_status in status.kinds.items():
        for gap in kind_status.gaps:
            yield TimelineEntry(
                at=gap.started_at, ends_at=gap.ended_at, kind="gap", source="evidence",
                title=_("%(kind)s not recording: %(reason)s") % {"kind": kind_status.label, "reason": _gap_reason(gap.reason)},
                detail=_("for %(duration)s") % {"duration": _seconds(
                    (gap.ended_at - gap.started_at).total_seconds() if gap.ended_at else None)},
                severity=HIGH, ref=f"evidence_gap:{kind}:{int(gap.started_at.timestamp())}",
            )
        if kind_status.missing:
            first = kind_status.missing[0]
            yield TimelineEntry(
                at=first.expected_at or registration.exam.ends_at, kind="gap", source="evidence",
                title=_("%(kind)s: %(count)s segments never arrived") % {"kind": kind_status.label,
                                                                         "count": len(kind_status.missing)},
                detail=", ".join(f"#{segment.seq}" for segment in kind_status.missing[:20]),
                severity=HIGH, ref=f"evidence_missing:{kind}",
            )
        if kind_status.late:
            # Reviewed while the upload window is still open: these may yet arrive.
            first = kind_status.late[0]
            yield TimelineEntry(
                at=first.expected_at or registration.exam.ends_at, kind="gap", source="evidence",
                title=_("%(kind)s: %(count)s segments late (not arrived yet)") % {
                    "kind": kind_status.label, "count": len(kind_status.late)},
                detail=", ".join(f"#{segment.seq}" for segment in kind_status.late[:20]),
                severity=MEDIUM, ref=f"evidence_late:{kind}",
            )


def _gap_reason(reason: str) -> str:
    from invigilate.evidence.models import Interruption

    labels = dict(Interruption.Reason.choices) | {"recording_restarted": _("the recording restarted")}
    return str(labels.get(reason, reason.replace("_", " ")))


# --- media: the server's recordings ------------------------------------------------------
def server_playlists(*, registration) -> dict[str, list[EvidenceLink]]:
    labels = dict(RecordingSegment.Track.choices)
    playlists: dict[str, list[EvidenceLink]] = defaultdict(list)
    for segment in RecordingSegment.objects.filter(registration=registration).order_by("track", "started_at"):
        playlists[segment.track].append(EvidenceLink(
            "segment", str(segment.pk), f"{labels.get(segment.track, segment.track)} #{segment.sequence}", VIDEO,
            sha256=segment.sha256, starts_at=segment.started_at, duration_seconds=segment.duration_seconds,
        ))
    return dict(playlists)


@timeline_provider(source="media", kinds={"recording": _("Recordings"), "gap": _("Recording gaps and interruptions")})
def server_recordings(*, registration):
    labels = dict(RecordingSegment.Track.choices)
    for track, links in server_playlists(registration=registration).items():
        last = links[-1]
        yield TimelineEntry(
            at=links[0].starts_at, ends_at=last.starts_at + timedelta(seconds=last.duration_seconds or 0),
            kind="recording", source="media",
            title=_("Server recording: %(track)s") % {"track": labels.get(track, track)},
            detail=_("%(count)s segments, each with its SHA-256 in the audit chain") % {"count": len(links)},
            ref=f"server_recording:{track}", evidence=tuple(links),
        )
    for gap in RecordingGap.objects.filter(registration=registration):
        yield TimelineEntry(
            at=gap.started_at, ends_at=gap.ended_at, kind="gap", source="media",
            title=_("No live media from the %(source)s: %(reason)s") % {
                "source": gap.get_source_display(), "reason": gap.reason.replace("_", " ")},
            detail=_("for %(duration)s") % {"duration": _seconds(
                (gap.ended_at - gap.started_at).total_seconds() if gap.ended_at else None)},
            severity=HIGH, ref=f"media_gap:{gap.pk}",
        )


def thumbnails_kept(*, registration, limit: int = 120) -> list[EvidenceLink]:
    """Thumbnails still in storage (they are kept briefly), newest last, at most ``limit``."""
    links: list[EvidenceLink] = []
    for track in THUMBNAIL_TRACKS:
        folder = f"thumbnails/{registration.pk}/{track}"
        if not default_storage.exists(folder):
            continue
        for name in default_storage.listdir(folder)[1]:
            stem = name.removesuffix(".jpg")
            if stem.isdigit():
                taken = datetime.fromtimestamp(int(stem) / 1000, UTC)
                links.append(EvidenceLink("thumbnail", f"{track}-{stem}", f"{track} {taken:%H:%M:%S}", IMAGE,
                                          starts_at=taken))
    links.sort(key=lambda link: link.starts_at)
    if len(links) > limit:  # spread the kept ones evenly over the exam
        step = len(links) / limit
        links = [links[int(index * step)] for index in range(limit)]
    return links


# --- audit: the system log -----------------------------------------------------------------
@timeline_provider(source="audit", kinds={"system": _("System log (audit chain)")})
def system_log(*, registration):
    events = list(audit_event_list_for_registration(registration_id=registration.pk))
    user_ids = {event.actor_id for event in events if event.actor_id}
    people = {user.pk: person(user) for user in get_user_model().objects.filter(pk__in=user_ids)}
    for event in events:
        actor = people.get(event.actor_id) or (
            str(_("the candidate")) if event.actor_label.startswith("candidate:") else str(_("the system")))
        yield TimelineEntry(
            at=event.occurred_at, kind="system", source="audit", title=event.event_type,
            detail=json.dumps(event.data, ensure_ascii=False, default=str)[:400], actor=actor,
            ref=f"audit:{event.chain}:{event.position}",
        )


# --- review: the decisions themselves --------------------------------------------------------
@timeline_provider(source="review", kinds={"decision": _("Review decisions")})
def decisions(*, registration):
    for decision in Decision.objects.filter(registration=registration).select_related("decided_by", "second_by"):
        title = decision.get_outcome_display()
        if decision.rule:
            title = f"{title}: {decision.get_rule_display()}"
        yield TimelineEntry(
            at=decision.decided_at, kind="decision", source="review", title=title,
            detail=f"{decision.reason} · {decision.get_status_display()}", actor=person(decision.decided_by),
            severity=HIGH if decision.outcome == "violation" else INFO, ref=f"decision:{decision.pk}",
        )
        if decision.second_at:
            yield TimelineEntry(
                at=decision.second_at, kind="decision", source="review", title=decision.get_status_display(),
                detail=decision.second_note, actor=person(decision.second_by), ref=f"decision:{decision.pk}:second",
            )
