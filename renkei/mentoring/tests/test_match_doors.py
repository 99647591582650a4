"""Decision, cancellation, visit date, reports, honoraria and notices: the screens (the office's
and the parties' signed pages) and the API act alike."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.mentoring.models import Match, Mentor, TraineeApplication, TrainingProgram
from renkei.mentoring.testing import decide, make_application, make_mentor, report, schedule
from renkei.mentoring.tests.conftest import login


def send(client: Client, url: str, data: dict[str, Any] | None = None, method: str = "post") -> Any:
    return getattr(client, method)(url, json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def mentor(office: Membership) -> Mentor:
    return make_mentor(office.organization)


def two_applications(program: TrainingProgram) -> list[TraineeApplication]:
    return [
        make_application(
            program, f"受講 {n}（仮名）", kana=f"じゅこう {n}", email=f"{e}@example.jp"
        )
        for n, e in (("いち", "ichi"), ("に", "ni"))
    ]


def match_state(a: TraineeApplication) -> tuple[Any, ...]:
    a.refresh_from_db()
    m = Match.objects.filter(application=a).first()
    return (
        a.status,
        a.cancel_reason,
        m.mentor_id if m else None,
        m.decided_by_id if m else None,
        m.notice_sent_at is not None if m else None,
        m.visit_date if m else None,
        (m.mentor_report, m.trainee_report) if m else None,
        (m.honorarium_amount, m.honorarium_paid_at, m.honorarium_recorded_by_id) if m else None,
    )


def test_deciding_through_either_door_matches_and_notifies_alike(
    client: Client,
    program: TrainingProgram,
    office: Membership,
    mentor: Mentor,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The same mentor decided on the screen and through the API: same state, and a
    決定連絡票 to the mentor and the trainee each time, sent with the decision."""
    a, b = two_applications(program)
    login(client, office)
    with django_capture_on_commit_callbacks(execute=True):
        html = client.post(
            reverse("mentoring:match_decide", args=[a.code]), {"mentor": str(mentor.code)}
        )
        api = send(
            client, f"/api/v1/mentoring/applications/{b.code}/match", {"mentor": str(mentor.code)}
        )
    assert html.status_code == 302 and api.status_code == 201
    assert match_state(a) == match_state(b)
    assert match_state(b)[:5] == ("matched", "", mentor.pk, office.user_id, True)
    assert sorted(m.to[0] for m in mail.outbox if "決定連絡票" in m.subject) == sorted(
        [mentor.email, mentor.email, "ichi@example.jp", "ni@example.jp"]
    )


@pytest.mark.parametrize(
    "which, status, message",
    [
        ("inactive", 409, "受入れ中の医師を選んでください"),
        ("foreign", 400, "選んだ指導医はこの研修に登録されていません"),
        ("garbage", 400, "ID の形式が正しくありません"),
        ("blank", 400, "指導医を選んでください"),
    ],
)
@pytest.mark.parametrize("door", ["html", "api"])
def test_a_refused_decision_gets_the_same_message(
    client: Client,
    program: TrainingProgram,
    office: Membership,
    charlie: Membership,
    door: str,
    which: str,
    status: int,
    message: str,
) -> None:
    """An inactive mentor, another office's mentor, a malformed or missing choice: the same
    words on the screen (after its redirect) and in the API; no match is made."""
    a = make_application(program)
    if which == "inactive":
        chosen = str(make_mentor(office.organization, is_active=False).code)
    elif which == "foreign":
        chosen = str(make_mentor(charlie.organization).code)
    else:
        chosen = "not-a-code" if which == "garbage" else ""
    login(client, office)
    if door == "html":
        response = client.post(
            reverse("mentoring:match_decide", args=[a.code]), {"mentor": chosen}, follow=True
        )
        text = response.content.decode()
    else:
        response = send(
            client, f"/api/v1/mentoring/applications/{a.code}/match", {"mentor": chosen}
        )
        assert response.status_code == status
        text = response.json()["detail"]
    assert message in text
    assert not Match.objects.exists()


def test_cancelling_through_either_door(
    client: Client, program: TrainingProgram, office: Membership
) -> None:
    """The same reason recorded alike; an empty reason is refused with the same words."""
    a, b = two_applications(program)
    login(client, office)
    blank_html = client.post(
        reverse("mentoring:cancel", args=[a.code]), {"reason": " "}, follow=True
    )
    blank_api = send(client, f"/api/v1/mentoring/applications/{b.code}/cancel", {"reason": " "})
    assert "取消の理由を入力してください" in blank_html.content.decode()
    assert blank_api.status_code == 400
    assert "取消の理由を入力してください" in blank_api.json()["detail"]
    assert match_state(a)[0] == match_state(b)[0] == "applied"

    client.post(reverse("mentoring:cancel", args=[a.code]), {"reason": "本人の都合"})
    api = send(client, f"/api/v1/mentoring/applications/{b.code}/cancel", {"reason": "本人の都合"})
    assert api.status_code == 200 and api.json()["status"] == "cancelled"
    assert (
        match_state(a)
        == match_state(b)
        == ("cancelled", "本人の都合", None, None, None, None, None, None)
    )


@pytest.fixture
def matched_pair(program: TrainingProgram, office: Membership, mentor: Mentor) -> list[Match]:
    return [decide(a, mentor, by=office) for a in two_applications(program)]


