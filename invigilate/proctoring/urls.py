from django.urls import path

from . import views

app_name = "proctoring"

urlpatterns = [
    path("", views.home, name="home"),
    path("room/<int:room_id>/", views.room, name="room"),
    path("room/<int:room_id>/wall/", views.wall, name="wall"),
    path("room/<int:room_id>/feed/", views.feed, name="feed"),
    path("room/<int:room_id>/tile/<int:registration_id>/", views.tile, name="tile"),
    path("alert/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alert/<int:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("alert/<int:alert_id>/dismiss/", views.alert_dismiss, name="alert_dismiss"),
    path("candidate/<int:registration_id>/", views.drawer, name="drawer"),
    path("candidate/<int:registration_id>/photo/", views.photo, name="photo"),
    path("candidate/<int:registration_id>/action/", views.action, name="action"),
]
