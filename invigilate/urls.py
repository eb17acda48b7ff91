from django.conf.urls.i18n import i18n_patterns  # noqa: F401
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from invigilate.accounts import views as account_views

urlpatterns = [
    path("", account_views.landing, name="landing"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", include("invigilate.accounts.urls")),
    path("exams/", include("invigilate.exams.urls")),
    path("proctoring/", include("invigilate.proctoring.urls")),
    path("media/", include("invigilate.media.urls")),
    path("helpdesk/", include("invigilate.helpdesk.urls")),
    path("supervision/", include("invigilate.supervision.urls")),
    path("evidence/", include("invigilate.evidence.urls")),
    path("review/", include("invigilate.review.urls")),
]
