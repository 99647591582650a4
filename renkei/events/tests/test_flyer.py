from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Organization
from renkei.events.models import Event, wareki_day
from renkei.events.testing import make_event
from renkei.events.tests.conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def ebina_flyer(organiser: Organization) -> Event:
    return make_event(
        organiser,
        title="在宅・施設での急変時対応",
        starts_at=local(2035, 10, 24, 18, 30),
        apply_until=local(2035, 10, 10, 23, 59, 59),
        capacity=30,
        capacity_note="程度",
        fax="046-000-8651",
        lecturers=[("相模 一郎", "さがみ台中央病院", "院長", "心不全の急変時対応")],
    )


def test_wareki_day_prints_era_and_weekday() -> None:
    """The flyer's date format: 令和7年10月24日(金)."""
    import datetime as dt

    assert wareki_day(dt.date(2025, 10, 24)) == "令和7年10月24日(金)"
    assert wareki_day(dt.date(2019, 5, 1)) == "令和元年5月1日(水)"


def test_flyer_has_qr_code_and_wareki_date(client: Client, ebina_flyer: Event) -> None:
    """A4 print page with lecturer, capacity, deadline, 和暦 date and an inline QR SVG
    that encodes the application page (no external service)."""
    response = client.get(reverse("events:flyer", args=[ebina_flyer.code]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body and "<?xml" not in body
    assert "令和17年10月24日(水)" in body
    assert "相模 一郎" in body and "30名程度" in body
    assert "令和17年10月10日(水)" in body
    assert reverse("events:apply", args=[ebina_flyer.code]) in body
    assert "@page" in body and "A4" in body
    assert "http" not in body.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", ""
    )


def test_qr_encodes_the_absolute_application_url(client: Client, ebina_flyer: Event) -> None:
    """The flyer's QR is exactly the code for SITE_URL + the application path, and differs
    from the code of any other address."""
    from django.conf import settings

    from renkei.events.views.public import _qr_svg

    url = settings.SITE_URL.rstrip("/") + reverse("events:apply", args=[ebina_flyer.code])
    body = client.get(reverse("events:flyer", args=[ebina_flyer.code])).content.decode()
    assert _qr_svg(url) in body
    assert _qr_svg(url + "x") not in body


def test_fax_sheet_has_the_form_fields(client: Client, ebina_flyer: Event) -> None:
    """The FAX sheet carries the organiser's FAX number and the paper form's fields."""
    body = client.get(reverse("events:fax_sheet", args=[ebina_flyer.code])).content.decode()
    for text in (
        "046-000-8651",
        "事業所名",
        "事業所連絡担当者",
        "ふりがな",
        "職種",
        "聞いてみたい職種",
        "聞いてみたい内容",
        "令和17年10月10日(水)",
    ):
        assert text in body, text


def test_event_page_and_list_are_public(client: Client, ebina_flyer: Event) -> None:
    """Anyone finds the upcoming event in the list and opens its page."""
    listing = client.get(reverse("events:list")).content.decode()
    assert ebina_flyer.title in listing
    page = client.get(ebina_flyer.get_absolute_url()).content.decode()
    assert "申し込む" in page and "相模 一郎" in page


def test_list_filters_by_kind_and_municipality(
    client: Client, ebina_flyer: Event, organiser: Organization
) -> None:
    """Kind and municipality filters narrow the list."""
    from renkei.events.models import EventKind

    make_event(organiser, title="人生会議を知ろう", kind=EventKind.PUBLIC_LECTURE)
    body = client.get(reverse("events:list") + "?kind=public_lecture").content.decode()
    assert "人生会議を知ろう" in body and ebina_flyer.title not in body
    body = client.get(reverse("events:list") + "?municipality=144011").content.decode()
    assert "人生会議を知ろう" not in body
