from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from openpyxl import load_workbook

from renkei.directory.models import Capability
from renkei.directory.search import FacilitySearch
from renkei.testing import capabilities, make_facility, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def facilities() -> None:
    make_facility(
        "さくら苑",
        kana="サクラエン",
        capability_codes=["suction", "end-of-life"],
        vacancy="available",
        confirmed_days_ago=3,
    )
    make_facility(
        "みどり荘",
        kana="ミドリソウ",
        municipality_code="142034",
        lat=35.3351,
        lng=139.3495,
        vacancy="none",
        confirmed_days_ago=40,
    )


def test_search_page_lists_matches_with_freshness(client: Client, facilities: None) -> None:
    """The public search page finds さくら by ｻｸﾗ and shows its vacancy freshness."""
    r = client.get("/directory/", {"q": "ｻｸﾗ"})
    assert r.status_code == 200
    body = r.content.decode()
    assert "さくら苑" in body and "みどり荘" not in body
    assert "3日前に更新" in body


def test_stale_vacancy_is_flagged(client: Client, facilities: None) -> None:
    """Vacancy information older than the threshold is marked as possibly outdated."""
    body = client.get("/directory/", {"q": "みどり"}).content.decode()
    assert "40日前に更新" in body and "情報が古い可能性があります" in body


