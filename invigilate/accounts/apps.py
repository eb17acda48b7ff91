from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "invigilate.accounts"
    label = "accounts"
    verbose_name = _("Staff and candidate sign-ins")

    def ready(self):
        from . import checks  # noqa: F401
