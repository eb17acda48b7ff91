from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "invigilate.evidence"
    label = "evidence"
