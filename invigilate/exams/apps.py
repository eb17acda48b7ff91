from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "invigilate.exams"
    label = "exams"

    def ready(self):
        from . import events  # noqa: F401  (declares the event types)
