"""Small things that look careless (issue 9 §6): page titles, the favicon, Japanese error pages
under production settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

pytestmark = pytest.mark.django_db


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


# Used as ROOT_URLCONF by the error-page test: the project's routes plus one that fails.
urlpatterns = [path("boom/", _boom), path("", include("renkei.urls"))]


def _title(response: Any) -> str:
    match = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    assert match, "no <title>"
    return match.group(1).strip()


def test_page_titles_name_the_page_then_the_site(client: Client, settings: Any) -> None:
    site = settings.SITE_NAME
    assert _title(client.get("/")) == f"ホーム | {site}"
    assert _title(client.get("/accounts/login/")).endswith(f" | {site}")
    assert _title(client.get("/directory/")).endswith(f" | {site}")
    assert not _title(client.get("/events/")).startswith(" |")


def test_a_page_without_a_title_shows_the_site_name_alone(settings: Any) -> None:
    from django.template import engines

    html = engines["django"].from_string('{% extends "base.html" %}').render({})
    assert re.search(r"<title>\s*" + re.escape(settings.SITE_NAME) + r"\s*</title>", html)


def test_favicon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.ico"
    found = finders.find("img/favicon.ico")
    assert isinstance(found, str)
    assert Path(found).read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_favicon_in_production(production: None) -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert re.fullmatch(r"/static/img/favicon\.[0-9a-f]{12}\.ico", response["Location"])


@pytest.fixture
def production(settings: Any, tmp_path: Path) -> None:
    """DEBUG off, the production static storage, collected files."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)


def test_404_in_japanese_under_production_settings(production: None) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "ページが見つかりません" in body and 'lang="ja"' in body
    assert "Not Found" not in body


def test_500_in_japanese_under_production_settings(production: None, settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "システムエラーが発生しました" in body and 'lang="ja"' in body
    assert "a bug" not in body and "Traceback" not in body
