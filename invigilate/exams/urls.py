from django.urls import path

from . import views

app_name = "exams"

urlpatterns = [
    path("journey/", views.journey, name="journey"),
    path("journey/state/", views.journey_state, name="journey_state"),
    path("journey/bandwidth/", views.bandwidth, name="bandwidth"),
    path("journey/device-check/", views.device_check, name="device_check"),
    path("journey/identity/", views.identity_attempt, name="identity_attempt"),
    path("journey/identity/status/", views.identity_status, name="identity_status"),
    path("journey/pairing/done/", views.pairing_done, name="pairing_done"),
    path("journey/paper/done/", views.paper_done, name="paper_done"),
    path("journey/paper/<str:side>/", views.paper_snapshot, name="paper_snapshot"),
    path("journey/answers/<int:position>/", views.answer_write, name="answer_write"),
    path("journey/answers/<int:position>/recording/", views.answer_recording, name="answer_recording"),
    path("journey/advance/", views.question_advance, name="question_advance"),
    path("journey/submit/", views.submit, name="submit"),
    path("journey/submission/", views.submission_status, name="submission_status"),
    path("journey/incident/", views.incident_report, name="incident_report"),
    path("identity/review/", views.identity_review, name="identity_review"),
    path("identity/<int:attempt_id>/decide/", views.identity_decide, name="identity_decide"),
    path("identity/<int:attempt_id>/photo/", views.identity_photo, name="identity_photo"),
    path("registrations/<int:registration_id>/photo/", views.registered_photo, name="registered_photo"),
    path("<int:exam_id>/readiness/", views.readiness, name="readiness"),
]
