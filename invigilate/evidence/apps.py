from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "invigilate.evidence"
    label = "evidence"

    def ready(self):
        from . import events, phone_messages, tasks  # noqa: F401  (event types, phone handlers, tasks)
