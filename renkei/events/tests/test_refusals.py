from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Organization
from renkei.events import actions
from renkei.events.models import Applicant, Application, Event
from renkei.events.testing import (
    applicant,
    application_data,
    make_application,
    make_event,
    person,
)
from renkei.events.tests.test_apply import form_post, row
from renkei.lib.actions import ActionError
from renkei.lib.inputs import parse

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[int, int, int, int]:
    return (
        Application.objects.count(),
        Applicant.objects.count(),
        AuditEntry.objects.filter(action="events.applied").count(),
        len(mail.outbox),
    )


def test_after_the_deadline_is_refused_and_nothing_saved(
    organiser: Organization, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    """The day after the 申込期限 the form says so, returns 409 and stores nothing."""
    event = make_event(organiser, apply_until=timezone.now() - dt.timedelta(hours=1), days_ahead=10)
    before = snapshot()
    rows = [row("佐藤 花子", "さとう はなこ", "sato@example.jp", "care_worker")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:apply", args=[event.code]), form_post(event, rows))
    assert response.status_code == 409
    assert "申込期限" in response.content.decode()
    assert snapshot() == before
    with pytest.raises(ActionError, match="申込期限"):
        actions.apply(event, application_data([person(1)]))
    assert snapshot() == before


def test_get_after_the_deadline_shows_no_form(organiser: Organization, client: Client) -> None:
    """A closed event's application page explains why instead of showing the form."""
    event = make_event(organiser, apply_until=timezone.now() - dt.timedelta(days=1))
    response = client.get(reverse("events:apply", args=[event.code]))
    body = response.content.decode()
    assert "受付を終了しました" in body
    assert 'name="contact_email"' not in body


def test_double_application_by_email_is_refused(
    event: Event, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    """An e-mail already registered for the event is refused with a clear message, even
    when the rest of the form is new; nothing is saved and what was typed is kept."""
    make_application(event, [person(1)], contact_email="first@example.jp")
    before = snapshot()
    rows = [
        row("新人 さん", "しんじん さん", "new@example.jp", "nurse"),
        row(person(1).name, person(1).kana, person(1).email.upper(), "care_worker"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("events:apply", args=[event.code]),
            form_post(event, rows, contact_email="second@example.jp"),
        )
    body = response.content.decode()
    assert response.status_code == 409
    assert "既に申し込まれています" in body
    assert snapshot() == before
    assert 'value="new@example.jp"' in body and 'value="second@example.jp"' in body


def test_same_email_twice_in_one_form_is_refused(event: Event, client: Client) -> None:
    """Two rows with one address are caught before anything is stored."""
    rows = [
        row("佐藤 花子", "さとう はなこ", "same@example.jp", "care_worker"),
        row("鈴木 太郎", "すずき たろう", "same@example.jp", "nurse"),
    ]
    before = snapshot()
    response = client.post(reverse("events:apply", args=[event.code]), form_post(event, rows))
    assert response.status_code == 400
    assert "同じメールアドレス" in response.content.decode()
    assert snapshot() == before


def test_applicant_without_email_is_recognised_by_name_and_office(event: Event) -> None:
    """「同上」 applicants from the same contact address cannot be registered twice."""
    no_mail = applicant("佐藤 花子", "さとう はなこ", "同上", "care_worker")
    actions.apply(event, application_data([no_mail]))
    with pytest.raises(ActionError, match="既に申し込まれています"):
        actions.apply(event, application_data([no_mail]))
    assert Applicant.objects.count() == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("a-0-email", "sato@@example"),
        ("a-0-email", "sato example.jp"),
        ("contact_email", "office@"),
        ("contact_email", "＠example.jp"),
    ],
)
def test_malformed_email_is_refused(event: Event, client: Client, field: str, value: str) -> None:
    """A malformed address in any row or the contact is refused with 400; nothing saved;
    the bad value is shown back to be corrected."""
    rows = [row("佐藤 花子", "さとう はなこ", "sato@example.jp", "care_worker")]
    before = snapshot()
    response = client.post(
        reverse("events:apply", args=[event.code]), form_post(event, rows, **{field: value})
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "メールアドレスの形式が正しくありません" in body
    assert snapshot() == before
    assert "佐藤 花子" in body


def test_kana_must_be_hiragana(event: Event, client: Client) -> None:
    """ふりがな in kanji or latin letters is refused with a hint."""
    rows = [row("佐藤 花子", "佐藤花子", "sato@example.jp", "care_worker")]
    response = client.post(reverse("events:apply", args=[event.code]), form_post(event, rows))
    assert response.status_code == 400
    assert "ひらがなで入力してください" in response.content.decode()
    assert Applicant.objects.count() == 0


def test_one_bad_applicant_saves_none_of_the_colleagues(event: Event) -> None:
    """The input validates every row before anything is written: the first two are not kept
    alone, and the refusal names the row as the paper form numbers it."""
    bad = {"name": "誤り", "kana": "ごり", "email": "not-an-email", "occupation": "nurse"}
    body = application_data([person(1), person(2)]).model_dump()
    with pytest.raises(ActionError, match="申込者3"):
        actions.apply(
            event,
            parse(
                actions.EventApplicationInput, {**body, "applicants": [*body["applicants"], bad]}
            ),
        )
    assert Application.objects.count() == 0 and Applicant.objects.count() == 0


def test_constraint_backs_the_duplicate_check(event: Event) -> None:
    """Even a write that skips the check cannot give one e-mail two live places."""
    from django.db import IntegrityError, transaction

    app = make_application(event, [person(1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        Applicant.objects.create(
            application=app,
            event=event,
            name="重複",
            kana="ちょうふく",
            email=person(1).email,
            occupation="nurse",
            position=99,
        )


def test_missing_first_applicant_is_refused(event: Event, client: Client) -> None:
    """A form with only the office filled in asks for at least one applicant."""
    data = form_post(event, [row("", "", "", "")])
    response = client.post(reverse("events:apply", args=[event.code]), data)
    assert response.status_code == 400
    assert Application.objects.count() == 0
