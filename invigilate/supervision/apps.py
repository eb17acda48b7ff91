from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "invigilate.supervision"
    label = "supervision"
