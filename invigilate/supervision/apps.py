from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "invigilate.supervision"
    label = "supervision"

    def ready(self):
        from . import events, timeline  # noqa: F401  (declares the event types, registers timeline providers)
