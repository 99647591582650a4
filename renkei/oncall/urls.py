from __future__ import annotations

from django.urls import path

from renkei.oncall import cover_views, views

app_name = "oncall"

urlpatterns = [
    path("", views.home, name="home"),
    path("now/", views.now, name="now"),
    path("rotas/new/", views.rota_edit, name="rota_new"),
    path("rotas/<uuid:code>/", views.rota_detail, name="rota"),
    path("rotas/<uuid:code>/edit/", views.rota_edit, name="rota_edit"),
    path("rotas/<uuid:code>/print/", views.rota_print, name="rota_print"),
    path("rotas/<uuid:code>/export.xlsx", views.rota_xlsx, name="rota_xlsx"),
    path("rotas/<uuid:code>/members/", views.member_add, name="member_add"),
    path("rotas/<uuid:code>/rules/", views.rule_add, name="rule_add"),
    path("rotas/<uuid:code>/override/", views.period_override, name="override"),
    path("rotas/<uuid:code>/unavailable/", views.unavailable_add, name="unavailable_add"),
    path("rotas/<uuid:code>/month/<str:step>/", views.month_step, name="month_step"),
    path("members/<uuid:code>/remove/", views.member_remove, name="member_remove"),
    path("shifts/<uuid:code>/", views.shift_detail, name="shift"),
    path("swaps/<uuid:code>/", views.swap_detail, name="swap"),
    path("patients/<uuid:code>/chain/", cover_views.chain, name="chain"),
    path("patients/<uuid:code>/cover/", cover_views.cover_edit, name="cover"),
    path("absences/", cover_views.absences, name="absences"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
]
