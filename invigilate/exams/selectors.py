from datetime import timedelta

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from invigilate.accounts.models import Role, User

from .models import Answer, DeviceCheck, Exam, ExamRoom, IdentityAttempt, Question, Registration
from .services import FINISHED_STAGES


def _registrations_visible_to(user: User) -> QuerySet[Registration]:
    """Registrations a member of staff may see: an invigilator their rooms, exam staff their exams."""
    registrations = Registration.objects.all()
    if user.is_exam_admin:
        return registrations
    if user.role == Role.INVIGILATOR:
        return registrations.filter(room__invigilator_assignments__user=user)
    return registrations.filter(exam__staff_assignments__user=user, exam__staff_assignments__role=user.role)


def identity_attempts_awaiting_review(*, user: User) -> QuerySet[IdentityAttempt]:
    """Attempts waiting for a decision, in the rooms this user invigilates (all, for exam admins)."""
    attempts = IdentityAttempt.objects.filter(outcome=IdentityAttempt.Outcome.AWAITING_REVIEW)
    if not user.is_exam_admin:
        attempts = attempts.filter(registration__room__invigilator_assignments__user=user)
    return attempts.select_related("registration__candidate", "registration__room").order_by("attempted_at")


def rooms_invigilated_by(*, user: User) -> QuerySet[ExamRoom]:
    """The rooms whose identity reviews this user sees live (exam admins: rooms of today's exams)."""
    if user.is_exam_admin:
        now = timezone.now()
        return ExamRoom.objects.filter(exam__starts_at__range=(now - timedelta(days=1), now + timedelta(days=1)))
    return ExamRoom.objects.filter(invigilator_assignments__user=user)


def identity_attempt_for_reviewer(*, user: User, attempt_id: int) -> IdentityAttempt | None:
    return identity_attempts_awaiting_review(user=user).filter(pk=attempt_id).first()


def identity_attempt_for_staff(*, user: User, attempt_id: int) -> IdentityAttempt | None:
    visible = _registrations_visible_to(user)
    return IdentityAttempt.objects.filter(pk=attempt_id, registration__in=visible).first()


def registration_for_staff(*, user: User, registration_id: int) -> Registration | None:
    return _registrations_visible_to(user).filter(pk=registration_id).select_related("candidate").first()


def readiness_list_for_staff(*, user: User, exam: Exam) -> QuerySet[Registration]:
    """Each visible candidate of the exam with their latest device check, identity attempts,
    rejoins and, for a formal exam, whether they sat the required mock."""
    registrations = (
        _registrations_visible_to(user)
        .filter(exam=exam)
        .select_related("candidate", "room")
        .prefetch_related(
            Prefetch("device_checks", queryset=DeviceCheck.objects.order_by("-checked_at")),
            "identity_attempts",
            "downtimes",
        )
        .distinct()
    )
    if exam.required_mock_id:
        took_mock = Registration.objects.filter(
            exam_id=exam.required_mock_id, candidate_id=OuterRef("candidate_id"), stage__in=FINISHED_STAGES
        )
        registrations = registrations.annotate(took_mock=Exists(took_mock))
    return registrations


def questions_with_answers(*, registration: Registration) -> list[tuple[Question, Answer | None]]:
    answers = {answer.question_id: answer for answer in Answer.objects.filter(registration=registration)}
    return [(question, answers.get(question.pk)) for question in registration.exam.questions.all()]


def mock_missing_count(*, exam: Exam) -> int:
    """How many of the exam's candidates have not completed its required mock."""
    if not exam.required_mock_id:
        return 0
    took_mock = Registration.objects.filter(
        exam_id=exam.required_mock_id, candidate_id=OuterRef("candidate_id"), stage__in=FINISHED_STAGES
    )
    return exam.registrations.annotate(took_mock=Exists(took_mock)).filter(took_mock=False).count()
