from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Exam(models.Model):
    class Kind(models.TextChoices):
        MOCK = "mock", _("Mock exam")
        FORMAL = "formal", _("Formal exam")

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.FORMAL)
    starts_at = models.DateTimeField(_("starts at"))
    duration = models.DurationField(_("duration"), default=timedelta(minutes=60))
    join_opens_minutes_before = models.PositiveIntegerField(_("join opens (minutes before start)"), default=30)
    late_entry_grace_minutes = models.PositiveIntegerField(_("late entry grace (minutes)"), default=0)
    early_submission_allowed = models.BooleanField(_("early submission allowed"), default=False)
    incident_window_minutes = models.PositiveIntegerField(_("incident window after the end (minutes)"), default=60)
    required_mock = models.ForeignKey(
        "self",
        verbose_name=_("mock its candidates must have taken"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="formal_exams",
        limit_choices_to={"kind": "mock"},
    )
    support_phone = models.CharField(_("published support number"), max_length=32, blank=True)
    rules = models.JSONField(_("rules"), default=dict, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("exam")
        verbose_name_plural = _("exams")

    def __str__(self) -> str:
        return self.title

    @property
    def ends_at(self):
        return self.starts_at + self.duration

    @property
    def join_opens_at(self):
        return self.starts_at - timedelta(minutes=self.join_opens_minutes_before)

    @property
    def late_entry_closes_at(self):
        return self.starts_at + timedelta(minutes=self.late_entry_grace_minutes)

    @property
    def incident_window_closes_at(self):
        return self.ends_at + timedelta(minutes=self.incident_window_minutes)

    def is_join_window_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.join_opens_at <= at < self.ends_at


class ExamRoom(models.Model):
    exam = models.ForeignKey(Exam, verbose_name=_("exam"), on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["exam", "name"]
        verbose_name = _("exam room")
        verbose_name_plural = _("exam rooms")
        constraints = [models.UniqueConstraint(fields=["exam", "name"], name="room_name_unique_per_exam")]

    def __str__(self) -> str:
        return f"{self.exam} / {self.name}"


class Candidate(models.Model):
    """A person. The same person sits the mock and the formal exam with one ticket number."""

    full_name = models.CharField(_("name"), max_length=100)
    id_number_hash = models.CharField(max_length=64, unique=True)
    id_number_masked = models.CharField(_("ID number"), max_length=32)
    phone = models.CharField(_("phone"), max_length=32)
    photo = models.ImageField(_("registered photo"), upload_to="photos/", blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")

    def __str__(self) -> str:
        return f"{self.full_name} ({self.id_number_masked})"


class Registration(models.Model):
    class Stage(models.TextChoices):
        NOT_JOINED = "not_joined", _("Not joined")
        DEVICE_CHECK = "device_check", _("Device check")
        IDENTITY_CHECK = "identity_check", _("Identity check")
        PHONE_PAIRING = "phone_pairing", _("Phone pairing")
        PAPER_CHECK = "paper_check", _("Blank paper check")
        WAITING = "waiting", _("Waiting")
        IN_EXAM = "in_exam", _("In exam")
        SUBMITTED = "submitted", _("Submitted")
        COMPLETE = "complete", _("All uploads complete")

    exam = models.ForeignKey(Exam, verbose_name=_("exam"), on_delete=models.CASCADE, related_name="registrations")
    candidate = models.ForeignKey(
        Candidate, verbose_name=_("candidate"), on_delete=models.PROTECT, related_name="registrations"
    )
    ticket_number = models.CharField(_("admission ticket number"), max_length=32)
    room = models.ForeignKey(ExamRoom, verbose_name=_("room"), on_delete=models.PROTECT, related_name="registrations")
    seat = models.PositiveIntegerField(_("seat"))
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.NOT_JOINED)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    # Presence of the PC page's websocket; the live-alerts sweep keeps it honest.
    connected = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    disconnected_since = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["exam", "room", "seat"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(fields=["exam", "ticket_number"], name="ticket_unique_per_exam"),
            models.UniqueConstraint(fields=["exam", "candidate"], name="candidate_once_per_exam"),
            models.UniqueConstraint(fields=["room", "seat"], name="seat_unique_per_room"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_number} {self.candidate.full_name}"


class RoomInvigilator(models.Model):
    room = models.ForeignKey(
        ExamRoom, verbose_name=_("room"), on_delete=models.CASCADE, related_name="invigilator_assignments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("invigilator"), on_delete=models.CASCADE,
        related_name="room_assignments",
    )

    class Meta:
        verbose_name = _("invigilator of a room")
        verbose_name_plural = _("invigilators of rooms")
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="invigilator_once_per_room")]


class ExamStaff(models.Model):
    """A supervisor, technician or reviewer assigned to a whole exam."""

    class Role(models.TextChoices):
        # The per-exam subset of accounts.Role (invigilators are assigned per room).
        SUPERVISOR = "supervisor", _("Roaming supervisor")
        TECHNICIAN = "technician", _("Technician")
        REVIEWER = "reviewer", _("Reviewer")

    exam = models.ForeignKey(Exam, verbose_name=_("exam"), on_delete=models.CASCADE, related_name="staff_assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member of staff"), on_delete=models.CASCADE,
        related_name="exam_assignments",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("staff of an exam")
        verbose_name_plural = _("staff of exams")
        constraints = [models.UniqueConstraint(fields=["exam", "user", "role"], name="staff_role_once_per_exam")]


# --- The candidate's journey ------------------------------------------------------------------


class Question(models.Model):
    """One interview question, answered in order, by recording or by text as it says."""

    class Mode(models.TextChoices):
        VIDEO = "video", _("Video and audio recording")
        AUDIO = "audio", _("Audio recording")
        TEXT = "text", _("Written answer")

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(_("position"))
    mode = models.CharField(_("answered by"), max_length=8, choices=Mode.choices, default=Mode.VIDEO)
    prompt = models.TextField(_("question"))
    preparation_seconds = models.PositiveIntegerField(_("preparation time (seconds)"), default=60)
    answer_seconds = models.PositiveIntegerField(_("answer time (seconds)"), default=180)

    class Meta:
        ordering = ["exam", "position"]
        constraints = [models.UniqueConstraint(fields=["exam", "position"], name="question_position_unique")]

    def __str__(self) -> str:
        return f"{self.exam} Q{self.position}"

    @property
    def is_recorded(self) -> bool:
        return self.mode in {self.Mode.VIDEO, self.Mode.AUDIO}


class JourneyProgress(models.Model):
    """Where a registration is inside the exam: the question on screen, and when it opened."""

    registration = models.OneToOneField(Registration, on_delete=models.CASCADE, related_name="progress")
    question_position = models.PositiveIntegerField(default=1)
    question_opened_at = models.DateTimeField()


class DeviceCheck(models.Model):
    """One run of the device check; every run is kept so staff see the retries too."""

    ITEMS = ["browser", "camera", "microphone", "screen", "single_screen", "bandwidth"]

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="device_checks")
    checked_at = models.DateTimeField()
    passed = models.BooleanField()
    # {"camera": {"ok": true, "detail": "640x480"}, ...}; "bandwidth" is the server's measurement.
    results = models.JSONField(default=dict)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["registration", "-checked_at"]


class IdentityAttempt(models.Model):
    class Outcome(models.TextChoices):
        MATCHED = "matched", _("Matched")
        NOT_MATCHED = "not_matched", _("Not matched")
        AWAITING_REVIEW = "awaiting_review", _("Awaiting the invigilator")
        APPROVED = "approved", _("Approved by the invigilator")
        REJECTED = "rejected", _("Rejected by the invigilator")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="identity_attempts")
    attempted_at = models.DateTimeField()
    photo = models.FileField(upload_to="identity/")
    score = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["registration", "attempted_at"]


