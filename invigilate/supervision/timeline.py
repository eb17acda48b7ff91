"""Supervision's entries on the review timeline: audit notes and staff messages about a candidate."""

from django.utils.translation import gettext_lazy as _

from invigilate.review.timeline import HIGH, INFO, LOW, MEDIUM, TimelineEntry, timeline_provider

from .models import Severity, StaffMessage
from .selectors import audit_note_list_for_registration

NOTE_SEVERITY = {Severity.INFO: LOW, Severity.CONCERN: MEDIUM, Severity.SERIOUS: HIGH}


def _person(user) -> str:
    return user.get_full_name() or user.username


@timeline_provider(source="supervision", kinds={"audit_note": _("Supervisor's audit notes")})
def audit_notes(*, registration):
    """Notes on the candidate, on their room, and on its invigilators during the exam."""
    for note in audit_note_list_for_registration(registration=registration):
        about = _person(note.subject_user) if note.subject_user else (note.room.name if note.room else "")
        yield TimelineEntry(
            at=note.created_at, kind="audit_note", source="supervision", title=_("Supervisor's audit note"),
            detail=f"{about}: {note.text}" if about else note.text, severity=NOTE_SEVERITY.get(note.severity, LOW),
            actor=_person(note.author), ref=f"audit_note:{note.pk}",
        )


@timeline_provider(source="supervision", kinds={"staff_message": _("Staff messages about the candidate")})
def staff_messages(*, registration):
    for message in StaffMessage.objects.filter(registration=registration).select_related("author"):
        yield TimelineEntry(
            at=message.created_at, kind="staff_message", source="supervision", title=_("Staff message"),
            detail=message.text, severity=INFO, actor=f"{_person(message.author)} ({message.author_role_label})",
            ref=f"staff_message:{message.pk}",
        )
