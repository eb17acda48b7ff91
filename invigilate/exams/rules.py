"""Per-exam settings that the exam's staff may tune, with the defaults the notice implies.

Stored in ``Exam.rules`` (JSON) so that adding a knob needs no migration; read them through
``exam_rules(exam)``, never from the JSON directly, so that every reader gets the default.
"""

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ExamRules:
    # Live alerts (missed heartbeats, folding, escalation).
    heartbeat_timeout_seconds: int = 15
    alert_fold_window_seconds: int = 120
    alert_escalate_after_seconds: int = 60
    # Candidate journey.
    min_upload_mbps: float = 4.0
    identity_attempts: int = 3
    rerecord_allowed: int = 1  # re-records allowed per recorded question (takes = 1 + this)
    recording_slack_seconds: int = 3  # a take may run this much over the question's answer time
    # Help desk.
    help_claim_timeout_seconds: int = 60
    help_resolve_timeout_minutes: int = 15
    # A technician is offered a new request only below this many open ones (offered, claimed, calling).
    help_max_open_per_technician: int = 3
    # Help by ticket number (login trouble) opens this long before the join window.
    help_opens_minutes_before_join: int = 120
    # Supervision.
    unwatched_after_minutes: int = 10
    # Phone evidence camera.
    sweep_min_seconds: int = 20
    pairing_code_minutes: int = 10
    # Evidence recordings: each segment is a self-contained file of this many seconds.
    evidence_segment_seconds: int = 5
    evidence_video_kbps: int = 800
    # A segment not arrived this long after it ended (client's clock) shows as late.
    evidence_late_after_seconds: int = 30
    # How often the phone page asks the server whether the exam is over.
    evidence_status_poll_seconds: int = 10
    # Nothing from the phone (no segment, no report) for this long while the exam runs: alert.
    phone_silent_seconds: int = 30
    # Media detectors (automatic flags): how long a condition must last before it flags.
    face_absent_seconds: float = 10
    multiple_faces_seconds: float = 3
    looking_away_seconds: float = 10
    looking_away_yaw: float = 0.6  # nose offset from the eyes' middle, in eye distances
    camera_blocked_seconds: float = 10
    camera_frozen_seconds: float = 15
    face_check_seconds: float = 180  # identity against the registered photo (and within 30 s of connecting)
    face_match_max_distance: float = 0.6  # dlib distance within which a face is the registered person (identity step too)
    speech_seconds: float = 8
    speech_sample_seconds: float = 4
    speech_min_fraction: float = 0.3
    # Review: a violation takes effect only when a second reviewer confirms it (four eyes).
    review_violation_needs_second_reviewer: bool = True


def exam_rules(exam) -> ExamRules:
    known = {field.name for field in fields(ExamRules)}
    return ExamRules(**{key: value for key, value in (exam.rules or {}).items() if key in known})