class PaperSnapshot(models.Model):
    class Side(models.TextChoices):
        FRONT = "front", _("Front")
        BACK = "back", _("Back")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="paper_snapshots")
    side = models.CharField(max_length=8, choices=Side.choices)
    image = models.FileField(upload_to="paper/")
    taken_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["registration", "side"], name="paper_side_once")]


class Answer(models.Model):
    """The latest accepted state of one answer.

    Writes carry the page's ``client_id`` and a ``revision``; a write whose revision is not
    above the stored one changes nothing, so replays and reordered requests are harmless.
    A recorded answer is declared (take, size, SHA-256) before the deadline; its bytes may
    arrive later and are kept only if they hash to the declared value.
    """

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    client_id = models.CharField(max_length=64)
    revision = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    take = models.PositiveIntegerField(default=0)
    recording_sha256 = models.CharField(max_length=64, blank=True)
    recording_size = models.PositiveBigIntegerField(null=True, blank=True)
    recording_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    recording = models.FileField(upload_to="answers/", blank=True)
    recording_received_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["registration", "question__position"]
        constraints = [models.UniqueConstraint(fields=["registration", "question"], name="answer_once_per_question")]

    @property
    def recording_verified(self) -> bool:
        return bool(self.recording_received_at and self.recording_sha256)


class Submission(models.Model):
    class How(models.TextChoices):
        CANDIDATE = "candidate", _("Submitted by the candidate")
        FORCED = "forced", _("Force-submitted at the end")

    registration = models.OneToOneField(Registration, on_delete=models.CASCADE, related_name="submission")
    submitted_at = models.DateTimeField()
    how = models.CharField(max_length=16, choices=How.choices)
    completed_at = models.DateTimeField(null=True, blank=True)


class Downtime(models.Model):
    """A gap between a lost PC session and the login that replaced it (no time is added back)."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="downtimes")
    # The login that ended the gap: one downtime per rejoin, however often it is looked at.
    resumed_session = models.OneToOneField(
        "accounts.CandidateSession", on_delete=models.CASCADE, related_name="downtime_ended"
    )
    lost_at = models.DateTimeField()
    resumed_at = models.DateTimeField()
    stage = models.CharField(max_length=16)

    @property
    def seconds(self) -> int:
        return int((self.resumed_at - self.lost_at).total_seconds())


class IncidentReport(models.Model):
    """What went wrong, filed by the candidate after the exam within the incident window."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="incident_reports")
    filed_at = models.DateTimeField()
    text = models.TextField()
