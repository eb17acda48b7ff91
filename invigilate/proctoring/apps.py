from django.apps import AppConfig


class ProctoringConfig(AppConfig):
    name = "invigilate.proctoring"
    label = "proctoring"
