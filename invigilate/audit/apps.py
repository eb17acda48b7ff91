from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "invigilate.audit"
    label = "audit"
