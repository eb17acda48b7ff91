from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "invigilate.evidence"
    label = "evidence"

    def ready(self):
        from . import events, tasks  # noqa: F401  (declares event types, registers tasks)
