from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "invigilate.media"
    label = "media"

    def ready(self):
        from . import candidate_messages, events  # noqa: F401  (registers handlers and event types)
        from .ice import ice_loopback_restrict

        ice_loopback_restrict()
