from django.contrib import admin

from invigilate.admin import ReadOnlyModelAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """Append-only: the admin can read the chain, never change it."""

    list_display = ["chain", "position", "occurred_at", "actor_label", "event_type", "subject_type", "subject_id"]
    list_filter = ["event_type"]
    search_fields = ["actor_label", "subject_id"]
