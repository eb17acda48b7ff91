from django.urls import path

from . import views

app_name = "media"

urlpatterns = [
    path("focus/<int:registration_id>/", views.focus, name="focus"),
    path("room/<int:room_id>/", views.room_thumbnails, name="room_thumbnails"),
    path("thumbnails/<int:registration_id>/<str:track>/<int:taken_ms>.jpg", views.thumbnail, name="thumbnail"),
    path("ice/", views.ice_servers, name="ice_servers"),
    path("check/", views.media_check, name="media_check"),
]
