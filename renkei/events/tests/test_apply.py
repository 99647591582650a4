from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry
from renkei.events import actions
from renkei.events.models import Applicant, Application, Event, Occupation
from renkei.events.testing import application_data, person

pytestmark = pytest.mark.django_db


def form_post(event: Event, rows: list[dict[str, str]], **fields: str) -> dict[str, str]:
    data = {
        "office_name": "ひまわり居宅介護支援事業所",
        "contact_name": "連絡 担当",
        "contact_email": "himawari@example.jp",
        "contact_phone": "046-000-0002",
        "question_to": "doctor",
        "question": "急変時に何を準備しておけばよいですか。",
        "agree": "on",
        "form_token": "t-" + str(len(rows)),
        "a-TOTAL_FORMS": str(len(rows)),
        "a-INITIAL_FORMS": "0",
        "a-MIN_NUM_FORMS": "1",
        "a-MAX_NUM_FORMS": "20",
    }
    for i, row in enumerate(rows):
        for k, v in row.items():
            data[f"a-{i}-{k}"] = v
    data.update(fields)
    return data


def row(name: str, kana: str, email: str, occupation: str) -> dict[str, str]:
    return {"name": name, "kana": kana, "email": email, "occupation": occupation}


def test_care_worker_applies_with_two_colleagues(
    client: Client, event: Event, django_capture_on_commit_callbacks: Any
) -> None:
    """One form, three applicants: all confirmed, the contact gets one e-mail listing all
    three with the cancellation link, and each colleague with an own address gets one too."""
    rows = [
        row("佐藤 花子", "さとう はなこ", "sato@example.jp", "care_worker"),
        row("鈴木 太郎", "スズキ タロウ", "suzuki@example.jp", "nurse"),
        row("高橋 美咲", "たかはし みさき", "同上", "care_manager"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:apply", args=[event.code]), form_post(event, rows))
    assert response.status_code == 302
    app = Application.objects.get()
    assert response["Location"] == app.get_absolute_url()
    applicants = list(app.applicants.order_by("position"))
    assert [a.name for a in applicants] == ["佐藤 花子", "鈴木 太郎", "高橋 美咲"]
    assert {a.status for a in applicants} == {Applicant.Status.CONFIRMED}
    # Katakana is accepted and stored as hiragana; 「同上」 means the contact's address.
    assert applicants[1].kana == "すずき たろう"
    assert applicants[2].email == ""
    assert app.question_to == Occupation.DOCTOR
    assert [m.to for m in mail.outbox] == [
        ["himawari@example.jp"],
        ["sato@example.jp"],
        ["suzuki@example.jp"],
    ]
    body = mail.outbox[0].body
    assert "佐藤 花子" in body and "鈴木 太郎" in body and "高橋 美咲" in body
    assert app.get_absolute_url() in body
    assert "令和" in body
    assert AuditEntry.objects.filter(action="events.applied", target_id=str(app.code)).exists()


def test_confirmation_page_follows_the_redirect(client: Client, event: Event) -> None:
    """After applying, the applicant lands on their own application page with the statuses."""
    rows = [row("佐藤 花子", "さとう はなこ", "sato@example.jp", "care_worker")]
    response = client.post(
        reverse("events:apply", args=[event.code]), form_post(event, rows), follow=True
    )
    assert response.status_code == 200
    assert "申込を受け付けました" in response.content.decode()
    assert "参加確定" in response.content.decode()


def test_resubmitting_the_same_form_creates_nothing_more(client: Client, event: Event) -> None:
    """A double click (same form token, same content) returns the first application."""
    rows = [row("佐藤 花子", "さとう はなこ", "sato@example.jp", "care_worker")]
    url = reverse("events:apply", args=[event.code])
    first = client.post(url, form_post(event, rows))
    second = client.post(url, form_post(event, rows))
    assert first["Location"] == second["Location"]
    assert Application.objects.count() == 1
    assert Applicant.objects.count() == 1


def test_action_applies_without_the_web_form(event: Event) -> None:
    """The action is the authority: the same rules hold for the API and the seed."""
    app, created = actions.apply(event, application_data([person(1), person(2)]))
    assert created
    assert app.applicants.count() == 2
    assert event.places_left() == 28


def test_public_lecture_needs_no_office(organiser: object) -> None:
    """Citizens applying to a 市民向け出前講座 may leave 事業所名 and phone blank."""
    from renkei.events.models import EventKind
    from renkei.events.testing import make_event, resident_data

    lecture = make_event(organiser, kind=EventKind.PUBLIC_LECTURE, title="人生会議を知ろう")  # type: ignore[arg-type]
    data = resident_data(3, phone="")
    app, _ = actions.apply(lecture, data)
    assert app.office_name == ""


class BrokenMail(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("SMTP is down")


def test_mail_outage_does_not_lose_the_application(
    client: Client, event: Event, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The application is committed before mail is sent; an SMTP outage is logged, and
    the applicant still reaches their page (with its link) instead of an error."""
    settings.EMAIL_BACKEND = "renkei.events.tests.test_apply.BrokenMail"
    rows = [row("佐藤 花子", "さとう はなこ", "sato@example.jp", "care_worker")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:apply", args=[event.code]), form_post(event, rows))
    assert response.status_code == 302
    assert Application.objects.get().applicants.count() == 1
