from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "invigilate.helpdesk"
    label = "helpdesk"
