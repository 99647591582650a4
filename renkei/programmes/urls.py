from __future__ import annotations

from django.urls import path

from renkei.programmes import views

app_name = "programmes"

urlpatterns = [
    path("", views.home, name="home"),
]
