"""Parity of the backup-bed writes: the screens under /oncall/beds/ and /api/v1/oncall/beds/
hand the same typed input to the same action. Each test runs once per door and compares with
one expected state (rows and audit lines); the same bad input is refused with the same
Japanese message and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind, Role
from renkei.care.models import Patient
from renkei.care.tests.conftest import verified
from renkei.oncall.models import BackupBedOffer, BackupBedRegistration
from renkei.oncall.tests.test_beds import hospital, patient, register
from renkei.testing import make_member, make_org

__all__ = ["hospital", "patient"]  # the fixtures of the backup-bed tests

pytestmark = pytest.mark.django_db
DOORS = ["html", "api"]
API = "/api/v1/oncall"


def _audit() -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith="oncall.bed")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def _api(client: Client, method: str, path: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(f"{API}{path}", body, content_type="application/json")


def _offer(o: BackupBedOffer) -> tuple[Any, ...]:
    o.refresh_from_db()
    return (o.hospital.name, o.scheme, o.name, o.phone, o.beds, o.note, o.is_active)


@pytest.mark.parametrize("door", DOORS)
def test_an_offer_is_made_and_changed_the_same_through_either_door(door: str) -> None:
    org = make_org("相模原後方病院", OrgKind.HOSPITAL, municipality_code="142123")
    staff = make_member(org, Role.MSW, username="msw-doors")
    c = verified(Client(), staff)
    body: dict[str, Any] = {
        "scheme": "association",
        "name": "県央医師会 後方ベッド",
        "phone": "046-300-1234",
        "beds": 3,
        "note": "平日日中は地域連携室へ",
        "is_active": True,
    }
    if door == "html":
        assert c.post("/oncall/beds/offers/new/", body).status_code == 302
    else:
        assert _api(c, "post", "/beds/offers", body).status_code == 201
    offer = BackupBedOffer.objects.get()
    assert _offer(offer) == (
        "相模原後方病院",
        "association",
        "県央医師会 後方ベッド",
        "046-300-1234",
        3,
        "平日日中は地域連携室へ",
        True,
    )
    paused = {**body, "beds": 0, "is_active": False}
    if door == "html":
        del paused["is_active"]  # an unticked box is not sent
        assert c.post(f"/oncall/beds/offers/{offer.code}/", paused).status_code == 302
    else:
        assert _api(c, "put", f"/beds/offers/{offer.code}", paused).status_code == 200
    assert _offer(offer)[4:] == (0, "平日日中は地域連携室へ", False)
    assert _audit() == ["oncall.bed_offer_saved", "oncall.bed_offer_saved"]


def _registration(reg: BackupBedRegistration) -> tuple[Any, ...]:
    reg.refresh_from_db()
    return (
        reg.status,
        [e.summary for e in reg.exchanges.order_by("pk")],
        [(u.admitted_on, u.outcome, u.discharged_on, u.note) for u in reg.uses.order_by("pk")],
    )


@pytest.mark.parametrize("door", DOORS)
def test_a_registration_is_answered_informed_and_used_the_same_through_either_door(
    doctor_a: Membership,
    patient: Patient,
    hospital: tuple[Organization, Membership, BackupBedOffer],
    door: str,
) -> None:
    reg = register(patient, doctor_a, hospital[2])
    c = verified(Client(), hospital[1])
    before = _audit()
    today = timezone.localdate()
    admitted, discharged = today - dt.timedelta(days=5), today - dt.timedelta(days=1)
    use = {
        "admitted_on": admitted.isoformat(),
        "outcome": "home",
        "discharged_on": discharged.isoformat(),
        "note": "肺炎で入院",
    }
    if door == "html":
        base = f"/oncall/beds/{reg.code}"
        assert c.post(f"{base}/decide/", {"accept": "1", "version": reg.version}).status_code == 302
        assert c.post(f"{base}/exchange/", {"summary": "受入れ可。"}).status_code == 302
        assert c.post(f"{base}/use/", use).status_code == 302
    else:
        base = f"/beds/registrations/{reg.code}"
        r = _api(c, "post", f"{base}/decide", {"accept": True, "version": reg.version})
        assert r.status_code == 200
        assert _api(c, "post", f"{base}/exchanges", {"summary": "受入れ可。"}).status_code == 201
        assert _api(c, "post", f"{base}/uses", use).status_code == 201
    assert _registration(reg) == (
        "accepted",
        ["心不全。急変時は入院を希望。", "受入れ可。"],
        [(admitted, "home", discharged, "肺炎で入院")],
    )
    assert _audit()[len(before) :] == [
        "oncall.bed_decided",
        "oncall.bed_information_sent",
        "oncall.bed_used",
    ]
    # A discharge before the admission: one message on both doors, nothing recorded.
    state, audit = _registration(reg), _audit()
    backwards = {**use, "discharged_on": (admitted - dt.timedelta(days=1)).isoformat()}
    message = "退院日は受診・入院日以降にしてください"
    if door == "html":
        r = c.post(f"/oncall/beds/{reg.code}/use/", backwards)
        assert r.status_code == 400 and message in r.content.decode()
    else:
        r = _api(c, "post", f"/beds/registrations/{reg.code}/uses", backwards)
        assert r.status_code == 400
        assert r.json() == {"detail": message, "field": "discharged_on"}
    assert (_registration(reg), _audit()) == (state, audit)
