from django.urls import path

from .consumers import TechnicianConsumer

websocket_urlpatterns = [path("ws/helpdesk/", TechnicianConsumer.as_asgi())]
