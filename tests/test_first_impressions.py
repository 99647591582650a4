"""Small things that look careless (issue 9 §6): page titles, the favicon, Japanese error pages
under production settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.test import Client
from django.urls import include, path, reverse

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


class _SampleForm(forms.Form):
    name = forms.CharField(label="氏名")
    kind = forms.ChoiceField(
        label="種別", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect
    )
    note = forms.CharField(label="備考", required=False)
    token = forms.CharField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        raise forms.ValidationError("全体の誤り")


def test_the_error_summary_lists_and_links_every_field_in_error() -> None:
    form = _SampleForm(data={"note": "ok"})
    html = render_to_string("components/form_errors.html", {"form": form})
    # Each field in error once, by its label, linked to the element the page gives that id.
    assert '<a href="#id_name">氏名</a>' in html
    assert '<a href="#id_kind">種別</a>' in html
    assert "備考" not in html
    assert "全体の誤り" in html and "入力内容を確認してください" in html
    page = form.as_div()
    assert 'id="id_name"' in page and 'id="id_kind"' in page
    assert render_to_string("components/form_errors.html", {"form": _SampleForm()}).strip() == ""


def test_a_real_form_shows_the_linked_summary(client: Client) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": "not-an-address"})
    body = response.content.decode()
    assert 'class="notice error error-summary"' in body
    assert 'href="#id_email"' in body and 'id="id_email"' in body


def test_every_form_with_several_fields_includes_the_error_summary() -> None:
    """A form drawn field by field (components/field.html) with two fields or more also draws
    the summary for that form, so its errors are listed at the top and linked. The page counts,
    includes followed: a shared head may draw the summary, and a partial of fields is covered
    when every page that includes it draws the summary."""
    root = Path(__file__).resolve().parent.parent / "templates"
    field_re = re.compile(r'components/field\.html" with field=(\w+)\.')
    summary_re = re.compile(r'components/form_errors\.html"(?: with form=(\w+))?')
    include_re = re.compile(r'{%\s*include\s+"([^"]+)"')
    texts = {str(t.relative_to(root)): t.read_text(encoding="utf-8") for t in root.rglob("*.html")}

    def summarised(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        text = texts.get(name, "")
        found = {m or "form" for m in summary_re.findall(text)}
        for inc in include_re.findall(text):
            if inc not in seen and inc != "components/form_errors.html":
                found |= summarised(inc, seen | {name})
        return found

    includers: dict[str, list[str]] = {}
    for name, text in texts.items():
        for inc in include_re.findall(text):
            includers.setdefault(inc, []).append(name)
    missing = []
    for name, text in texts.items():
        forms_drawn: dict[str, int] = {}
        for form in field_re.findall(text):
            forms_drawn[form] = forms_drawn.get(form, 0) + 1
        for form, count in forms_drawn.items():
            if count < 2 or form in summarised(name):
                continue
            pages = includers.get(name, [])
            if pages and all(form in summarised(page) for page in pages):
                continue
            missing.append(f"{name}: {form}")
    assert not missing, missing


def test_no_template_uses_inline_event_handlers() -> None:
    """The Content-Security-Policy allows only scripts with the page's nonce, so an inline
    handler (onclick="window.print()") is a button that silently does nothing: print buttons
    say data-print and static/js/print.js (or ui.js) listens."""
    root = Path(__file__).resolve().parent.parent / "templates"
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
    found = [
        f"{template.relative_to(root)}: {m.group(0)[:60]}"
        for template in root.rglob("*.html")
        for m in handler.finditer(template.read_text(encoding="utf-8"))
    ]
    assert not found, found


def test_print_pages_load_the_print_listener() -> None:
    root = Path(__file__).resolve().parent.parent / "templates"
    missing = []
    for template in root.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        standalone = "<!doctype html>" in text.lower()
        listens = "js/print.js" in text or "[data-print]" in text
        if "data-print" in text and standalone and not listens:
            missing.append(str(template.relative_to(root)))
    assert not missing, missing
    assert finders.find("js/print.js") is not None