def test_the_office_sets_the_visit_date_alike_and_the_year_bounds_it(
    client: Client, office: Membership, matched_pair: list[Match]
) -> None:
    """A date in the programme's fiscal year is kept; one outside is refused alike."""
    m1, m2 = matched_pair
    login(client, office)
    outside_html = client.post(
        reverse("mentoring:match", args=[m1.code]), {"action": "visit", "visit_date": "2027-01-01"}
    )
    outside_api = send(
        client, f"/api/v1/mentoring/matches/{m2.code}/visit", {"visit_date": "2027-01-01"}, "put"
    )
    assert outside_html.status_code == outside_api.status_code == 400
    assert "令和7年度（2025年度）の期間内" in outside_html.content.decode()
    assert "令和7年度（2025年度）の期間内" in outside_api.json()["detail"]

    client.post(
        reverse("mentoring:match", args=[m1.code]), {"action": "visit", "visit_date": "2025-06-10"}
    )
    assert (
        send(
            client,
            f"/api/v1/mentoring/matches/{m2.code}/visit",
            {"visit_date": "2025-06-10"},
            "put",
        ).status_code
        == 200
    )
    assert match_state(m1.application) == match_state(m2.application)
    assert match_state(m2.application)[5] == dt.date(2025, 6, 10)


def test_a_party_sets_the_date_and_reports_alike_through_its_link(
    client: Client, matched_pair: list[Match]
) -> None:
    """The mentor's signed page and the same link's API: the date, then each side's report;
    a report before the date is refused with the same words."""
    m1, m2 = matched_pair
    page, api = m1.party_url("mentor"), f"/api/v1/mentoring/reports/{m2.token('mentor')}"
    early_html = client.post(page, {"action": "report", "text": "報告"})
    early_api = send(client, f"{api}/report", {"text": "報告"})
    assert early_html.status_code == early_api.status_code == 400
    assert "研修日が登録されていません" in early_html.content.decode()
    assert "研修日が登録されていません" in early_api.json()["detail"]

    assert client.post(page, {"action": "visit", "visit_date": "2025-06-10"}).status_code == 302
    assert send(client, f"{api}/visit", {"visit_date": "2025-06-10"}, "put").status_code == 200
    assert client.post(page, {"action": "report", "text": "訪問3件に同行"}).status_code == 302
    reported = send(client, f"{api}/report", {"text": "訪問3件に同行"})
    assert reported.status_code == 200 and reported.json()["own_report"] == "訪問3件に同行"
    assert match_state(m1.application) == match_state(m2.application)
    assert match_state(m2.application)[0] == "done"
    assert AuditEntry.objects.filter(action="mentoring.reported").count() == 2

    again_html = client.post(page, {"action": "report", "text": "もう一度"})
    again_api = send(client, f"{api}/report", {"text": "もう一度"})
    assert again_html.status_code == again_api.status_code == 409
    assert "報告は既に提出されています" in again_html.content.decode()
    assert again_api.json()["detail"] == "報告は既に提出されています"


def test_honoraria_are_recorded_alike_after_the_mentors_report(
    client: Client, office: Membership, matched_pair: list[Match]
) -> None:
    """Before the mentor's report both doors refuse with the same words; after it, the same
    amount, day and recorder are kept, and a second payment is refused alike."""
    m1, m2 = matched_pair
    login(client, office)
    pay = {"amount": 20000, "paid_at": "2025-07-01"}
    early_html = client.post(
        reverse("mentoring:match", args=[m1.code]), {"action": "honorarium", **pay}
    )
    early_api = send(client, f"/api/v1/mentoring/matches/{m2.code}/honorarium", pay)
    assert early_html.status_code == early_api.status_code == 400
    assert "実施報告が提出されてから" in early_html.content.decode()
    assert "実施報告が提出されてから" in early_api.json()["detail"]

    for m in matched_pair:
        schedule(m, dt.date(2025, 6, 10))
        report(m, "mentor", "同行しました")
    assert (
        client.post(
            reverse("mentoring:match", args=[m1.code]), {"action": "honorarium", **pay}
        ).status_code
        == 302
    )
    assert send(client, f"/api/v1/mentoring/matches/{m2.code}/honorarium", pay).status_code == 200
    assert match_state(m1.application) == match_state(m2.application)
    assert match_state(m2.application)[7] == (20000, dt.date(2025, 7, 1), office.user_id)

    again_html = client.post(
        reverse("mentoring:match", args=[m1.code]), {"action": "honorarium", **pay}
    )
    again_api = send(client, f"/api/v1/mentoring/matches/{m2.code}/honorarium", pay)
    assert again_html.status_code == again_api.status_code == 409
    assert "この研修の謝礼は既に記録されています" in again_html.content.decode()


def test_notices_are_sent_again_alike(
    client: Client,
    office: Membership,
    matched_pair: list[Match],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """「決定連絡票を再送する」 and the API's notices: two mails each, audited."""
    m1, m2 = matched_pair
    login(client, office)
    with django_capture_on_commit_callbacks(execute=True):
        html = client.post(reverse("mentoring:match", args=[m1.code]), {"action": "resend"})
        api = send(client, f"/api/v1/mentoring/matches/{m2.code}/notices")
    assert html.status_code == 302 and api.status_code == 200
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [m1.mentor.email, m2.mentor.email, "ichi@example.jp", "ni@example.jp"]
    )
    assert AuditEntry.objects.filter(action="mentoring.notices_resent").count() == 2
