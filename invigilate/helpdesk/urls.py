from django.urls import path

from . import views

app_name = "helpdesk"

urlpatterns = [
    # The candidate's side (signed in, or by ticket number from the sign-in page).
    path("help/", views.help_submit, name="help_submit"),
    path("help/status/", views.help_status, name="help_status"),
    path("help/cancel/", views.help_cancel, name="help_cancel"),
    # The technician's console.
    path("", views.console, name="home"),
    path("pull/", views.pull_oldest, name="pull"),
    path("presence/", views.presence_choose, name="presence"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/photo/", views.candidate_photo, name="photo"),
    path("requests/<int:pk>/<slug:action>/", views.request_action, name="action"),
]
