from django.urls import path

from .consumers import SupervisorConsumer

websocket_urlpatterns = [path("ws/supervision/exam/<int:exam_id>/", SupervisorConsumer.as_asgi())]
