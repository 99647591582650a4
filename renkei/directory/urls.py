from __future__ import annotations

from django.urls import path

from renkei.directory import areas_views, imports_views, views

app_name = "directory"

urlpatterns = [
    path("", views.search, name="search"),
    path("points.json", views.points, name="points"),
    path("places/", views.place_fields, name="place_fields"),
    path("export.<str:fmt>", views.export, name="export"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("handbook/<str:code>/", views.handbook, name="handbook"),
    path("print/", views.print_list, name="print"),
    path("imports/", imports_views.imports, name="imports"),
    path("imports/<uuid:code>/", imports_views.import_detail, name="import_detail"),
    path("imports/areas/", areas_views.area_import, name="area_import"),
    path("<uuid:code>/", views.detail, name="detail"),
    path("<uuid:code>/edit/", views.edit, name="edit"),
    path("<uuid:code>/vacancy/", views.vacancy, name="vacancy"),
    path("<uuid:code>/vacancy/confirm/", views.confirm_vacancy, name="confirm_vacancy"),
]
