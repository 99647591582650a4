"""Editing a facility: no lost updates (R22) and bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role
from renkei.directory.models import Facility, VacancyReport
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

STALE = "他の方が先にこの施設の情報を更新しました"


@pytest.fixture
def staff() -> Membership:
    org = make_org("みなと福祉会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    return make_member(org, Role.CARE_WORKER, username="minato-staff")


@pytest.fixture
def facility(staff: Membership) -> Facility:
    return make_facility(
        "みなと苑", organization=staff.organization, vacancy="available", vacancy_count=3
    )


def signed_in(member: Membership) -> Client:
    client = Client()
    sign_in(client, member.user)
    return client


def vacancy_url(f: Facility) -> str:
    return reverse("directory:vacancy", args=[f.code])


def api_url(f: Facility) -> str:
    return f"/api/v1/directory/facilities/{f.code}"


def snapshot(f: Facility) -> tuple[Any, ...]:
    f.refresh_from_db()
    return (
        f.vacancy_status,
        f.vacancy_count,
        f.vacancy_note,
        f.version,
        f.care_level_min,
        f.care_level_max,
        f.cost_min,
        f.cost_max,
        VacancyReport.objects.filter(facility=f).count(),
        AuditEntry.objects.filter(target_id=str(f.code)).count(),
    )


def profile_post(f: Facility, **changes: Any) -> dict[str, Any]:
    """The profile form as the edit page would submit it, with some fields changed."""
    data: dict[str, Any] = {
        "phone": "",
        "fax": "",
        "website": "",
        "hours": "",
        "closed_days": "",
        "description": "",
        "liaison_contact": "",
        "care_level_min": "",
        "care_level_max": "",
        "accepts_dementia": "",
        "accepts_infection": "",
        "sex_accepted": "any",
        "cost_min": "",
        "cost_max": "",
        "conditions_note": "",
        "service_radius_km": "",
        "version": str(f.version),
    }
    data.update(changes)
    return data


# Successful updates ------------------------------------------------------------------------


def test_vacancy_update_is_saved_reported_and_audited(
    staff: Membership, facility: Facility
) -> None:
    """A valid vacancy post updates the facility, adds a report row and an audit row."""
    version = facility.version
    response = signed_in(staff).post(
        vacancy_url(facility),
        {"status": "none", "count": "0", "note": "来週1床空く予定", "version": version},
    )
    assert response.status_code == 302
    facility.refresh_from_db()
    assert (facility.vacancy_status, facility.vacancy_count) == ("none", 0)
    assert facility.vacancy_note == "来週1床空く予定"
    assert facility.vacancy_confirmed_by == staff.user
    assert facility.version == version + 1
    assert VacancyReport.objects.filter(facility=facility, status="none").count() == 1
    row = AuditEntry.objects.get(action="directory.vacancy_updated")
    assert row.actor == staff.user and row.organization == staff.organization
    assert row.detail["before"] == {"status": "available", "count": 3}


def test_htmx_vacancy_update_returns_the_form_fragment(
    staff: Membership, facility: Facility
) -> None:
    """From the phone-friendly form (htmx), the answer is the refreshed form, not a redirect."""
    response = signed_in(staff).post(
        vacancy_url(facility),
        {"status": "few", "count": "1", "version": facility.version},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "空き状況を更新しました" in body and "<html" not in body
    facility.refresh_from_db()
    assert facility.vacancy_status == "few"
    assert f'value="{facility.version}"' in body


def test_profile_update_changes_fields_and_records_the_diff(
    staff: Membership, facility: Facility
) -> None:
    """The profile form saves the conditions and audits before/after values."""
    response = signed_in(staff).post(
        reverse("directory:edit", args=[facility.code]),
        profile_post(facility, care_level_min="3", care_level_max="7", accepts_dementia="true"),
    )
    assert response.status_code == 302
    facility.refresh_from_db()
    assert (facility.care_level_min, facility.care_level_max) == (3, 7)
    assert facility.accepts_dementia is True
    row = AuditEntry.objects.get(action="directory.facility_updated")
    assert row.detail["care_level_min"] == {"before": None, "after": 3}


# Optimistic locking (R22) ------------------------------------------------------------------


def test_second_vacancy_save_with_same_version_is_409_and_first_kept(
    staff: Membership, facility: Facility
) -> None:
    """Two people load version v; the first save wins, the second gets 409 and changes nothing."""
    colleague = make_member(staff.organization, Role.NURSE, username="minato-nurse")
    first, second = signed_in(staff), signed_in(colleague)
    version = facility.version
    ok = first.post(vacancy_url(facility), {"status": "few", "count": "1", "version": version})
    assert ok.status_code == 302
    after_first = snapshot(facility)
    late = second.post(vacancy_url(facility), {"status": "none", "count": "", "version": version})
    assert late.status_code == 409
    assert STALE in late.content.decode()
    assert snapshot(facility) == after_first
    assert facility.vacancy_status == "few"


def test_second_profile_save_with_same_version_is_409_and_first_kept(
    staff: Membership, facility: Facility
) -> None:
    """The same holds for the facility profile form."""
    colleague = make_member(staff.organization, Role.NURSE, username="minato-nurse")
    url = reverse("directory:edit", args=[facility.code])
    stale = profile_post(facility, cost_min="90000", cost_max="150000")
    assert signed_in(staff).post(url, profile_post(facility, cost_min="80000")).status_code == 302
    after_first = snapshot(facility)
    late = signed_in(colleague).post(url, stale)
    assert late.status_code == 409
    assert STALE in late.content.decode()
    assert snapshot(facility) == after_first
    assert facility.cost_min == 80000


def test_api_stale_version_is_409_and_first_kept(staff: Membership, facility: Facility) -> None:
    """Through the API too: a PUT or PATCH carrying an old version gets 409."""
    client = signed_in(staff)
    version = facility.version
    ok = client.put(
        api_url(facility) + "/vacancy",
        {"status": "few", "count": 2, "version": version},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    after_first = snapshot(facility)
    put = client.put(
        api_url(facility) + "/vacancy",
        {"status": "none", "version": version},
        content_type="application/json",
    )
    patch = client.patch(
        api_url(facility), {"cost_min": 1, "version": version}, content_type="application/json"
    )
    assert put.status_code == patch.status_code == 409
    assert STALE in put.json()["detail"]
    assert snapshot(facility) == after_first


# Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        ({"status": "none", "count": "3"}, "満床の場合は空き数を0にするか空欄にしてください"),
        ({"status": "few", "count": "-1"}, "0 以上"),
        ({"status": "few", "count": "たくさん"}, "整数"),
        ({"status": "unknown", "count": ""}, "正しく選択してください"),
        ({"status": "", "count": "1"}, "このフィールドは必須です"),
        ({"status": "few", "note": "あ" * 301}, "300 文字以下"),
    ],
)
def test_bad_vacancy_input_is_400_with_japanese_message_and_changes_nothing(
    staff: Membership, facility: Facility, data: dict[str, str], message: str
) -> None:
    """Invalid vacancy posts are refused with a reason and leave the facility untouched."""
    before = snapshot(facility)
    response = signed_in(staff).post(vacancy_url(facility), {**data, "version": facility.version})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(facility) == before


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"care_level_min": "7", "care_level_max": "3"}, "要介護度の上限は下限以上にしてください"),
        ({"cost_min": "200000", "cost_max": "100000"}, "費用の上限は下限以上にしてください"),
        ({"phone": "でんわ"}, "電話番号の形式が正しくありません"),
        ({"service_radius_km": "遠く"}, "数値"),
    ],
)
def test_bad_profile_input_is_400_with_japanese_message_and_changes_nothing(
    staff: Membership, facility: Facility, changes: dict[str, str], message: str
) -> None:
    """Invalid profile posts are refused with a reason and leave the facility untouched."""
    before = snapshot(facility)
    response = signed_in(staff).post(
        reverse("directory:edit", args=[facility.code]), profile_post(facility, **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(facility) == before


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"status": "none", "count": 3}, "満床の場合は空き数を0にするか空欄にしてください"),
        ({"status": "few", "count": -1}, "入力内容が正しくありません"),
        ({"status": "unknown"}, "未登録"),
        ({"status": "sometimes"}, "入力内容が正しくありません"),
        ({"count": 1}, "入力内容が正しくありません"),
    ],
)
def test_bad_api_vacancy_is_400_with_japanese_detail_and_changes_nothing(
    staff: Membership, facility: Facility, payload: dict[str, Any], message: str
) -> None:
    """The API refuses the same bad vacancy input as the form, with a Japanese detail."""
    before = snapshot(facility)
    response = signed_in(staff).put(
        api_url(facility) + "/vacancy", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert snapshot(facility) == before


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"care_level_min": 7, "care_level_max": 3}, "要介護度の上限は下限以上にしてください"),
        ({"cost_min": 200000, "cost_max": 100000}, "費用の上限は下限以上にしてください"),
        ({"capabilities": ["no-such-thing"]}, "処置項目が見つかりません"),
        ({"service_municipalities": ["999999"]}, "存在しない市区町村コード"),
        ({"care_level_min": 99}, "入力内容が正しくありません"),
    ],
)
def test_bad_api_patch_is_400_with_japanese_detail_and_changes_nothing(
    staff: Membership, facility: Facility, payload: dict[str, Any], message: str
) -> None:
    """The API refuses bad profile input with a Japanese detail and changes nothing."""
    before = snapshot(facility)
    response = signed_in(staff).patch(api_url(facility), payload, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert snapshot(facility) == before
