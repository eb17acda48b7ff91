from django.urls import path

from .consumers import RoomDashboardConsumer

websocket_urlpatterns = [path("ws/room/<int:room_id>/", RoomDashboardConsumer.as_asgi())]