def test_htmx_request_gets_only_the_results_fragment(client: Client, facilities: None) -> None:
    """An htmx request returns the results partial, not the whole page."""
    r = client.get("/directory/", {"q": "さくら"}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert r.status_code == 200 and "さくら苑" in body and "<html" not in body


def test_malformed_search_page_is_400_with_message(client: Client) -> None:
    """A malformed search shows the reason and answers 400."""
    r = client.get("/directory/", {"radius_km": "10"})
    assert r.status_code == 400
    assert "地点" in r.content.decode()


def test_api_malformed_search_is_400_with_detail(client: Client) -> None:
    """The API answers a malformed search with 400 and a Japanese detail."""
    r = client.get("/api/v1/directory/facilities", {"capability": "unknown-thing"})
    assert r.status_code == 400
    assert "処置項目が見つかりません" in r.json()["detail"]


def test_api_search_returns_public_page(client: Client, facilities: None) -> None:
    """The API search returns count, page and the public fields of each facility."""
    r = client.get("/api/v1/directory/facilities", {"capability": ["suction"]})
    data = r.json()
    assert r.status_code == 200 and data["count"] == 1
    item = data["items"][0]
    assert item["name"] == "さくら苑" and item["vacancy_freshness"] == "3日前"
    assert "liaison_contact" not in item


def test_csv_export_has_bom_header_and_rows(client: Client, facilities: None) -> None:
    """The CSV export opens in Excel (UTF-8 BOM) and holds the current search's rows."""
    r = client.get("/directory/export.csv", {"vacancy": "1"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "名称" and [row[0] for row in rows[1:]] == ["さくら苑"]


def test_excel_export_is_a_workbook(client: Client, facilities: None) -> None:
    """The Excel export is a real .xlsx with a header and every matching row."""
    r = client.get("/directory/export.xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    names = sorted(row[0] for row in ws.iter_rows(min_row=2, values_only=True))
    assert ws["A1"].value == "名称" and names == ["さくら苑", "みどり荘"]


def test_handbook_groups_a_municipality_by_kind(client: Client) -> None:
    """The print layout lists one municipality's facilities grouped by kind."""
    make_facility("藤沢の特養", kind="tokuyo")
    make_facility("藤沢の病院", kind="hospital")
    make_facility("平塚の特養", kind="tokuyo", municipality_code="142034")
    body = client.get("/directory/handbook/142051/").content.decode()
    assert "介護老人福祉施設（特養）（1件）" in body and "病院（1件）" in body
    assert "藤沢の特養" in body and "平塚の特養" not in body


def test_points_json_feeds_the_map(client: Client, facilities: None) -> None:
    """The map endpoint returns every matching facility with coordinates."""
    data = client.get("/directory/points.json").json()
    assert {p["name"] for p in data["points"]} == {"さくら苑", "みどり荘"}


def test_unknown_facility_is_404(client: Client) -> None:
    """A facility code that does not exist is a 404."""
    assert client.get("/directory/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_inactive_facility_is_hidden(client: Client) -> None:
    """A facility taken off the directory is neither listed nor reachable."""
    f = make_facility("閉鎖した施設", is_active=False)
    assert client.get(f.get_absolute_url()).status_code == 404
    assert "閉鎖した施設" not in client.get("/directory/").content.decode()


def test_search_page_query_count_does_not_grow_with_results(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    """The list page issues a bounded number of queries whatever the number of results."""
    for i in range(25):
        make_facility(f"施設{i:02d}", capability_codes=["suction"])
    with django_assert_max_num_queries(12):
        assert client.get("/directory/").status_code == 200


def test_curator_adds_a_facility_with_municipality_point(client: Client) -> None:
    """Municipal staff add a facility; without coordinates it takes the municipality's point; audited."""
    from renkei.accounts.models import AuditEntry, OrgKind, Role
    from renkei.directory.models import Facility
    from renkei.testing import make_member, make_org

    city = make_org(
        "藤沢市 地域包括ケアシステム推進室", OrgKind.MUNICIPALITY, municipality_code="142051"
    )
    member = make_member(city, Role.MUNICIPAL_OFFICER, username="city-fujisawa")
    sign_in(client, member.user)
    from renkei.regions.models import Municipality

    muni = Municipality.objects.get(code="142051")
    r = client.post(
        "/directory/new/",
        {
            "kind": "tokutei",
            "name": "住宅型有料老人ホーム ことぶき",
            "kana": "コトブキ",
            "municipality": muni.pk,
            "address": "藤沢市鵠沼海岸1-2-3",
            "sex_accepted": "any",
        },
    )
    assert r.status_code == 302
    f = Facility.objects.get(name="住宅型有料老人ホーム ことぶき")
    assert (f.lat, f.lng) == (35.3389, 139.4911) and f.source == "manual"
    assert AuditEntry.objects.filter(
        action="directory.facility_created", target_id=str(f.code)
    ).exists()


def test_facility_outside_curated_area_cannot_be_added(client: Client) -> None:
    """A municipality cannot register a facility in another municipality; nothing is saved."""
    from renkei.accounts.models import OrgKind, Role
    from renkei.directory.models import Facility
    from renkei.regions.models import Municipality
    from renkei.testing import make_member, make_org

    city = make_org("藤沢市", OrgKind.MUNICIPALITY, municipality_code="142051")
    sign_in(client, make_member(city, Role.MUNICIPAL_OFFICER, username="city-f").user)
    other = Municipality.objects.get(code="142034")
    r = client.post(
        "/directory/new/",
        {
            "kind": "tokutei",
            "name": "よその施設",
            "municipality": other.pk,
            "address": "平塚市1-1",
            "sex_accepted": "any",
        },
    )
    assert r.status_code == 400 and not Facility.objects.filter(name="よその施設").exists()


def test_facility_member_cannot_open_the_new_facility_form(client: Client) -> None:
    """Only government members curate; a facility's staff get 404."""
    from renkei.accounts.models import OrgKind, Role
    from renkei.testing import make_member, make_org

    org = make_org("さくら会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    sign_in(client, make_member(org, Role.CARE_WORKER, username="care1").user)
    assert client.get("/directory/new/").status_code == 404


def test_after_a_conflict_the_form_keeps_input_and_saves_on_second_try(client: Client) -> None:
    """A 409 keeps what the user typed, now based on the newer version, so a second save succeeds."""
    from renkei.accounts.models import OrgKind, Role
    from renkei.directory import actions
    from renkei.testing import make_member, make_org

    org = make_org("若葉会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    staff = make_member(org, Role.COUNSELOR, username="wakaba")
    other = make_member(org, Role.CARE_WORKER, username="wakaba2")
    f = make_facility("若葉の里", organization=org)
    stale = f.version
    actions.update_vacancy(f, by=other, data=actions.VacancyInput(status="few", count=1))
    sign_in(client, staff.user)
    url = f"/directory/{f.code}/vacancy/"
    r = client.post(url, {"status": "available", "count": "3", "note": "男性1床", "version": stale})
    assert r.status_code == 409
    body = r.content.decode()
    assert "残りわずか" in body and 'value="男性1床"' in body
    f.refresh_from_db()
    assert f'name="version" value="{f.version}"' in body
    r = client.post(
        url, {"status": "available", "count": "3", "note": "男性1床", "version": f.version}
    )
    assert r.status_code == 302
    f.refresh_from_db()
    assert (f.vacancy_status, f.vacancy_count) == ("available", 3)


def test_admin_edit_of_capabilities_updates_the_search_mask(client: Client) -> None:
    """The Django admin edits the link table; the search reads capability_mask, which must
    follow."""
    from renkei.accounts.models import User

    f = make_facility("管理画面の施設", capability_codes=["suction"])
    admin_user = User.objects.create_superuser("root-admin", "root@example.jp", "pw-12345678")
    sign_in(client, admin_user)
    page = client.get(f"/admin/directory/facility/{f.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        municipality=f.municipality_id,
        capabilities=[c.pk for c in capabilities("oxygen", "drip")],
        service_municipalities=[],
    )
    r = client.post(f"/admin/directory/facility/{f.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    f.refresh_from_db()
    assert f.capability_mask == Capability.objects.mask_of(["oxygen", "drip"])
    found, _ = FacilitySearch.from_querydict(
        QueryDict("capability=oxygen&capability=drip")
    ).results()
    assert [x.pk for x in found] == [f.pk]
