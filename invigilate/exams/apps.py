from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "invigilate.exams"
    label = "exams"
