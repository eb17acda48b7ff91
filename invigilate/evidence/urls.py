from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    # Served by invigilate.evidence.tus.TusApplication in front of Django; named here for reverse().
    path("tus/", views.tus_not_routed, name="tus"),
    path("tus/<uuid:upload_id>", views.tus_not_routed, name="tus_upload"),
    path("pairing/", views.pairing_panel, name="pairing_panel"),
    path("recording-check/", views.pc_recorder, name="pc_recorder"),
    path("phone/", views.phone, name="phone"),
    path("phone/pair/<str:token>/", views.phone_pair, name="phone_pair"),
    path("phone/state/", views.phone_state, name="phone_state"),
    path("recordings/", views.recording_report, name="recording_report"),
    path("interruptions/", views.interruption, name="interruption"),
    path("status/", views.status, name="status"),
    path("registrations/<int:registration_id>/continuity/", views.continuity, name="continuity"),
    path("registrations/<int:registration_id>/placement/", views.placement, name="placement"),
]
