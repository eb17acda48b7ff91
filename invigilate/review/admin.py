from django.contrib import admin

from invigilate.admin import ReadOnlyModelAdmin

from .models import Decision


@admin.register(Decision)
class DecisionAdmin(ReadOnlyModelAdmin):
    """Read-only: decisions are made on the review pages, through the services, and audited."""

    list_display = ["registration", "alert", "outcome", "rule", "status", "decided_by", "decided_at"]
    list_filter = ["outcome", "status", "exam"]
