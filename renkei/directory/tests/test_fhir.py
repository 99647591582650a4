"""The FHIR R4B read API at /api/fhir/, every response parsed back with fhir.resources."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization

from renkei.directory import interop
from renkei.directory.models import Facility, VacancyStatus
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

API = "/api/fhir/"
MODELS: dict[str, Any] = {
    "Organization": Organization,
    "Location": Location,
    "HealthcareService": HealthcareService,
}
SECRETS = ("空き数は内緒", "連携窓口は内緒", "受入れ条件の補足は内緒")
CORPORATE_NUMBER = "1234567890123"


def fetch(client: Client, path: str, status: int = 200, **params: Any) -> dict[str, Any]:
    response = client.get(API + path, params)
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/fhir+json")
    body: dict[str, Any] = response.json()
    return body


def read(client: Client, path: str, model: Any, status: int = 200, **params: Any) -> Any:
    """The JSON of a response after checking that it parses as ``model``."""
    body = fetch(client, path, status, **params)
    assert model.model_validate(body).get_resource_type() == body["resourceType"]
    return body


def search(client: Client, kind: str, **params: Any) -> Any:
    """A searchset Bundle (as JSON) whose every entry is a valid resource of the type."""
    bundle = read(client, kind, Bundle, **params)
    assert bundle["type"] == "searchset"
    for entry in bundle.get("entry", []):
        resource = MODELS[kind].model_validate(entry["resource"])
        assert entry["fullUrl"] == f"http://testserver{API}{kind}/{resource.id}"
        assert entry["search"] == {"mode": "match"}
    return bundle


def names(bundle: Any) -> list[str]:
    return [e["resource"]["name"] for e in bundle.get("entry", [])]


def links(bundle: Any) -> dict[str, str]:
    return {link["relation"]: link["url"] for link in bundle["link"]}


@pytest.fixture
def directory() -> dict[str, Facility]:
    sakura = make_facility(
        "さくら苑",
        kana="サクラエン",
        capability_codes=["suction", "tube-feeding"],
        corporation_number=CORPORATE_NUMBER,
        corporation_name="社会福祉法人さくら会",
        care_office_number="1470000001",
        postal_code="2510052",
        address="藤沢市朝日町1-1",
        phone="0466-00-0001",
        hours="月〜金 9:00〜17:00",
        closed_days="土日祝",
        vacancy=VacancyStatus.FEW,
        vacancy_count=2,
        vacancy_note=SECRETS[0],
        liaison_contact=SECRETS[1],
        conditions_note=SECRETS[2],
        confirmed_days_ago=2,
        service_municipality_codes=["142051", "142077"],
        service_radius_km=4,
    )
    sakura2 = make_facility(
        "さくら訪問看護",
        "visiting_nurse",
        kana="サクラホウモン",
        corporation_number=CORPORATE_NUMBER,
        corporation_name="社会福祉法人さくら会",
        capability_codes=["oxygen"],
        lat=35.36,
        lng=139.50,
    )
    tsurumi = make_facility(
        "つるみ在宅クリニック",
        "clinic",
        kana="ツルミザイタク",
        medical_id="1410000000001",
        municipality_code="141011",
        lat=35.508,
        lng=139.676,
    )
    closed = make_facility("閉鎖した特養", kana="ヘイサ", is_active=False)
    return {"sakura": sakura, "sakura2": sakura2, "tsurumi": tsurumi, "closed": closed}


def test_metadata_is_a_capability_statement(client: Client) -> None:
    """GET /metadata is a valid R4B CapabilityStatement listing the three searchable types
    of the directory and the care, oncall and pdca apps' (registered through renkei.lib.fhir)."""
    statement = read(client, "metadata", CapabilityStatement)
    assert statement["fhirVersion"] == "4.3.0"
    [rest] = statement["rest"]
    care = {"Patient", "CareTeam", "Consent", "Communication", "Task", "DocumentReference"}
    oncall = {"Schedule", "Slot", "PractitionerRole"}
    pdca = {"Measure", "MeasureReport"}
    served = {r["type"] for r in rest["resource"]}
    assert served == set(MODELS) | care | {"AuditEvent"} | oncall | pdca
    location = next(r for r in rest["resource"] if r["type"] == "Location")
    assert {"near", "address-city", "name"} <= {p["name"] for p in location["searchParam"]}


