from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "invigilate.review"
    label = "review"
    verbose_name = _("Review")

    def ready(self):
        from . import files, providers  # noqa: F401  (registers the timeline providers and file resolvers)
