"""The Open Referral HSDS 3.0 API at /api/hsds/, validated against the official schemas."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from renkei.directory import interop
from renkei.directory.models import Facility, VacancyStatus
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "data" / "hsds-3.0" / "schema"
API = "/api/hsds/"
SECRETS = ("空き数は内緒", "連携窓口は内緒", "受入れ条件の補足は内緒")
CORPORATE_NUMBER = "1234567890123"


def _date_time(value: object) -> bool:
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        return "T" in value and parsed.tzinfo is not None
    return True


def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


# jsonschema checks "date-time" and "uri" only with optional packages we do not install.
FORMATS = FormatChecker()
FORMATS.checks("date-time", raises=ValueError)(_date_time)
FORMATS.checks("uri", raises=ValueError)(_uri)


@functools.cache
def _registry() -> Registry:
    # Non-compiled schemas refer to each other by file name ("metadata.json").
    return Registry().with_resources(
        (p.name, Resource.from_contents(json.loads(p.read_text()), DRAFT202012))
        for p in SCHEMAS.glob("*.json")
    )


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    return Draft202012Validator(schema, registry=_registry(), format_checker=FORMATS)


def schema_errors(instance: Any, name: str) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(name).iter_errors(instance)
    ]


def get(client: Client, path: str, **params: Any) -> Any:
    response = client.get(API + path, params)
    assert response.status_code == 200, response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.fixture
def directory() -> dict[str, Facility]:
    sakura = make_facility(
        "さくら苑",
        kana="サクラエン",
        capability_codes=["suction", "tube-feeding"],
        corporation_number=CORPORATE_NUMBER,
        corporation_name="社会福祉法人さくら会",
        postal_code="2510052",
        address="神奈川県藤沢市朝日町1-1",
        address_extra="さくらビル2階",
        phone="0466-00-0001",
        fax="0466-00-0002",
        hours="月〜金 9:00〜17:00",
        closed_days="土日祝",
        care_level_min=3,
        care_level_max=7,
        accepts_dementia=True,
        cost_min=100_000,
        cost_max=150_000,
        description="看取りまで対応する特養です。",
        vacancy=VacancyStatus.AVAILABLE,
        vacancy_count=3,
        vacancy_note=SECRETS[0],
        liaison_contact=SECRETS[1],
        conditions_note=SECRETS[2],
        confirmed_days_ago=1,
        service_municipality_codes=["142051", "142077"],
        service_radius_km=5,
    )
    sakura2 = make_facility(
        "さくら第二ショートステイ",
        "short_stay",
        kana="サクラダイニ",
        corporation_number=CORPORATE_NUMBER,
        corporation_name="社会福祉法人さくら会",
        capability_codes=["suction"],
    )
    himawari = make_facility(
        "ひまわりクリニック",
        "clinic",
        kana="ヒマワリクリニック",
        medical_id="1410000000001",
        website="https://himawari.example.jp/",
        municipality_code="141011",
        lat=35.508,
        lng=139.676,
    )
    closed = make_facility("閉鎖した訪問看護", "visiting_nurse", kana="ヘイサ", is_active=False)
    return {"sakura": sakura, "sakura2": sakura2, "himawari": himawari, "closed": closed}


def test_index_announces_hsds_3_and_its_documents(client: Client) -> None:
    """GET / gives version 3.0 and absolute profile and OpenAPI URLs that both answer."""
    body = get(client, "")
    assert body["version"] == "3.0"
    for key in ("profile", "openapi_url"):
        url = urlsplit(body[key])
        assert url.scheme == "http" and url.netloc == "testserver"
        assert client.get(url.path).status_code == 200
    openapi = client.get(urlsplit(body["openapi_url"]).path).json()
    assert {"/services", "/services/{id}", "/taxonomy_terms/{id}"} <= set(openapi["paths"])


def test_service_detail_is_valid_hsds_with_the_facility_mapped(
    client: Client, directory: dict[str, Facility]
) -> None:
    """A facility is a valid compiled HSDS service: location, address, taxonomy attributes,
    service areas, schedule and organisation carry its data."""
    f = directory["sakura"]
    body = get(client, f"services/{f.code}")
    assert schema_errors(body, "compiled/service.json") == []
    assert body["id"] == str(f.code) and body["status"] == "active"
    assert body["organization"]["name"] == "社会福祉法人さくら会"
    [sal] = body["service_at_locations"]
    location = sal["location"]
    assert (location["latitude"], location["longitude"]) == (f.lat, f.lng)
    [address] = location["addresses"]
    assert address == {
        "id": address["id"],
        "location_id": location["id"],
        "address_1": "朝日町1-1",
        "address_2": "さくらビル2階",
        "city": "藤沢市",
        "state_province": "神奈川県",
        "postal_code": "251-0052",
        "country": "JP",
        "address_type": "physical",
    }
    terms = {a["taxonomy_term"]["code"]: a for a in body["attributes"]}
    assert set(terms) == {"tokuyo", "suction", "tube-feeding"}
    assert terms["suction"]["taxonomy_term"]["taxonomy"] == interop.CAPABILITY_TAXONOMY
    assert {a["name"] for a in body["service_areas"]} == {"藤沢市", "茅ヶ崎市", "事業所から半径5km"}
    [schedule] = body["schedules"]
    assert (schedule["byday"], schedule["opens_at"], schedule["closes_at"]) == (
        "MO,TU,WE,TH,FR",
        "09:00",
        "17:00",
    )
    assert {p["type"]: p["number"] for p in body["phones"]} == {
        "voice": "0466-00-0001",
        "fax": "0466-00-0002",
    }
    assert body["eligibility_description"] == "要介護度：要介護1〜要介護5。認知症：受入れ可"
    assert body["x_vacancy"]["status"] == "available"


@pytest.mark.parametrize(
    "path, schema",
    [
        ("services", "compiled/service_list.json"),
        ("service_at_locations", "compiled/service_at_location_list.json"),
        ("organizations", "compiled/organization_list.json"),
        ("taxonomies", "taxonomy.json"),
        ("taxonomy_terms", "taxonomy_term.json"),
    ],
)
def test_lists_are_valid_hsds_pages(
    client: Client, directory: dict[str, Facility], path: str, schema: str
) -> None:
    """Every list item validates against its HSDS schema inside the paginated envelope."""
    body = get(client, path, per_page=100)
    assert set(body) == {
        "total_items",
        "total_pages",
        "page_number",
        "size",
        "first_page",
        "last_page",
        "empty",
        "contents",
    }
    assert body["contents"] and body["size"] == len(body["contents"])
    for item in body["contents"]:
        assert schema_errors(item, schema) == []


@pytest.mark.parametrize(
    "path, schema",
    [
        ("services", "compiled/service.json"),
        ("service_at_locations", "compiled/service_at_location.json"),
        ("organizations", "compiled/organization.json"),
    ],
)
def test_full_lists_are_valid_nested_hsds(
    client: Client, directory: dict[str, Facility], path: str, schema: str
) -> None:
    """With full=true the list items are the fully nested objects, still valid."""
    body = get(client, path, full="true")
    assert body["total_items"] >= 2
    for item in body["contents"]:
        assert schema_errors(item, schema) == []
    if path == "services":
        assert all("attributes" in item for item in body["contents"])


def test_details_reached_from_lists_are_valid(
    client: Client, directory: dict[str, Facility]
) -> None:
    """The ids a list gives open valid details: service_at_location, organisation, taxonomy,
    taxonomy term; ids are UUIDs and stay the same between requests."""
    sal = get(client, "service_at_locations")["contents"][0]
    assert (
        schema_errors(
            get(client, f"service_at_locations/{sal['id']}"), "compiled/service_at_location.json"
        )
        == []
    )
    for org in get(client, "organizations")["contents"]:
        assert (
            schema_errors(get(client, f"organizations/{org['id']}"), "compiled/organization.json")
            == []
        )
    for taxonomy in get(client, "taxonomies")["contents"]:
        assert get(client, f"taxonomies/{taxonomy['id']}") == taxonomy
    term = get(client, "taxonomy_terms", search="喀痰")["contents"][0]
    assert get(client, f"taxonomy_terms/{term['id']}") == term
    assert get(client, "service_at_locations")["contents"][0]["id"] == sal["id"]
    assert len({sal["id"], sal["location_id"], sal["service_id"]}) == 3


def test_schema_rejects_output_missing_required_fields(
    client: Client, directory: dict[str, Facility]
) -> None:
    """The validation is real: removing a required field from our output (top level and a
    nested address) makes the official schema report exactly those fields."""
    body = get(client, f"services/{directory['sakura'].code}")
    broken = copy.deepcopy(body)
    del broken["name"]
    del broken["service_at_locations"][0]["location"]["addresses"][0]["postal_code"]
    errors = schema_errors(broken, "compiled/service.json")
    assert ": 'name' is a required property" in errors
    assert (
        "service_at_locations/0/location/addresses/0: 'postal_code' is a required property"
        in errors
    )
    broken_id = copy.deepcopy(body)
    broken_id["id"] = "not-a-uuid"
    assert schema_errors(broken_id, "compiled/service.json") == ["id: 'not-a-uuid' is not a 'uuid'"]


def test_search_ignores_kana_and_width(client: Client, directory: dict[str, Facility]) -> None:
    """search=ｻｸﾗ (half-width katakana) finds both さくら facilities, as on the search screen."""
    body = get(client, "services", search="ｻｸﾗ")
    assert sorted(s["name"] for s in body["contents"]) == ["さくら第二ショートステイ", "さくら苑"]
    orgs = get(client, "organizations", search="サクラ会")
    assert [o["name"] for o in orgs["contents"]] == ["社会福祉法人さくら会"]


def test_paging_reports_position(client: Client, directory: dict[str, Facility]) -> None:
    """3 public services, 2 per page: page 2 holds the last one and says it is the last."""
    first = get(client, "services", per_page=2)
    second = get(client, "services", per_page=2, page=2)
    assert (first["total_items"], first["total_pages"], first["size"]) == (3, 2, 2)
    assert first["first_page"] and not first["last_page"]
    assert (second["size"], second["first_page"], second["last_page"]) == (1, False, True)
    ids = [s["id"] for s in first["contents"] + second["contents"]]
    assert len(set(ids)) == 3
    beyond = get(client, "services", per_page=2, page=5)
    assert beyond["empty"] and beyond["contents"] == []


def test_filters_by_term_taxonomy_organization_and_date(
    client: Client, directory: dict[str, Facility]
) -> None:
    """taxonomy_term_id (all of), organization_id and modified_after narrow the services."""

    def names(**params: Any) -> list[str]:
        return sorted(s["name"] for s in get(client, "services", **params)["contents"])

    tube = interop.term_id(interop.CAPABILITY_TAXONOMY, "tube-feeding")
    suction = interop.term_id(interop.CAPABILITY_TAXONOMY, "suction")
    clinic = interop.term_id(interop.KIND_TAXONOMY, "clinic")
    assert names(taxonomy_term_id=str(suction)) == ["さくら第二ショートステイ", "さくら苑"]
    assert names(taxonomy_term_id=f"{suction},{tube}") == ["さくら苑"]
    assert names(taxonomy_term_id=str(clinic)) == ["ひまわりクリニック"]
    assert names(taxonomy_term_id=str(uuid.uuid4())) == []
    capability_taxonomy = interop.taxonomy_id(interop.CAPABILITY_TAXONOMY)
    assert names(taxonomy_id=str(capability_taxonomy)) == ["さくら第二ショートステイ", "さくら苑"]
    corp = interop.corporation_id(CORPORATE_NUMBER)
    assert names(organization_id=str(corp)) == ["さくら第二ショートステイ", "さくら苑"]
    Facility.objects.filter(pk=directory["himawari"].pk).update(
        updated_at=timezone.now() + dt.timedelta(days=10)
    )
    later = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    assert names(modified_after=later) == ["ひまわりクリニック"]


def test_postcode_finds_services_that_serve_it(
    client: Client, directory: dict[str, Facility]
) -> None:
    """postcode=253-0041 (茅ヶ崎市) finds さくら苑, which lists 茅ヶ崎市 as its service area;
    with proximity it becomes a distance search from that postcode."""
    assert [s["name"] for s in get(client, "services", postcode="253-0041")["contents"]] == [
        "さくら苑"
    ]
    near = get(client, "services", postcode="251-0052", proximity="3000")["contents"]
    assert {s["name"] for s in near} == {"さくら苑", "さくら第二ショートステイ"}
    assert all(s["x_distance_km"] <= 3 for s in near)


def test_organizations_group_facilities_by_corporate_number(
    client: Client, directory: dict[str, Facility]
) -> None:
    """Two facilities of one 法人番号 form one organisation identified by JP-JCN; a facility
    without one is its own organisation with its 医療機関ID."""
    body = get(client, "organizations", full="true")
    orgs = {o["name"]: o for o in body["contents"]}
    assert set(orgs) == {"社会福祉法人さくら会", "ひまわりクリニック"}
    corp = orgs["社会福祉法人さくら会"]
    assert corp["id"] == str(interop.corporation_id(CORPORATE_NUMBER))
    assert [
        (i["identifier_scheme"], i["identifier_type"], i["identifier"])
        for i in corp["organization_identifiers"]
    ] == [("JP-JCN", "法人番号", CORPORATE_NUMBER)]
    assert {loc["name"] for loc in corp["locations"]} == {"さくら苑", "さくら第二ショートステイ"}
    assert corp["x_facility_count"] == 2
    clinic = orgs["ひまわりクリニック"]
    assert [i["identifier"] for i in clinic["organization_identifiers"]] == ["1410000000001"]
    assert clinic["website"] == "https://himawari.example.jp/"


@pytest.mark.parametrize("signed_in", [False, True])
def test_only_public_fields_are_published(
    client: Client, directory: dict[str, Facility], signed_in: bool
) -> None:
    """空き数, 空き状況の補足, 連携窓口 and 受入れ条件の補足 never appear, even to a member."""
    if signed_in:
        member = make_member(make_org("藤沢病院", municipality_code="142051"))
        sign_in(client, member.user)
    code = directory["sakura"].code
    for path in (
        f"services/{code}",
        "services?full=true",
        "service_at_locations?full=true",
        "organizations?full=true",
    ):
        text = client.get(API + path).content.decode()
        assert "さくら苑" in text
        for secret in SECRETS:
            assert secret not in text
        for field in ("vacancy_count", "vacancy_note", "liaison_contact", "conditions_note"):
            assert field not in text
    vacancy = get(client, f"services/{code}")["x_vacancy"]
    assert set(vacancy) == {"status", "label", "confirmed_at", "stale"}


def test_inactive_facilities_are_never_published(
    client: Client, directory: dict[str, Facility]
) -> None:
    """A facility taken off the directory is absent from lists and 404 at every id it had."""
    closed = directory["closed"]
    for path in ("services", "service_at_locations", "organizations"):
        assert "閉鎖" not in json.dumps(get(client, path, per_page=100), ensure_ascii=False)
    for path in (
        f"services/{closed.code}",
        f"service_at_locations/{interop.service_at_location_id(closed)}",
        f"organizations/{interop.org_id_of(closed)}",
    ):
        response = client.get(API + path)
        assert response.status_code == 404
        assert "見つかりません" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        f"services/{uuid.UUID(int=1)}",
        "services/not-a-uuid",
        f"service_at_locations/{uuid.UUID(int=2)}",
        f"organizations/{uuid.UUID(int=3)}",
        f"taxonomies/{uuid.UUID(int=4)}",
        f"taxonomy_terms/{uuid.UUID(int=5)}",
    ],
)
def test_unknown_ids_are_404(client: Client, directory: dict[str, Facility], path: str) -> None:
    """An id we never published answers 404 with a Japanese detail."""
    response = client.get(API + path)
    assert response.status_code == 404
    assert "見つかりません" in response.json()["detail"]


@pytest.mark.parametrize(
    "path, params, message",
    [
        ("services", {"page": "0"}, "ページ"),
        ("services", {"per_page": "1000"}, "件数"),
        ("services", {"page": "abc"}, "ページ"),
        ("services", {"modified_after": "yesterday"}, "modified_after"),
        ("services", {"taxonomy_term_id": "suction"}, "taxonomy_term_id"),
        ("services", {"organization_id": "12"}, "organization_id"),
        ("services", {"full": "maybe"}, "full"),
        ("services", {"format": "ndjson"}, "format"),
        ("services", {"proximity": "100"}, "postcode"),
        ("service_at_locations", {"postcode": "251-0052", "proximity": "far"}, "proximity"),
        ("organizations", {"per_page": "0"}, "per_page"),
        ("taxonomy_terms", {"taxonomy_id": "x"}, "taxonomy_id"),
        ("taxonomies", {"page": "-1"}, "page"),
    ],
)
def test_malformed_parameters_are_refused_in_japanese(
    client: Client, path: str, params: dict[str, str], message: str
) -> None:
    """Bad parameters get 400 with a Japanese reason naming the parameter."""
    response = client.get(API + path, params)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert message in detail
    assert any(ord(c) > 0x3000 for c in detail)


@pytest.mark.parametrize(
    "path", ["services?full=true", "service_at_locations?full=true", "organizations?full=true"]
)
def test_query_count_does_not_grow_with_page_size(client: Client, path: str) -> None:
    """A page of 1 and a page of 12 cost the same number of queries (related data prefetched)."""
    for i in range(12):
        make_facility(
            f"施設{i}",
            kana=f"シセツ{i:02d}",
            capability_codes=["suction", "oxygen"],
            service_municipality_codes=["142051"],
            corporation_number=f"{i % 3:013d}" if i % 2 else "",
        )
    counts = []
    for per_page in (1, 12):
        with CaptureQueriesContext(connection) as queries:
            body = get(client, f"{path}&per_page={per_page}")
        assert body["size"] == min(per_page, body["total_items"])
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 5


@pytest.mark.parametrize(
    "text, expected",
    [
        ("月〜金 9:00〜17:00", interop.Hours((0, 1, 2, 3, 4), "09:00", "17:00")),
        ("平日 8時30分～18時", interop.Hours((0, 1, 2, 3, 4), "08:30", "18:00")),
        ("月・水・金 １０:００-１６:００", interop.Hours((0, 2, 4), "10:00", "16:00")),
        ("年中無休", interop.Hours(tuple(range(7)), None, None)),
        ("月〜金 9:00〜12:00 14:00〜18:00", None),
        ("要相談", None),
    ],
)
def test_plain_hours_text_becomes_a_weekly_pattern(
    text: str, expected: interop.Hours | None
) -> None:
    """Only a single plain weekly pattern is structured; anything else stays text only."""
    assert interop.parse_hours(text) == expected


def test_derived_ids_are_stable_distinct_and_reversible() -> None:
    """Location and service_at_location ids are fixed functions of the facility code that
    differ from it and from each other, and give the code back."""
    code = uuid.UUID("2f1c6a2e-9a51-4c3e-8d2b-6b1f0e7a9c11")
    location = interop.derived_id("location", code)
    sal = interop.derived_id("service_at_location", code)
    assert len({code, location, sal}) == 3
    assert location == interop.derived_id("location", code)
    assert str(location) == "1c364cc5-57a5-41e7-b0fc-13b43b7b0135"
    assert (location.version, location.variant) == (code.version, code.variant)
    assert interop.code_from("location", location) == code


def test_v1_openapi_still_builds(client: Client) -> None:
    """Adding /api/hsds/ leaves the django-ninja schema at /api/v1/openapi.json intact."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/directory/facilities" in response.json()["paths"]
