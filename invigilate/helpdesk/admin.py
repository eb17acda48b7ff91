from django.contrib import admin

from .models import CallAttempt, HelpMessage, HelpRequest, TechnicianPresence, TechnicianSkill


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class HelpMessageInline(ReadOnlyInline):
    model = HelpMessage


class CallAttemptInline(ReadOnlyInline):
    model = CallAttempt


@admin.register(HelpRequest)
class HelpRequestAdmin(admin.ModelAdmin):
    """Read-only: requests move only through the services, which audit every move."""

    list_display = ["pk", "exam", "registration", "category", "status", "technician", "created_at", "escalated_at"]
    list_filter = ["status", "category", "exam"]
    inlines = [HelpMessageInline, CallAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TechnicianSkill)
class TechnicianSkillAdmin(admin.ModelAdmin):
    list_display = ["user", "category"]
    list_filter = ["category"]


@admin.register(TechnicianPresence)
class TechnicianPresenceAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "connections", "last_seen_at", "last_offered_at"]
    readonly_fields = ["status", "connections", "last_seen_at", "last_offered_at"]
