from __future__ import annotations

from django.urls import path

from renkei.oncall import bed_uses, beds_views, cover_views, search_views, views

app_name = "oncall"

urlpatterns = [
    path("", views.home, name="home"),
    path("now/", views.now, name="now"),
    path("rotas/new/", views.rota_edit, name="rota_new"),
    path("rotas/<uuid:code>/", views.rota_detail, name="rota"),
    path("rotas/<uuid:code>/edit/", views.rota_edit, name="rota_edit"),
    path("rotas/<uuid:code>/print/", views.rota_print, name="rota_print"),
    path("rotas/<uuid:code>/export.<str:fmt>", views.rota_export, name="rota_export"),
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
    path("patients/<uuid:code>/backup-bed/", beds_views.register, name="bed_register"),
    path("beds/", beds_views.bed_list, name="beds"),
    path("beds/uses/", bed_uses.bed_uses, name="bed_uses"),
    path("beds/uses.<str:fmt>", bed_uses.bed_uses_export, name="bed_uses_export"),
    path("beds/offers/new/", beds_views.offer_edit, name="offer_new"),
    path("beds/offers/<uuid:code>/", beds_views.offer_edit, name="offer_edit"),
    path("beds/<uuid:code>/", beds_views.bed_detail, name="bed"),
    path("beds/<uuid:code>/<str:step>/", beds_views.bed_step, name="bed_step"),
    path("cooperation/", beds_views.cooperation, name="cooperation"),
    path("patients/<uuid:code>/search/", search_views.new_search, name="search_new"),
    path("patients/<uuid:code>/cover/print/", search_views.cover_print, name="cover_print"),
    path("searches/", search_views.search_list, name="searches"),
    path("searches/<uuid:code>/", search_views.search_detail, name="search"),
    path("searches/<uuid:code>/<str:step>/", search_views.search_step, name="search_step"),
    path("cooperation/<uuid:code>/", beds_views.confirm, name="confirm"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
]
