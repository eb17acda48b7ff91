from django.urls import path

from .consumers import FocusViewConsumer, RoomMediaConsumer

websocket_urlpatterns = [
    path("ws/media/focus/<int:registration_id>/", FocusViewConsumer.as_asgi()),
    path("ws/media/room/<int:room_id>/", RoomMediaConsumer.as_asgi()),
]
