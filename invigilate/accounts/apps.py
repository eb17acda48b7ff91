from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "invigilate.accounts"
    label = "accounts"

    def ready(self):
        from . import checks  # noqa: F401
