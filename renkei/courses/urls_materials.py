from __future__ import annotations

from django.urls import path

from renkei.courses import material_views as views

app_name = "materials"

urlpatterns = [
    path("", views.material_list, name="list"),
    path("<uuid:code>/", views.material_detail, name="detail"),
    path("<uuid:code>/download/", views.material_download, name="download"),
    path("<uuid:code>/v/<int:pk>/", views.material_version, name="version"),
    path("manage/", views.manage, name="manage"),
    path("manage/<uuid:code>/", views.manage_detail, name="manage_detail"),
]
