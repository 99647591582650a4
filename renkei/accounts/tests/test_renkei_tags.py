"""{% asset %} and {% link %}: the layout's per-process memos print what {% static %} and
{% url %} print (ADR 0064)."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import override_settings


def render(source: str, *, autoescape: bool = True) -> str:
    return Template("{% load static renkei_tags %}" + source).render(Context(autoescape=autoescape))


def test_asset_and_link_print_what_static_and_url_print() -> None:
    for mine, django_s in (
        ("{% asset 'css/renkei.css' %}", "{% static 'css/renkei.css' %}"),
        ("{% link 'directory:search' %}", "{% url 'directory:search' %}"),
        ('{% link "directory:export" "csv" %}', "{% url 'directory:export' 'csv' %}"),
    ):
        assert render(mine) == render(django_s) != ""
        assert render(mine, autoescape=False) == render(django_s, autoescape=False)


def test_asset_follows_a_changed_static_url() -> None:
    before = render("{% asset 'css/renkei.css' %}")
    with override_settings(STATIC_URL="/elsewhere/"):
        moved = render("{% asset 'css/renkei.css' %}")
        assert moved == render("{% static 'css/renkei.css' %}")
        assert moved.startswith("/elsewhere/") and moved != before
    assert render("{% asset 'css/renkei.css' %}") == before


def test_link_follows_the_script_prefix() -> None:
    from django.urls import set_script_prefix

    plain = render("{% link 'directory:search' %}")
    set_script_prefix("/renkei/")
    try:
        assert render("{% link 'directory:search' %}") == "/renkei" + plain
    finally:
        set_script_prefix("/")


@pytest.mark.parametrize(
    "source",
    ["{% asset path %}", "{% asset %}", "{% asset 'a' 'b' %}", "{% link name %}", "{% link %}"],
)
def test_only_quoted_constants(source: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        render(source)
