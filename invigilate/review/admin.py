from django.contrib import admin

from .models import Decision


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """Read-only: decisions are made on the review pages, through the services, and audited."""

    list_display = ["registration", "alert", "outcome", "rule", "status", "decided_by", "decided_at"]
    list_filter = ["outcome", "status", "exam"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