@pytest.mark.parametrize("kind", list(MODELS))
def test_searches_return_valid_searchset_bundles(
    client: Client, directory: dict[str, Facility], kind: str
) -> None:
    """Each search type returns a searchset Bundle of valid resources with a self link."""
    bundle = search(client, kind)
    assert bundle["total"] == (2 if kind == "Organization" else 3)
    assert len(bundle["entry"]) == bundle["total"]
    assert bundle["link"][0]["relation"] == "self"


def test_reads_carry_jp_core_shapes_and_link_up(
    client: Client, directory: dict[str, Facility]
) -> None:
    """HealthcareService → providedBy Organization (法人番号) and Location (JP address,
    position); references resolve, capabilities are characteristic codings."""
    f = directory["sakura"]
    service = read(client, f"HealthcareService/{f.code}", HealthcareService)
    assert service["name"] == "さくら苑" and service["active"] is True
    assert {
        (c["coding"][0]["system"], c["coding"][0]["code"]) for c in service["characteristic"]
    } == {
        (interop.CAPABILITY_SYSTEM, "suction"),
        (interop.CAPABILITY_SYSTEM, "tube-feeding"),
    }
    assert service["category"][0]["coding"][0]["code"] == "tokuyo"
    assert [a["display"] for a in service["coverageArea"]] == [
        "藤沢市",
        "茅ヶ崎市",
        "事業所から半径4km",
    ]
    assert service["availableTime"] == [
        {
            "daysOfWeek": ["mon", "tue", "wed", "thu", "fri"],
            "availableStartTime": "09:00:00",
            "availableEndTime": "17:00:00",
        }
    ]
    [vacancy] = service["extension"]
    assert {"url": "status", "valueCode": "few"} in vacancy["extension"]

    organization = read(client, service["providedBy"]["reference"], Organization)
    assert organization["name"] == "社会福祉法人さくら会"
    assert [(i["system"], i["value"]) for i in organization["identifier"]] == [
        (interop.CORPORATE_NUMBER_SYSTEM, CORPORATE_NUMBER)
    ]
    location = read(client, service["location"][0]["reference"], Location)
    assert location["managingOrganization"]["reference"] == service["providedBy"]["reference"]
    assert location["position"] == {"latitude": f.lat, "longitude": f.lng}
    address = location["address"]
    assert (address["state"], address["city"], address["postalCode"], address["country"]) == (
        "神奈川県",
        "藤沢市",
        "251-0052",
        "JP",
    )
    assert address["line"] == ["朝日町1-1"]
    assert [(i["system"], i["value"]) for i in location["identifier"]] == [
        (interop.CARE_OFFICE_SYSTEM, "1470000001")
    ]


def test_ids_are_those_of_the_hsds_feed(client: Client, directory: dict[str, Facility]) -> None:
    """The same facility has the same service, location and organisation ids in both APIs."""
    f = directory["tsurumi"]
    hsds = client.get(f"/api/hsds/services/{f.code}").json()
    service = read(client, f"HealthcareService/{f.code}", HealthcareService)
    assert service["providedBy"]["reference"] == f"Organization/{hsds['organization_id']}"
    location_id = hsds["service_at_locations"][0]["location_id"]
    assert service["location"][0]["reference"] == f"Location/{location_id}"
    organization = read(client, f"Organization/{hsds['organization_id']}", Organization)
    assert [(i["system"], i["value"]) for i in organization["identifier"]] == [
        (interop.MEDICAL_ID_SYSTEM, "1410000000001")
    ]


