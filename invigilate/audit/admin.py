from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["chain", "position", "occurred_at", "actor_label", "event_type", "subject_type", "subject_id"]
    list_filter = ["event_type"]
    search_fields = ["actor_label", "subject_id"]

    # Append-only: the admin can read the chain, never change it.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
