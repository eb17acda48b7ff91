from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "invigilate.accounts"
    label = "accounts"
