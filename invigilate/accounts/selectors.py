from django.db.models import QuerySet

from invigilate.exams.models import Exam, ExamRoom

from .models import CandidateSession, Role, User


def candidate_session_get(*, session_id: int | None, session_key: str | None) -> CandidateSession | None:
    """The open session a browser holds, or None (ended, replaced, or someone else's key)."""
    if not session_id or not session_key:
        return None
    return (
        CandidateSession.objects.select_related("registration__exam", "registration__candidate", "registration__room")
        .filter(pk=session_id, session_key=session_key, ended_at__isnull=True)
        .first()
    )


def room_list_for_invigilator(*, user: User) -> QuerySet[ExamRoom]:
    return ExamRoom.objects.filter(invigilator_assignments__user=user).select_related("exam").distinct()


def exam_list_for_staff(*, user: User, role: str | None = None) -> QuerySet[Exam]:
    """Exams the user works on: by exam assignment, by room assignment, or all for admins."""
    if user.is_exam_admin:
        return Exam.objects.all()
    role = role or user.role
    if role == Role.INVIGILATOR:
        return Exam.objects.filter(rooms__invigilator_assignments__user=user).distinct()
    return Exam.objects.filter(staff_assignments__user=user, staff_assignments__role=role).distinct()


def user_may_invigilate_room(*, user: User, room_id: int) -> bool:
    return ExamRoom.objects.filter(pk=room_id, invigilator_assignments__user=user).exists()


def user_has_exam_role(*, user: User, exam_id: int, role: str) -> bool:
    if user.is_exam_admin:
        return True
    return Exam.objects.filter(pk=exam_id, staff_assignments__user=user, staff_assignments__role=role).exists()