def test_count_and_offset_page_through_results(
    client: Client, directory: dict[str, Facility]
) -> None:
    """_count=2 shows 2 of 3 with a next link whose page holds the third, then no next."""
    first = search(client, "HealthcareService", _count=2)
    assert (first["total"], len(first["entry"])) == (3, 2)
    query = {k: v[0] for k, v in parse_qs(urlsplit(links(first)["next"]).query).items()}
    assert query == {"_count": "2", "_offset": "2"}
    second = search(client, "HealthcareService", **query)
    assert len(second["entry"]) == 1
    assert "next" not in links(second)
    assert set(names(first) + names(second)) == {
        "さくら苑",
        "さくら訪問看護",
        "つるみ在宅クリニック",
    }
    only_total = search(client, "Location", _count=0)
    assert only_total["total"] == 3 and "entry" not in only_total


def test_name_search_ignores_kana_and_width(client: Client, directory: dict[str, Facility]) -> None:
    """name=ｻｸﾗ finds the two さくら facilities and their corporation."""
    assert sorted(names(search(client, "HealthcareService", name="ｻｸﾗ"))) == [
        "さくら苑",
        "さくら訪問看護",
    ]
    assert names(search(client, "Organization", name="ｻｸﾗ")) == ["社会福祉法人さくら会"]


def test_address_city_includes_the_wards_of_a_designated_city(
    client: Client, directory: dict[str, Facility]
) -> None:
    """address-city=横浜市 finds a facility in 横浜市鶴見区; 藤沢市 finds the others."""
    assert names(search(client, "Location", **{"address-city": "横浜市"})) == [
        "つるみ在宅クリニック"
    ]
    assert sorted(names(search(client, "Location", **{"address-city": "藤沢市"}))) == [
        "さくら苑",
        "さくら訪問看護",
    ]


def test_near_limits_the_radius_and_orders_by_distance(
    client: Client, directory: dict[str, Facility]
) -> None:
    """Within 5 km of 藤沢市役所 the nearer facility comes first; 鶴見 (~25 km) is out;
    metres work as a unit."""
    near = "35.3389|139.4911|5|km"
    assert names(search(client, "Location", near=near)) == ["さくら苑", "さくら訪問看護"]
    assert names(search(client, "Location", near="35.3389|139.4911|1000|m")) == ["さくら苑"]
    everything = names(search(client, "Location", near="35.3389|139.4911"))
    assert everything[-1] == "つるみ在宅クリニック"


def test_category_and_characteristic_filter_services(
    client: Client, directory: dict[str, Facility]
) -> None:
    """service-category picks kinds; characteristic commas mean any-of, repeats mean all-of."""

    def found(**params: Any) -> list[str]:
        return sorted(names(search(client, "HealthcareService", **params)))

    assert found(**{"service-category": "clinic"}) == ["つるみ在宅クリニック"]
    assert found(**{"service-category": f"{interop.KIND_SYSTEM}|visiting_nurse"}) == [
        "さくら訪問看護"
    ]
    assert found(**{"service-category": "http://example.org/other|clinic"}) == []
    assert found(characteristic="suction,oxygen") == ["さくら苑", "さくら訪問看護"]
    response = client.get(
        API + "HealthcareService", {"characteristic": ["suction", "tube-feeding"]}
    )
    assert [e["resource"]["name"] for e in response.json()["entry"]] == ["さくら苑"]
    assert found(characteristic="suction", **{"service-category": "clinic"}) == []


def test_identifier_and_organization_searches(
    client: Client, directory: dict[str, Facility]
) -> None:
    """identifier finds the corporation by 法人番号 and a facility by 事業所番号;
    organization= lists the facilities of one organisation."""
    corp = search(
        client, "Organization", identifier=f"{interop.CORPORATE_NUMBER_SYSTEM}|{CORPORATE_NUMBER}"
    )
    assert names(corp) == ["社会福祉法人さくら会"]
    assert names(search(client, "Location", identifier="1470000001")) == ["さくら苑"]
    assert names(search(client, "Location", **{"address-postalcode": "２５１００５２"})) == [
        "さくら苑"
    ]
    org_id = interop.corporation_id(CORPORATE_NUMBER)
    assert sorted(
        names(search(client, "HealthcareService", organization=f"Organization/{org_id}"))
    ) == ["さくら苑", "さくら訪問看護"]


