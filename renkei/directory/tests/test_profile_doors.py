"""A facility's conditions through both doors: the edit screen's form and the API's PATCH leave
the same row, the same capability mask and the same audit entry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role
from renkei.directory.models import ACCEPTANCE_FIELDS, Capability, Facility
from renkei.directory.tests.test_edit import facility, profile_post, staff
from renkei.testing import capabilities, make_member, make_org, sign_in

__all__ = ["facility", "staff"]  # the fixtures of the editing tests

pytestmark = pytest.mark.django_db


def _state(f: Facility) -> tuple[Any, ...]:
    f.refresh_from_db()
    audit = AuditEntry.objects.filter(action="directory.facility_updated", target_id=str(f.code))
    return (
        (f.phone, f.hours, f.liaison_contact, f.description),
        f.care_level_min,
        f.care_level_max,
        f.accepts_dementia,
        f.accepts_infection,
        f.sex_accepted,
        f.cost_min,
        f.cost_max,
        f.conditions_note,
        f.service_radius_km,
        sorted(f.capabilities.values_list("code", flat=True)),
        f.capability_mask,
        f.version,
        f.info_updated_by_id,
        [a.detail for a in audit],
    )


# What the staff keep up besides the conditions: the API's PATCH takes it as the screen does.
CONTACT = {
    "phone": "046-200-1234",
    "hours": "平日 9:00〜17:00",
    "liaison_contact": "相談員 直通 046-200-1235",
    "description": "看取りまで対応します",
}


@pytest.mark.parametrize("door", ["html", "api"])
def test_the_conditions_are_saved_alike_through_either_door(
    staff: Membership, facility: Facility, door: str
) -> None:
    client = Client()
    sign_in(client, staff.user)
    version = facility.version
    if door == "html":
        form = profile_post(
            facility,
            care_level_min="3",
            care_level_max="7",
            accepts_dementia="true",
            accepts_infection="false",
            sex_accepted="female",
            cost_min="120000",
            cost_max="180000",
            conditions_note="胃ろうは要相談",
            service_radius_km="8",
            capabilities=[c.pk for c in capabilities("oxygen", "drip")],
            **CONTACT,
        )
        r = client.post(reverse("directory:edit", args=[facility.code]), form)
        assert r.status_code == 302
    else:
        body = {
            "care_level_min": 3,
            "care_level_max": 7,
            "accepts_dementia": True,
            "accepts_infection": False,
            "sex_accepted": "female",
            "cost_min": 120000,
            "cost_max": 180000,
            "conditions_note": "胃ろうは要相談",
            "service_radius_km": 8,
            "capabilities": ["oxygen", "drip"],
            "version": facility.version,
            **CONTACT,
        }
        r = client.patch(
            f"/api/v1/directory/facilities/{facility.code}",
            json.dumps(body),
            content_type="application/json",
        )
        assert r.status_code == 200, r.content
    state = _state(facility)
    assert state[0] == tuple(CONTACT.values())
    state = state[1:]
    assert state[:10] == (
        3,
        7,
        True,
        False,
        "female",
        120000,
        180000,
        "胃ろうは要相談",
        8.0,
        ["drip", "oxygen"],
    )
    assert state[10] == Capability.objects.mask_of(["oxygen", "drip"])
    assert state[11:13] == (version + 1, staff.user_id)
    (detail,) = state[13]
    assert detail["capabilities"] == {"before": [], "after": ["drip", "oxygen"]}
    assert detail["care_level_max"] == {"before": None, "after": 7}
    assert set(detail) == {
        *CONTACT,
        *ACCEPTANCE_FIELDS,
        "conditions_note",
        "service_radius_km",
        "capabilities",
    }


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_minimum_above_the_maximum_is_refused_alike_and_changes_nothing(
    staff: Membership, facility: Facility, door: str
) -> None:
    client = Client()
    sign_in(client, staff.user)
    before = _state(facility)
    if door == "html":
        form = profile_post(facility, cost_min="200000", cost_max="100000")
        r = client.post(reverse("directory:edit", args=[facility.code]), form)
        text = r.content.decode()
    else:
        r = client.patch(
            f"/api/v1/directory/facilities/{facility.code}",
            json.dumps({"cost_min": 200000, "cost_max": 100000, "version": facility.version}),
            content_type="application/json",
        )
        text = r.json()["detail"]
    assert r.status_code == 400
    assert "費用の上限は下限以上にしてください" in text
    assert _state(facility) == before


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_bad_phone_number_is_refused_alike_and_changes_nothing(
    staff: Membership, facility: Facility, door: str
) -> None:
    client = Client()
    sign_in(client, staff.user)
    before = _state(facility)
    if door == "html":
        form = profile_post(facility, phone="電話してください")
        r = client.post(reverse("directory:edit", args=[facility.code]), form)
        text = r.content.decode()
    else:
        r = client.patch(
            f"/api/v1/directory/facilities/{facility.code}",
            json.dumps({"phone": "電話してください", "version": facility.version}),
            content_type="application/json",
        )
        text = json.dumps(r.json(), ensure_ascii=False)
    assert r.status_code == 400
    assert "電話番号の形式が正しくありません" in text
    assert _state(facility) == before


def test_the_api_refuses_a_field_the_input_does_not_have(
    staff: Membership, facility: Facility
) -> None:
    """The PATCH body is the typed input: a curator's column (the name) or a stray field is
    refused by name, not silently dropped, and nothing changes."""
    client = Client()
    sign_in(client, staff.user)
    before = _state(facility)
    for body in ({"name": "別の名前"}, {"colour": "red"}):
        r = client.patch(
            f"/api/v1/directory/facilities/{facility.code}",
            json.dumps({**body, "version": facility.version}),
            content_type="application/json",
        )
        assert r.status_code == 400
        assert next(iter(body)) in r.json()["detail"]
    assert _state(facility) == before


def test_a_curator_corrects_the_open_datas_columns_on_the_screen(facility: Facility) -> None:
    """A government member of the facility's municipality edits its name and kana too
    (CuratorInput), through the same action; the audit line has the diff."""
    city = make_org("藤沢市 地域包括ケア推進室", OrgKind.MUNICIPALITY, municipality_code="142051")
    curator = make_member(city, Role.MUNICIPAL_OFFICER, username="city-curator")
    client = Client()
    sign_in(client, curator.user)
    url = reverse("directory:edit", args=[facility.code])
    page = client.get(url)
    assert page.status_code == 200 and 'name="kana"' in page.content.decode()
    form = profile_post(
        facility,
        kind=facility.kind,
        name="みなと苑（新館）",
        kana="ミナトエン",
        address=facility.address,
        is_active="on",
    )
    assert client.post(url, form).status_code == 302
    facility.refresh_from_db()
    assert (facility.name, facility.kana) == ("みなと苑（新館）", "ミナトエン")
    audit = AuditEntry.objects.filter(
        action="directory.facility_updated", target_id=str(facility.code)
    ).get()
    assert audit.detail["name"] == {"before": "みなと苑", "after": "みなと苑（新館）"}
    # The staff's own form has no such fields: a name posted there changes nothing.
    before = facility.name
    staff_client = Client()
    sign_in(staff_client, facility.organization.memberships.get().user)  # type: ignore[union-attr]
    r = staff_client.post(url, profile_post(facility, name="勝手な名前"))
    assert r.status_code == 302
    facility.refresh_from_db()
    assert facility.name == before
