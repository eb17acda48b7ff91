from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("", views.home, name="home"),
    path("exam/<int:exam_id>/", views.overview, name="overview"),
    path("exam/<int:exam_id>/invigilator/<int:user_id>/", views.invigilator, name="invigilator"),
    path("exam/<int:exam_id>/notes/", views.note_add, name="note_add"),
    path("room/<int:room_id>/", views.drop_in, name="drop_in"),
    path("room/<int:room_id>/staff/", views.room_staff, name="room_staff"),
    path("messages/", views.staff_messages, name="messages"),
    path("console/", views.console_staff, name="console_staff"),
]
