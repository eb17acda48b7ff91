"""Every websocket URL. Each app keeps its own ``routing.websocket_urlpatterns``."""

from importlib import import_module

from django.urls import path

from .consumers import CandidateConsumer

APPS_WITH_SOCKETS = ["proctoring", "media", "helpdesk", "supervision", "evidence", "review"]

websocket_urlpatterns = [path("ws/candidate/", CandidateConsumer.as_asgi())]
for app in APPS_WITH_SOCKETS:
    websocket_urlpatterns += import_module(f"invigilate.{app}.routing").websocket_urlpatterns
