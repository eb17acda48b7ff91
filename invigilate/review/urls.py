from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("", views.home, name="home"),
    path("exam/<int:exam_id>/", views.exam, name="exam"),
    path("candidate/<int:registration_id>/", views.candidate, name="candidate"),
    path("candidate/<int:registration_id>/file/<slug:category>/<str:key>", views.evidence_file, name="file"),
    path("candidate/<int:registration_id>/decide/", views.decide, name="decide"),
    path("candidate/<int:registration_id>/export.zip", views.export, name="export"),
    path("decision/<int:decision_id>/second/", views.second, name="second"),
]
