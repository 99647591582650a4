"""Parity of the rota writes: the screen and /api/v1/oncall/ hand the same typed input to the
same action, so the same input leaves the same rows and audit lines, and the same bad input is
refused with the same Japanese message on both doors, changing nothing.

Each test runs once per door in a fresh database and compares with one expected state: both
doors meeting the same expectation is the parity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization, Role
from renkei.oncall.models import Rota, Shift, ShiftRule, SwapRequest, Unavailability
from renkei.oncall.testing import make_clinic, make_rota, member_of, publish
from renkei.regions.models import SecondaryArea
from renkei.testing import make_member, sign_in

pytestmark = pytest.mark.django_db
DOORS = ["html", "api"]
API = "/api/v1/oncall"


def _next_month() -> str:
    """A month whose shifts are all still ahead (swaps refuse a shift that has ended)."""
    return f"{timezone.localdate().replace(day=28) + dt.timedelta(days=10):%Y-%m}"


def _audit() -> list[tuple[str, dict[str, Any]]]:
    return [
        (a, d)
        for a, d in AuditEntry.objects.filter(action__startswith="oncall.")
        .order_by("pk")
        .values_list("action", "detail")
    ]


def _api(client: Client, method: str, path: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(f"{API}{path}", body, content_type="application/json")


def _refused(r: Any, door: str, status: int, message: str) -> None:
    """The refusal as each door shows it: the API's body, the page (or the next page's
    message after a redirect) on the screen."""
    if door == "api":
        assert r.status_code == status, r.content
        assert r.json()["detail"] == message
    else:
        assert r.status_code in (status, 200), r.status_code
        assert message in r.content.decode()


def _rota_state(rota: Rota) -> tuple[Any, ...]:
    rota.refresh_from_db()
    return (
        rota.name,
        rota.kind,
        rota.rotation,
        rota.area.name if rota.area else None,
        sorted(m.code for m in rota.municipalities.all()),
        rota.gap_alert_hours,
        rota.members_swap_freely,
        rota.contact,
    )


@pytest.mark.parametrize("door", DOORS)
def test_a_rota_is_created_and_changed_the_same_through_either_door(
    client: Client, organiser: Membership, door: str
) -> None:
    area = SecondaryArea.objects.get(prefecture__code="14", name="県央").pk
    body: dict[str, Any] = {
        "name": "県央 夜間当番",
        "kind": "hospital",
        "rotation": "weekly",
        "area_id": area,
        "municipality_codes": ["142123"],
        "gap_alert_hours": 48,
        "members_swap_freely": True,
        "contact": "046-200-9999",
    }
    sign_in(client, organiser.user)
    if door == "html":
        assert client.post("/oncall/rotas/new/", body).status_code == 302
    else:
        assert _api(client, "post", "/rotas", body).status_code == 201
    rota = Rota.objects.get()
    assert _rota_state(rota) == (
        "県央 夜間当番",
        "hospital",
        "weekly",
        "県央",
        ["142123"],
        48,
        True,
        "046-200-9999",
    )
    changed = {**body, "name": "県央 夜間・休日当番", "municipality_codes": [], "area_id": None}
    changed["members_swap_freely"] = False
    if door == "html":
        del changed["members_swap_freely"]  # an unticked box is not sent
        changed["area_id"] = ""
        assert client.post(f"/oncall/rotas/{rota.code}/edit/", changed).status_code == 302
    else:
        assert _api(client, "put", f"/rotas/{rota.code}", changed).status_code == 200
    assert _rota_state(rota) == (
        "県央 夜間・休日当番",
        "hospital",
        "weekly",
        None,
        [],
        48,
        False,
        "046-200-9999",
    )
    assert _audit() == [
        ("oncall.rota_saved", {"name": "県央 夜間当番"}),
        ("oncall.rota_saved", {"name": "県央 夜間・休日当番"}),
    ]


@pytest.mark.parametrize("door", DOORS)
def test_a_clinic_cannot_organise_a_rota_on_either_door(client: Client, door: str) -> None:
    clinic = make_member(make_clinic("ひとりクリニック"), Role.DOCTOR, username="solo")
    sign_in(client, clinic.user)
    body = {"name": "勝手な当番", "kind": "night_holiday", "rotation": "daily"}
    if door == "html":
        assert client.post("/oncall/rotas/new/", {**body, "gap_alert_hours": 72}).status_code == 404
    else:
        r = _api(client, "post", "/rotas", body)
        assert r.status_code == 403
        assert (
            r.json()["detail"] == "当番表を作れるのは医師会・市区町村・病院・連携支援センターです"
        )
    assert not Rota.objects.exists() and _audit() == []


def _members(rota: Rota) -> list[tuple[str, str, str, int]]:
    return [
        (m.organization.name, m.doctor, m.phone, m.sort_order)
        for m in rota.members.select_related("organization").order_by("sort_order")
    ]


@pytest.mark.parametrize("door", DOORS)
def test_a_member_is_added_the_same_and_refused_twice_the_same(
    client: Client, rota: Rota, organiser: Membership, door: str
) -> None:
    newcomer = make_clinic("新しい在宅クリニック")
    body = {
        "organization": str(newcomer.code),
        "doctor": "試験 一郎",
        "phone": "０４６－２２２－３３３３",
        "sort_order": 9,
    }
    sign_in(client, organiser.user)
    before = _audit()
    if door == "html":
        r = client.post(f"/oncall/rotas/{rota.code}/members/", body)
        assert r.status_code == 302
    else:
        assert _api(client, "post", f"/rotas/{rota.code}/members", body).status_code == 201
    assert _members(rota)[-1] == ("新しい在宅クリニック", "試験 一郎", "046-222-3333", 9)
    added = _audit()
    assert added[len(before) :] == [
        ("oncall.member_added", {"member": "新しい在宅クリニック（試験 一郎）"})
    ]
    # The same clinic and doctor again: a conflict with one message, nothing added.
    state = _members(rota)
    if door == "html":
        r = client.post(f"/oncall/rotas/{rota.code}/members/", body)
    else:
        r = _api(client, "post", f"/rotas/{rota.code}/members", body)
    _refused(r, door, 409, "この医療機関（担当医）は既に参加しています")
    assert _members(rota) == state and _audit() == added


@pytest.mark.parametrize("door", DOORS)
def test_a_bad_phone_is_refused_with_the_same_message(
    client: Client, rota: Rota, organiser: Membership, door: str
) -> None:
    newcomer = make_clinic("新しい在宅クリニック")
    body = {"organization": str(newcomer.code), "phone": "046-222-xxxx", "sort_order": 5}
    sign_in(client, organiser.user)
    before = (_members(rota), _audit())
    if door == "html":
        r = client.post(f"/oncall/rotas/{rota.code}/members/", body)
        assert r.status_code == 400
        assert "電話番号の形式が正しくありません" in r.content.decode()
    else:
        r = _api(client, "post", f"/rotas/{rota.code}/members", body)
        assert r.status_code == 400
        assert "phone: 電話番号の形式が正しくありません" in r.json()["detail"]
    assert (_members(rota), _audit()) == before


@pytest.mark.parametrize("door", DOORS)
def test_a_rule_is_added_the_same_through_either_door(
    client: Client, rota: Rota, organiser: Membership, door: str
) -> None:
    body = {"day_type": "year_end", "label": "年末年始", "start": "09:00", "end": "09:00"}
    sign_in(client, organiser.user)
    before = _audit()
    if door == "html":
        assert client.post(f"/oncall/rotas/{rota.code}/rules/", body).status_code == 302
    else:
        assert _api(client, "post", f"/rotas/{rota.code}/rules", body).status_code == 201
    rule = ShiftRule.objects.filter(rota=rota).order_by("pk").last()
    assert rule is not None
    assert (rule.day_type, rule.label, rule.start, rule.end) == (
        "year_end",
        "年末年始",
        dt.time(9),
        dt.time(9),
    )
    assert _audit()[len(before) :] == [("oncall.rule_added", {"rule": str(rule)})]


@pytest.mark.parametrize("door", DOORS)
def test_an_unavailable_day_is_marked_the_same_by_the_member_itself(
    client: Client, rota: Rota, doctor_a: Membership, door: str
) -> None:
    own = member_of(rota, doctor_a.organization)
    day = timezone.localdate() + dt.timedelta(days=20)
    sign_in(client, doctor_a.user)
    before = _audit()
    if door == "html":
        form = {"member": str(own.code), "day": day.isoformat(), "note": "学会"}
        assert client.post(f"/oncall/rotas/{rota.code}/unavailable/", form).status_code == 302
    else:
        body = {"member": str(own.code), "days": [day.isoformat()], "note": "学会"}
        r = _api(client, "post", f"/rotas/{rota.code}/unavailable", body)
        assert r.status_code == 200 and r.json() == {"changed": 1}
    assert list(Unavailability.objects.values_list("member", "day", "note")) == [
        (own.pk, day, "学会")
    ]
    assert _audit()[len(before) :] == [
        ("oncall.unavailable_marked", {"member": str(own), "days": 1})
    ]


def _shifts(rota: Rota) -> list[tuple[str, str | None, int]]:
    return [
        (s.day.isoformat(), s.member.organization.name if s.member else None, s.version)
        for s in Shift.objects.filter(rota=rota).select_related("member__organization")
    ]


@pytest.mark.parametrize("door", DOORS)
def test_a_period_is_overridden_the_same_and_a_reversed_one_refused_the_same(
    client: Client, rota: Rota, organiser: Membership, clinics: list[Organization], door: str
) -> None:
    month = _next_month()
    publish(rota, organiser, month)
    first = dt.date.fromisoformat(f"{month}-01")
    d = member_of(rota, clinics[3])
    sign_in(client, organiser.user)
    reversed_period = {
        "member": str(d.code),
        "start": (first + dt.timedelta(days=6)).isoformat(),
        "end": first.isoformat(),
    }
    before = (_shifts(rota), _audit())
    if door == "html":
        r = client.post(f"/oncall/rotas/{rota.code}/override/", reversed_period)
    else:
        r = _api(client, "post", f"/rotas/{rota.code}/override", reversed_period)
    _refused(r, door, 400, "終了日は開始日以降にしてください")
    assert (_shifts(rota), _audit()) == before
    week = {**reversed_period, "start": first.isoformat(), "end": reversed_period["start"]}
    if door == "html":
        assert client.post(f"/oncall/rotas/{rota.code}/override/", week).status_code == 302
    else:
        r = _api(client, "post", f"/rotas/{rota.code}/override", week)
        assert r.status_code == 200
    after = _shifts(rota)
    assert {name for day, name, _ in after if day <= week["end"]} == {clinics[3].name}
    changed = sum(1 for b, a in zip(before[0], after, strict=True) if b[1] != a[1])
    assert changed > 0
    assert _audit()[len(before[1]) :] == [
        (
            "oncall.period_overridden",
            {"start": week["start"], "end": week["end"], "member": str(d), "shifts": changed},
        )
    ]


def _swap_state() -> list[tuple[str, str, str, str]]:
    return [
        (s.from_member.organization.name, s.to_member.organization.name, s.status, s.note)
        for s in SwapRequest.objects.select_related(
            "from_member__organization", "to_member__organization"
        )
    ]


def _swap_world(
    organiser: Membership, clinics: list[Organization]
) -> tuple[Rota, Shift, Membership, Membership]:
    """A rota that needs the organiser's approval, published for next month; the shift a
    member of clinic A holds, and doctors of A and B."""
    rota = make_rota(organiser, clinics, name="承認制の当番", swap_freely=False)
    publish(rota, organiser, _next_month())
    a = member_of(rota, clinics[0])
    shift = Shift.objects.filter(rota=rota, member=a).order_by("day").first()
    assert shift is not None
    dr_a = make_member(clinics[0], Role.DOCTOR, username="swap-a")
    dr_b = make_member(clinics[1], Role.DOCTOR, username="swap-b")
    return rota, shift, dr_a, dr_b


@pytest.mark.parametrize("door", DOORS)
def test_a_swap_is_asked_answered_and_approved_the_same_through_either_door(
    client: Client, organiser: Membership, clinics: list[Organization], door: str
) -> None:
    rota, shift, dr_a, dr_b = _swap_world(organiser, clinics)
    b = member_of(rota, clinics[1])
    sign_in(client, dr_a.user)
    if door == "html":
        body = {"do": "swap", "to_member": str(b.code), "note": "学会のため"}
        assert client.post(f"/oncall/shifts/{shift.code}/", body).status_code == 302
    else:
        body = {"to_member": str(b.code), "note": "学会のため"}
        assert _api(client, "post", f"/shifts/{shift.code}/swaps", body).status_code == 201
    swap = SwapRequest.objects.get()
    assert _swap_state() == [(clinics[0].name, clinics[1].name, "requested", "学会のため")]
    for who, step in ((dr_b, "answer"), (organiser, "decide")):
        sign_in(client, who.user)
        if door == "html":
            r = client.post(f"/oncall/swaps/{swap.code}/", {"accept": "yes"})
            assert r.status_code == 302
        else:
            r = _api(client, "post", f"/swaps/{swap.code}/{step}", {"accept": True})
            assert r.status_code == 200
    assert _swap_state() == [(clinics[0].name, clinics[1].name, "done", "学会のため")]
    shift.refresh_from_db()
    assert shift.member == b
    assert [a for a, _ in _audit()][-3:] == [
        "oncall.swap_requested",
        "oncall.swap_answered",
        "oncall.swap_decided",
    ]


@pytest.mark.parametrize("door", DOORS)
def test_answering_or_deciding_twice_is_refused_with_the_actions_message(
    client: Client, organiser: Membership, clinics: list[Organization], door: str
) -> None:
    """The screen picks the step from the viewer's side, and a step already taken is refused
    with the action's own reason, as the API says it."""
    rota, shift, dr_a, dr_b = _swap_world(organiser, clinics)
    b = member_of(rota, clinics[1])
    sign_in(client, dr_a.user)
    _api(client, "post", f"/shifts/{shift.code}/swaps", {"to_member": str(b.code)})
    swap = SwapRequest.objects.get()
    sign_in(client, dr_b.user)
    _api(client, "post", f"/swaps/{swap.code}/answer", {"accept": False})
    before = (_swap_state(), _audit())
    for who, step, message in (
        (dr_b, "answer", "この申し出には既に回答済みです"),
        (organiser, "decide", "主催者の承認待ちの申し出ではありません"),
    ):
        sign_in(client, who.user)
        if door == "html":
            r = client.post(f"/oncall/swaps/{swap.code}/", {"accept": "yes"}, follow=True)
        else:
            r = _api(client, "post", f"/swaps/{swap.code}/{step}", {"accept": True})
        _refused(r, door, 409, message)
        assert (_swap_state(), _audit()) == before


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/rotas", {"name": "", "kind": "night_holiday", "rotation": "daily"}, "name"),
        ("/rotas", {"name": "当番", "gap_alert_hours": 0}, "gap_alert_hours"),
        ("/rotas", {"name": "当番", "contact": "問" * 201}, "contact"),
        ("{rota}/members", {"phone": "", "sort_order": 1}, "phone"),
        ("{rota}/members", {"phone": "046-222-3333", "sort_order": 1000}, "sort_order"),
        (
            "{rota}/members",
            {"phone": "046-222-3333", "doctor": "医" * 61, "sort_order": 1},
            "doctor",
        ),
    ],
)
def test_the_rota_and_member_forms_refuse_with_the_inputs_message(
    client: Client, rota: Rota, organiser: Membership, path: str, body: dict[str, Any], field: str
) -> None:
    """RotaForm and MemberForm hold no limit of their own: the input's rule refuses on the
    screen with the words the API answers."""
    sign_in(client, organiser.user)
    if "members" in path:
        full = {"organization": str(make_clinic("新しい在宅クリニック").code), **body}
        api = f"/rotas/{rota.code}/members"
        page = f"/oncall/rotas/{rota.code}/members/"
    else:
        full = {"kind": "night_holiday", "rotation": "daily", "gap_alert_hours": 72, **body}
        api, page = "/rotas", "/oncall/rotas/new/"
    before = (_rota_state(rota), _members(rota), Rota.objects.count(), _audit())
    r = _api(client, "post", api, full)
    assert r.status_code == 400, r.content
    message = r.json()["detail"].split(f"{field}: ")[1].split(" / ")[0]
    r = client.post(page, full)
    assert r.status_code == 400 and message in r.content.decode()
    assert (_rota_state(rota), _members(rota), Rota.objects.count(), _audit()) == before
