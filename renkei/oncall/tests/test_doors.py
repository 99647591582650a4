"""The screens and /api/v1/oncall/ run the same actions: the same input leaves the same state,
and the same bad input is refused with the same Japanese message, changing nothing."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from icalendar import Calendar
from openpyxl import load_workbook

from renkei.accounts.models import Membership, Organization
from renkei.oncall import actions
from renkei.oncall.models import MonthStatus, Rota, RotaMonth, Shift
from renkei.oncall.testing import make_clinic, make_organiser, make_rota, member_of, publish
from renkei.testing import sign_in


def _state(rota: Rota) -> list[tuple[str, str, str, str | None]]:
    return [
        (s.day.isoformat(), s.label, s.day_type, s.member.organization.name if s.member else None)
        for s in Shift.objects.filter(rota=rota).select_related("member__organization")
    ]


@pytest.mark.django_db
def test_generating_and_publishing_a_month_through_either_door_gives_the_same_rota(
    client: Client,
) -> None:
    states = []
    for door in ("html", "api"):
        organiser = make_organiser(f"{door}医師会", username=f"org-{door}")
        clinics = [make_clinic(f"{door}クリニック{c}") for c in "ABC"]
        rota = make_rota(organiser, clinics, name=f"{door} 当番")
        sign_in(client, organiser.user)
        if door == "html":
            for step in ("generate", "publish"):
                page = client.get(f"/oncall/rotas/{rota.code}/month/{step}/?month=2026-11")
                says = {"generate": "公平に割り当てます", "publish": "公開すると"}[step]
                assert page.status_code == 200 and says in page.content.decode()
                r = client.post(f"/oncall/rotas/{rota.code}/month/{step}/", {"month": "2026-11"})
                assert r.status_code == 302
        else:
            for step in ("generate", "publish"):
                r = client.post(
                    f"/api/v1/oncall/rotas/{rota.code}/{step}",
                    {"month": "2026-11"},
                    content_type="application/json",
                )
                assert r.status_code == 200, r.content
            assert r.json()["status"] == MonthStatus.PUBLISHED
            assert len(r.json()["shifts"]) == 37
        assert RotaMonth.objects.get(rota=rota).status == MonthStatus.PUBLISHED
        states.append(
            [(d, lbl, t, n.removeprefix(door) if n else None) for d, lbl, t, n in _state(rota)]
        )
    assert states[0] == states[1]
    assert len(states[0]) == 37


@pytest.mark.django_db
def test_a_published_month_is_not_drawn_again_on_either_door(
    client: Client, rota: Rota, organiser: Membership
) -> None:
    publish(rota, organiser, "2026-11")
    before = _state(rota)
    sign_in(client, organiser.user)
    api = client.post(
        f"/api/v1/oncall/rotas/{rota.code}/generate",
        {"month": "2026-11"},
        content_type="application/json",
    )
    assert api.status_code == 409
    message = api.json()["detail"]
    assert message == "公開済みの月は作り直せません。個々の枠を変更してください"
    html = client.post(
        f"/oncall/rotas/{rota.code}/month/generate/", {"month": "2026-11"}, follow=True
    )
    assert message in html.content.decode()
    assert _state(rota) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{"month": "2026-13"}, {"month": "11/2026"}, {"month": ""}, {}, {"month": "2026-11", "x": 1}],
)
def test_a_bad_month_is_refused_in_japanese_and_changes_nothing(
    client: Client, rota: Rota, organiser: Membership, body: dict[str, object]
) -> None:
    sign_in(client, organiser.user)
    r = client.post(
        f"/api/v1/oncall/rotas/{rota.code}/generate", body, content_type="application/json"
    )
    assert r.status_code in (400, 422)
    assert any("\u3040" <= ch <= "\u9fff" for ch in r.json()["detail"])
    assert not Shift.objects.filter(rota=rota).exists()


@pytest.mark.django_db
def test_assigning_a_member_of_another_rota_is_refused_on_both_doors(
    client: Client, rota: Rota, organiser: Membership, clinics: list[Organization]
) -> None:
    publish(rota, organiser, "2026-11")
    other_org = make_organiser("別の医師会", username="other-org")
    other = make_rota(other_org, [make_clinic("別の診療所")], name="別の当番")
    stranger = other.members.get()
    shift = Shift.objects.filter(rota=rota).first()
    assert shift is not None
    before = shift.member_id
    sign_in(client, organiser.user)
    api = client.put(
        f"/api/v1/oncall/shifts/{shift.code}",
        {"member": str(stranger.code)},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert api.json()["detail"] == "この当番表の参加機関ではありません"
    html = client.post(
        f"/oncall/shifts/{shift.code}/",
        {"do": "assign", "member": str(stranger.code), "version": shift.version},
    )
    # The select offers only this rota's members, so the form itself refuses the stranger.
    assert html.status_code == 400
    assert (
        "正しく選択してください" in html.content.decode()
        or "参加機関ではありません" in html.content.decode()
    )
    shift.refresh_from_db()
    assert shift.member_id == before
    # A member of this rota is accepted on the HTML door, and the version moves on.
    b = member_of(rota, clinics[1])
    ok = client.post(
        f"/oncall/shifts/{shift.code}/",
        {"do": "assign", "member": str(b.code), "version": shift.version},
    )
    assert ok.status_code == 302
    shift.refresh_from_db()
    assert shift.member_id == b.pk
    stale = client.put(
        f"/api/v1/oncall/shifts/{shift.code}",
        {"member": None, "version": shift.version - 1},
        content_type="application/json",
    )
    assert stale.status_code == 409


@pytest.mark.django_db
def test_a_bad_member_form_keeps_the_input_and_says_why(
    client: Client, rota: Rota, organiser: Membership, clinics: list[Organization]
) -> None:
    sign_in(client, organiser.user)
    newcomer = make_clinic("新しい在宅クリニック")
    r = client.post(
        f"/oncall/rotas/{rota.code}/members/",
        {
            "organization": str(newcomer.code),
            "phone": "０４６－２２２－ｘｘｘｘ",
            "doctor": "テスト医師",
            "sort_order": 5,
        },
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert "電話番号の形式が正しくありません" in page
    assert "テスト医師" in page
    assert not rota.members.filter(organization=newcomer).exists()
    ok = client.post(
        f"/oncall/rotas/{rota.code}/members/",
        {
            "organization": str(newcomer.code),
            "phone": "０４６－２２２－３３３３",
            "doctor": "",
            "sort_order": 5,
        },
    )
    assert ok.status_code == 302
    assert rota.members.get(organization=newcomer).phone == "046-222-3333"


@pytest.mark.django_db
def test_print_excel_and_calendar_show_the_published_month(
    client: Client, rota: Rota, organiser: Membership, doctor_a: Membership
) -> None:
    publish(rota, organiser, "2026-11")
    sign_in(client, doctor_a.user)
    printed = client.get(f"/oncall/rotas/{rota.code}/print/?month=2026-11").content.decode()
    assert "勤労感謝の日" in printed and "2026年11月" in printed
    xlsx = client.get(f"/oncall/rotas/{rota.code}/export.xlsx?month=2026-11")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("日付", "曜日", "区分", "枠")
    assert len(rows) == 1 + 37
    assert rows[1][0] == dt.datetime(2026, 11, 1).replace(tzinfo=None)  # noqa: DTZ001 (Excel dates are naive)
    a = rota.members.get(organization=doctor_a.organization)
    # The feed holds the last month and the next four; seen from mid-November, all of it.
    with mock.patch(
        "django.utils.timezone.now", return_value=dt.datetime(2026, 11, 15, 3, 0, tzinfo=dt.UTC)
    ):
        feed = client.get(f"/oncall/feed/{a.feed_token()}.ics")
    cal = Calendar.from_ical(feed.content)
    events = cal.walk("VEVENT")
    assert events and all("当番" in str(e["SUMMARY"]) for e in events)
    assert len(events) == Shift.objects.filter(member=a).count()


@pytest.mark.django_db
def test_the_exports_carry_no_live_formula(client: Client, organiser: Membership) -> None:
    """A member organisation named like a formula is written as text in Excel and CSV."""
    evil = make_clinic('=HYPERLINK("http://evil.example/")')
    rota = make_rota(organiser, [evil], name="@SUM(1)")
    publish(rota, organiser, "2026-11")
    sign_in(client, organiser.user)
    xlsx = client.get(f"/oncall/rotas/{rota.code}/export.xlsx?month=2026-11")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws is not None
    names = {row[6] for row in ws.iter_rows(min_row=2, values_only=True)}
    # One member cannot take touching shifts, so some are gaps; the rest are the clinic's.
    assert names - {"（空き）"} == {'\'=HYPERLINK("http://evil.example/")'}
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    text = client.get(f"/oncall/rotas/{rota.code}/export.csv?month=2026-11").content.decode(
        "utf-8-sig"
    )
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert client.get(f"/oncall/rotas/{rota.code}/export.pdf?month=2026-11").status_code == 404


@pytest.mark.django_db
def test_a_gap_is_red_on_the_month_page_and_on_paper(
    client: Client, rota: Rota, organiser: Membership, doctor_a: Membership
) -> None:
    """Issue 14 §1: gaps shown in red, on screen and on the printed A4 table."""
    publish(rota, organiser, "2026-11")
    night = Shift.objects.get(rota=rota, day=dt.date(2026, 11, 24))
    actions.assign_shift(night, by=organiser, data=actions.AssignInput(member=None))
    sign_in(client, doctor_a.user)
    for url in (
        f"/oncall/rotas/{rota.code}/?month=2026-11",
        f"/oncall/rotas/{rota.code}/print/?month=2026-11",
    ):
        page = client.get(url).content.decode()
        assert page.count('<strong class="gap-label">空き</strong>') == 1, url
        assert 'class="shift gap"' in page, url
    css = (Path(settings.BASE_DIR) / "static/css/renkei.css").read_text()
    assert ".gap, .gap-label { color: #b00020" in css
