from django.contrib import admin

from .models import Alert, InvigilatorAction, Signal


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["sequence", "exam", "room", "registration", "kind", "severity", "status", "count", "last_seen_at"]
    list_filter = ["status", "severity", "kind"]
    # Alerts change only through the services (audit chain); the admin only looks.
    readonly_fields = [field.name for field in Alert._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    list_display = ["received_at", "registration", "source", "kind", "client_seq"]
    list_filter = ["source", "kind"]
    readonly_fields = [field.name for field in Signal._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(InvigilatorAction)
class InvigilatorActionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "registration", "kind", "author", "confirmed_at"]
    readonly_fields = [field.name for field in InvigilatorAction._meta.fields]

    def has_add_permission(self, request):
        return False
