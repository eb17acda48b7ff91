from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "invigilate.media"
    label = "media"
