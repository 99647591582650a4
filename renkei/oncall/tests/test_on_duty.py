"""Who answers now: published shifts, swaps taking effect at the right minute in Japan time."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client

from renkei.accounts.menu import count_together
from renkei.accounts.models import Membership, Organization
from renkei.lib.actions import Conflict, Forbidden
from renkei.oncall import actions
from renkei.oncall.models import Rota, Shift, SwapStatus
from renkei.oncall.testing import member_of, publish
from renkei.oncall.views import pending_swaps, pending_swaps_badge
from renkei.testing import sign_in

JST = ZoneInfo("Asia/Tokyo")


def _at(y: int, m: int, d: int, hh: int, mm: int) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=JST)


def _badge(m: Membership) -> tuple[int, int]:
    """The menu's badge as the menu counts it (ADR 0060), and the QuerySet's count."""
    item: dict[str, Any] = {}
    count_together([(item, pending_swaps_badge(m))])
    return int(item["badge"]), pending_swaps(m).count()


def _who(rota: Rota, moment: dt.datetime) -> str | None:
    [(_, cur, _)] = actions.on_duty([rota], moment)
    return str(cur.member) if cur and cur.member else None


@pytest.mark.django_db
def test_a_swap_changes_who_is_on_duty_across_midnight(
    client: Client,
    rota: Rota,
    organiser: Membership,
    clinics: list[Organization],
    doctor_a: Membership,
    doctor_b: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    publish(rota, organiser, "2026-11")
    night = Shift.objects.get(rota=rota, day=dt.date(2026, 11, 24))
    a, b = member_of(rota, clinics[0]), member_of(rota, clinics[1])
    actions.assign_shift(night, by=organiser, data=actions.AssignInput(member=a.code))
    night.refresh_from_db()
    assert _who(rota, _at(2026, 11, 24, 23, 59)) == str(a)
    mail.outbox.clear()
    with (
        mock.patch("django.utils.timezone.now", return_value=_at(2026, 11, 20, 10, 0)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        swap = actions.request_swap(
            night, by=doctor_a, data=actions.SwapInput(to_member=b.code, note="学会のため")
        )
        actions.answer_swap(swap, by=doctor_b, data=actions.SwapAnswerInput(accept=True))
    swap.refresh_from_db()
    assert swap.status == SwapStatus.DONE
    assert _who(rota, _at(2026, 11, 24, 17, 59)) != str(b)  # the day before the night: not yet
    assert _who(rota, _at(2026, 11, 24, 18, 0)) == str(b)
    assert _who(rota, _at(2026, 11, 25, 0, 1)) == str(b)  # after midnight, same night
    assert _who(rota, _at(2026, 11, 25, 8, 59)) == str(b)
    assert _who(rota, _at(2026, 11, 25, 9, 0)) is None  # office hours: no shift
    # Both clinics heard of the request and the change.
    subjects = [m.subject for m in mail.outbox]
    assert any("当番交代のお願い" in s for s in subjects)
    assert any("当番の変更" in s for s in subjects)

    sign_in(client, doctor_a.user)
    with mock.patch("django.utils.timezone.now", return_value=_at(2026, 11, 25, 0, 1)):
        body = client.get("/api/v1/oncall/now?municipality=142123").json()
        page = client.get("/oncall/now/?municipality=142123").content.decode()
    assert body[0]["now"]["member"]["code"] == str(b.code)
    assert f"tel:{b.phone}" in page


@pytest.mark.django_db
def test_swaps_wait_for_the_organiser_unless_the_rota_allows_them(
    rota: Rota,
    organiser: Membership,
    clinics: list[Organization],
    doctor_a: Membership,
    doctor_b: Membership,
) -> None:
    rota.members_swap_freely = False
    rota.save()
    publish(rota, organiser, "2026-11")
    night = Shift.objects.get(rota=rota, day=dt.date(2026, 11, 26))
    a, b = member_of(rota, clinics[0]), member_of(rota, clinics[1])
    actions.assign_shift(night, by=organiser, data=actions.AssignInput(member=a.code))
    with mock.patch("django.utils.timezone.now", return_value=_at(2026, 11, 20, 10, 0)):
        swap = actions.request_swap(night, by=doctor_a, data=actions.SwapInput(to_member=b.code))
        with pytest.raises(Conflict):
            actions.request_swap(night, by=doctor_a, data=actions.SwapInput(to_member=b.code))
        assert (_badge(doctor_b), _badge(organiser)) == ((1, 1), (0, 0))  # b's to answer
        swap = actions.answer_swap(swap, by=doctor_b, data=actions.SwapAnswerInput(accept=True))
        assert swap.status == SwapStatus.ACCEPTED
        assert (_badge(doctor_b), _badge(organiser)) == ((0, 0), (1, 1))  # the organiser's
        night.refresh_from_db()
        assert night.member_id == a.pk
        with pytest.raises(Forbidden):
            actions.decide_swap(swap, by=doctor_b, data=actions.SwapAnswerInput(accept=True))
        actions.decide_swap(swap, by=organiser, data=actions.SwapAnswerInput(accept=True))
    night.refresh_from_db()
    assert night.member_id == b.pk


@pytest.mark.django_db
def test_only_the_clinic_on_duty_asks_for_a_swap(
    rota: Rota, organiser: Membership, clinics: list[Organization], doctor_b: Membership
) -> None:
    publish(rota, organiser, "2026-11")
    night = Shift.objects.get(rota=rota, day=dt.date(2026, 11, 26))
    a, c = member_of(rota, clinics[0]), member_of(rota, clinics[2])
    actions.assign_shift(night, by=organiser, data=actions.AssignInput(member=a.code))
    with (
        mock.patch("django.utils.timezone.now", return_value=_at(2026, 11, 20, 10, 0)),
        pytest.raises(Forbidden),
    ):
        actions.request_swap(night, by=doctor_b, data=actions.SwapInput(to_member=c.code))


@pytest.mark.django_db
def test_gaps_are_alerted_once_within_the_window(
    rota: Rota,
    organiser: Membership,
    clinics: list[Organization],
    django_capture_on_commit_callbacks: Any,
) -> None:
    organiser.organization.email = "jimukyoku@example.jp"
    organiser.organization.save()
    publish(rota, organiser, "2026-11")
    night = Shift.objects.get(rota=rota, day=dt.date(2026, 11, 26))
    actions.assign_shift(night, by=organiser, data=actions.AssignInput(member=None))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.alert_gaps(_at(2026, 11, 20, 12, 0)) == 0  # 6 days ahead: outside 72 h
        assert actions.alert_gaps(_at(2026, 11, 24, 12, 0)) == 1
        assert actions.alert_gaps(_at(2026, 11, 24, 13, 0)) == 0
    # The 医師会's address and its member's, once each, for the one shift.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["jimukyoku@example.jp", organiser.user.email]
    )
    assert all("空き枠" in m.subject and "11月26日" in m.subject for m in mail.outbox)
