from django.urls import path

from .consumers import PhoneConsumer

websocket_urlpatterns = [path("ws/phone/", PhoneConsumer.as_asgi())]
