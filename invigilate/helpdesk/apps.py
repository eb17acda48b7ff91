from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "invigilate.helpdesk"
    label = "helpdesk"

    def ready(self):
        from . import events  # noqa: F401  (declares the event types)
