from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from renkei import views
from renkei.api import api
from renkei.ops import monitoring

urlpatterns = [
    # First: the JSON API answers hundreds of searches a second, and each pattern tried before
    # it costs a resolver call (no other prefix overlaps it, so the order changes no match).
    path("api/v1/", api.urls),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include("renkei.accounts.urls")),
    path("directory/", include("renkei.directory.urls")),
    path("referrals/", include("renkei.referrals.urls")),
    path("desk/", include("renkei.desk.urls")),
    path("events/", include("renkei.events.urls")),
    path("mentoring/", include("renkei.mentoring.urls")),
    path("oncall/", include("renkei.oncall.urls")),
    path("courses/", include("renkei.courses.urls")),
    path("materials/", include("renkei.courses.urls_materials")),
    path("care/", include("renkei.care.urls")),
    path("programmes/", include("renkei.programmes.urls")),
    path("pdca/", include("renkei.pdca.urls")),
    path("api/hsds/", include("renkei.directory.hsds")),
    path("api/fhir/", include("renkei.fhir_routes")),
    path("api/fhir/", include("renkei.care.fhir_urls")),
    path("api/fhir/", include("renkei.referrals.fhir_urls")),
    path("api/fhir/", include("renkei.oncall.fhir")),
    path("api/fhir/", include("renkei.pdca.fhir")),
    path("api/fhir/", include("renkei.directory.fhir")),
    path("admin/", admin.site.urls),
]
