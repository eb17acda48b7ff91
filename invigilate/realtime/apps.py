from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "invigilate.realtime"
    label = "realtime"

    def ready(self):
        from . import candidate_messages  # noqa: F401  (registers the handlers)
