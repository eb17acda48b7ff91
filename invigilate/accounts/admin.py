from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import CandidateSession, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (("Invigilate", {"fields": ("role", "phone")}),)
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active"]


@admin.register(CandidateSession)
class CandidateSessionAdmin(admin.ModelAdmin):
    list_display = ["registration", "started_at", "last_seen_at", "ended_at", "end_reason", "address"]
    readonly_fields = [f.name for f in CandidateSession._meta.fields]
