from __future__ import annotations

from django.urls import path

from renkei.pdca import views

app_name = "pdca"

urlpatterns = [
    path("", views.home, name="home"),
    path("surveys/new", views.survey_new, name="survey_new"),
    path("surveys/<uuid:code>/", views.survey, name="survey"),
    path("surveys/<uuid:code>/export.<str:fmt>", views.survey_export, name="survey_export"),
    path("responses/<uuid:code>/", views.response, name="response"),
    path("indicators/compare", views.compare, name="compare"),
    path("indicators/values", views.value_enter, name="value_enter"),
    path("indicators/compute", views.compute_start, name="compute"),
    path("indicators/population", views.population_import, name="population"),
    path("indicators/runs/<uuid:code>", views.run, name="run"),
    path("indicators/<str:code>/", views.dashboard, name="dashboard"),
]
