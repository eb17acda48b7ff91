from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExamsConfig(AppConfig):
    name = "invigilate.exams"
    label = "exams"
    verbose_name = _("Exams")

    def ready(self):
        from . import events  # noqa: F401  (declares the event types)
