from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("staff/login/", views.StaffLoginView.as_view(), name="staff_login"),
    path("staff/logout/", auth_views.LogoutView.as_view(), name="staff_logout"),
    path("staff/", views.staff_home, name="home"),
    path("candidate/login/", views.candidate_login_view, name="candidate_login"),
    path("candidate/logout/", views.candidate_logout, name="candidate_logout"),
    path("candidate/", views.candidate_home, name="candidate_home"),
]
