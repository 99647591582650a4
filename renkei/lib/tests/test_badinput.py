"""The middleware that refuses NUL, broken UTF-8 and numbers past 64 bits for every URL, in
the format of the door that was called (issue 17 §1). Each URL below was a 500 on PostgreSQL
before it; tests/test_route_walk.py walks every route with the same values."""

from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts.models import OrgKind, Role
from renkei.directory.models import Facility
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

ISSUE_URLS = [
    "/directory/?q=%00",
    "/directory/export.csv?q=%00",
    "/directory/export.xlsx?q=a%00",
    "/directory/points.json?q=%00",
    "/directory/handbook/%00/",
    "/events/?municipality=%00",
    "/api/fhir/Location?name=%00",
    "/api/fhir/Location?address-city=%00",
    "/api/fhir/HealthcareService?name=%00",
    "/api/fhir/HealthcareService?service-category=%00",
    "/api/fhir/Organization?name=%00",
    "/api/hsds/services?q=%00",
    "/api/hsds/services?search=%00",
    "/api/v1/directory/facilities?q=%00",
    "/directory/?q=%ED%A0%80",  # a lone surrogate, as UTF-8 would spell it
    "/directory/?q=%FF",  # not UTF-8 at all
    "/api/v1/directory/facilities?page=1000000000000000000000000000000",
    "/directory/?page=-1000000000000000000000000000000",
]


def _get(client: Client, url: str) -> object:
    path, _, query = url.partition("?")
    return client.generic("GET", path, QUERY_STRING=query)


@pytest.mark.parametrize("url", ISSUE_URLS)
def test_each_door_refuses_in_its_own_format(client: Client, url: str) -> None:
    response = _get(client, url)
    assert response.status_code == 400  # type: ignore[attr-defined]
    content_type = response["Content-Type"]  # type: ignore[index]
    if url.startswith("/api/fhir/"):
        assert content_type.startswith("application/fhir+json")
        outcome = response.json()  # type: ignore[attr-defined]
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["severity"] == "error"
        message = outcome["issue"][0]["diagnostics"]
    elif url.startswith("/api/"):
        message = response.json()["detail"]  # type: ignore[attr-defined]
    else:
        assert content_type.startswith("text/html")
        message = response.content.decode()  # type: ignore[attr-defined]
        assert "入力内容を処理できません" in message
    assert any(word in message for word in ("NUL", "文字コード", "数値が大きすぎます"))


def test_a_megabyte_query_value_is_refused_plainly(client: Client) -> None:
    response = client.get("/directory/", {"q": "あ" * 1_000_000})
    assert response.status_code == 400
    assert "長すぎます" in response.content.decode()


