from django.contrib import admin

from invigilate.accounts.models import Role

from .models import CallAttempt, HelpMessage, HelpRequest, TechnicianPresence, TechnicianSkill
from .selectors import technician_skill_list
from .services import technician_skills_set


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
    """Skills are added and removed through ``technician_skills_set``, which audits the change
    (who set which skills of whom); a row is never edited in place."""

    list_display = ["user", "category"]
    list_filter = ["category"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "category"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            from invigilate.accounts.models import User

            kwargs["queryset"] = User.objects.filter(role=Role.TECHNICIAN, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing editable: see get_readonly_fields
        categories = set(technician_skill_list(user=obj.user)) | {obj.category}
        technician_skills_set(user=obj.user, categories=sorted(categories), actor=request.user)
        # The admin's messages and redirect need the saved row.
        obj.pk = TechnicianSkill.objects.get(user=obj.user, category=obj.category).pk

    def delete_model(self, request, obj):
        remaining = set(technician_skill_list(user=obj.user)) - {obj.category}
        technician_skills_set(user=obj.user, categories=sorted(remaining), actor=request.user)

    def delete_queryset(self, request, queryset):
        by_user: dict = {}
        for skill in queryset.select_related("user"):
            by_user.setdefault(skill.user, set()).add(skill.category)
        for user, removed in by_user.items():
            remaining = set(technician_skill_list(user=user)) - removed
            technician_skills_set(user=user, categories=sorted(remaining), actor=request.user)


@admin.register(TechnicianPresence)
class TechnicianPresenceAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "connections", "last_seen_at", "last_offered_at"]
    readonly_fields = ["status", "connections", "last_seen_at", "last_offered_at"]