@pytest.mark.parametrize("signed_in", [False, True])
def test_only_public_fields_are_published(
    client: Client, directory: dict[str, Facility], signed_in: bool
) -> None:
    """The member-only notes and the vacancy count never leave the FHIR API."""
    if signed_in:
        sign_in(client, make_member(make_org("藤沢病院", municipality_code="142051")).user)
    code = directory["sakura"].code
    for path in (f"HealthcareService/{code}", "HealthcareService", "Location", "Organization"):
        text = client.get(API + path).content.decode()
        assert "さくら" in text
        for secret in SECRETS:
            assert secret not in text


def test_inactive_facilities_are_never_published(
    client: Client, directory: dict[str, Facility]
) -> None:
    """A facility off the directory is in no search and 404 at each of its ids."""
    closed = directory["closed"]
    for kind in MODELS:
        assert "閉鎖" not in str(names(search(client, kind, _count=100)))
    for path in (
        f"HealthcareService/{closed.code}",
        f"Location/{interop.location_id(closed)}",
        f"Organization/{interop.org_id_of(closed)}",
    ):
        read(client, path, OperationOutcome, status=404)


@pytest.mark.parametrize(
    "path",
    [
        f"HealthcareService/{uuid.UUID(int=1)}",
        f"Location/{uuid.UUID(int=2)}",
        f"Organization/{uuid.UUID(int=3)}",
        "Location/not-a-uuid",
    ],
)
def test_unknown_ids_are_404_operation_outcomes(client: Client, path: str) -> None:
    """An unknown id is a 404 OperationOutcome with code not-found and a Japanese message."""
    [issue] = read(client, path, OperationOutcome, status=404)["issue"]
    assert issue["code"] == "not-found" and "見つかりません" in issue["diagnostics"]


@pytest.mark.parametrize(
    "kind, params, message",
    [
        ("HealthcareService", {"_count": "abc"}, "_count"),
        ("HealthcareService", {"_count": "1000"}, "_count"),
        ("Location", {"_offset": "-1"}, "_offset"),
        ("Location", {"near": "35.3"}, "near"),
        ("Location", {"near": "35.3|139.4|far|km"}, "距離"),
        ("Location", {"near": "35.3|139.4|3|mi"}, "単位"),
        ("Location", {"near": "10|10|5|km"}, "日本の範囲外"),
        ("Location", {"near": "35.3|139.4|500|km"}, "半径"),
        ("HealthcareService", {"organization": "Organization/12"}, "organization"),
        ("Organization", {"_format": "xml"}, "_format"),
        ("Location", {"address-postalcode": "251"}, "7桁"),
    ],
)
def test_malformed_parameters_are_400_operation_outcomes(
    client: Client, kind: str, params: dict[str, str], message: str
) -> None:
    """Bad parameters get a 400 OperationOutcome (code invalid) explaining in Japanese."""
    [issue] = read(client, kind, OperationOutcome, status=400, **params)["issue"]
    assert issue["code"] == "invalid"
    assert message in issue["diagnostics"]


@pytest.mark.parametrize("kind", list(MODELS))
def test_query_count_does_not_grow_with_page_size(client: Client, kind: str) -> None:
    """_count=1 and _count=12 cost the same number of queries."""
    for i in range(12):
        make_facility(
            f"施設{i}",
            kana=f"シセツ{i:02d}",
            capability_codes=["suction"],
            service_municipality_codes=["142051"],
            corporation_number=f"{i % 3:013d}" if i % 2 else "",
        )
    counts = []
    for count in (1, 12):
        with CaptureQueriesContext(connection) as queries:
            bundle = search(client, kind, _count=count)
        assert len(bundle["entry"]) == min(count, bundle["total"])
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6
