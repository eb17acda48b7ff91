from django.apps import AppConfig


class ProctoringConfig(AppConfig):
    name = "invigilate.proctoring"
    label = "proctoring"

    def ready(self):
        from . import candidate_messages, events, hooks  # noqa: F401  (registers handlers and events)

        hooks.connect()