def test_form_and_json_bodies_are_checked_and_nothing_changes(client: Client) -> None:
    city = make_org("藤沢市（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051")
    sign_in(client, make_member(city, Role.MUNICIPAL_OFFICER, username="badinput").user)
    facility = make_facility("特養テスト苑", municipality_code="142051")
    url = f"/api/v1/directory/facilities/{facility.code}"
    for body in ('{"name": "a\\u0000b"}', '{"name": "\\ud800"}', '{"care_level_max": 1e400}'):
        response = client.patch(url, body, content_type="application/json")
        assert response.status_code == 400, body
    response = client.patch(url, b'{"name": "\xff"}', content_type="application/json")
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]
    response = client.patch(url, {"care_level_max": 10**30}, content_type="application/json")
    assert response.status_code == 400
    assert "数値が大きすぎます" in response.json()["detail"]
    response = client.post(f"/directory/{facility.code}/edit/", {"name": "特養\x00"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    facility.refresh_from_db()
    assert facility.name == "特養テスト苑"
    assert Facility.objects.count() == 1


def test_multipart_type_with_a_json_body_is_a_4xx(client: Client) -> None:
    city = make_org("藤沢市（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051")
    sign_in(client, make_member(city, Role.MUNICIPAL_OFFICER, username="multipart").user)
    for content_type in ("multipart/form-data; boundary=xx", "multipart/form-data"):
        response = client.post(
            "/api/v1/referrals/surveys", b'{"title": "x"}', content_type=content_type
        )
        assert 400 <= response.status_code < 500, content_type


def test_the_api_reads_json_only(client: Client) -> None:
    """A form or plain text sent to the API is a 415, not read as an empty body."""
    city = make_org("藤沢市（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051")
    sign_in(client, make_member(city, Role.MUNICIPAL_OFFICER, username="unsupported").user)
    url = "/api/v1/referrals/surveys"
    for body, content_type in (
        ("title=x", "application/x-www-form-urlencoded"),
        ('{"title": "x"}', "text/plain"),
    ):
        response = client.post(url, body, content_type=content_type)
        assert response.status_code == 415, content_type
        assert "application/json" in response.json()["detail"]


@pytest.mark.parametrize("body", ['"zz"', "[1, 2]", "7", "null", "true"])
def test_api_bodies_are_json_objects(client: Client, body: str) -> None:
    """Issue 17 §2: the body "zz" renamed an event to 「Zz」; now any body that is not an
    object is a 422 with a Japanese message and nothing changes."""
    from renkei.events.models import Event
    from renkei.events.testing import make_event

    org = make_org("研修主催（テスト）", OrgKind.COORDINATION_CENTER, municipality_code="142158")
    sign_in(client, make_member(org, Role.COUNSELOR, username="object-body").user)
    event = make_event(org, title="多職種研修会")
    response = client.patch(
        f"/api/v1/events/manage/events/{event.code}", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert "オブジェクト" in response.json()["detail"]
    assert Event.objects.get(pk=event.pk).title == "多職種研修会"


@pytest.mark.parametrize("path", ["/directory/%FF%FE/", "/directory/handbook/%ED%A0%80/"])
def test_paths_that_are_not_utf8_are_refused(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "文字コード" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/api/hsds/services?page=900000000000000000",
        "/api/hsds/organizations?page=900000000000000000",
        "/api/v1/directory/facilities?page=900000000000000000",
        "/directory/?page=900000000000000000",
        "/api/fhir/Location?_offset=9200000000000000000",
    ],
)
def test_a_page_within_64_bits_but_past_any_data_is_a_4xx(client: Client, url: str) -> None:
    """Found after the middleware: page 9e17 passes it, but its offset overflowed (HSDS 500)."""
    response = _get(client, url)
    assert response.status_code < 500  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "query",
    [
        "capability=suction&vacancy=1&lat=35.1&lng=139.5&radius_km=20&sort=distance",
        "page=" + "9" * 18,
        "page=" + "9" * 19,
        "page=-" + "9" * 30,
        "id=12345678901234567890123",
        "q=" + "a" * 1999,
        "q=" + "a" * 2001,
        "q=a\x00b",
        "q=a+b&q=c",
        "q=%E3%81%82",
        "",
    ],
)
def test_the_plain_query_shortcut_agrees_with_the_full_check(query: str) -> None:
    """A query string the shortcut lets through is one the pair-by-pair check passes; the
    others still go through that check (a 19-digit page is refused either way)."""
    from renkei.lib.badinput import MAX_QUERY_VALUE, Refused, _check_urlencoded, _plain

    def full_check() -> bool:
        data = query.encode("latin-1")
        try:
            # The pair-by-pair check alone, on bytes (the shortcut takes only str).
            _check_urlencoded(data, max_value=MAX_QUERY_VALUE)
        except Refused:
            return False
        return True

    def with_shortcut() -> bool:
        try:
            _check_urlencoded(query, max_value=MAX_QUERY_VALUE)
        except Refused:
            return False
        return True

    if _plain(query, MAX_QUERY_VALUE):
        assert full_check()
    assert with_shortcut() == full_check()
    if "9" * 19 in query or "\x00" in query or "a" * 2001 in query:
        assert not with_shortcut()
