from django.db.models import QuerySet

from .models import AuditEvent


def audit_event_list_for_registration(*, registration_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(registration_id=registration_id).order_by("occurred_at", "id")


def audit_event_list_for_exam(*, exam_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(chain=exam_id).order_by("position")
