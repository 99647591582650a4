from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.mentoring.models import TOKEN_SALT, Match, TrainingProgram
from renkei.mentoring.testing import decide, make_application, make_mentor, schedule
from renkei.mentoring.tests.conftest import login


@pytest.fixture
def match(program: TrainingProgram, office: Membership) -> Match:
    a = make_application(program, today=dt.date(2025, 6, 1))
    m = decide(a, make_mentor(office.organization), by=office, today=dt.date(2025, 6, 2))
    return schedule(m, dt.date(2025, 6, 10), by=office)


def office_urls(program: TrainingProgram, match: Match) -> list[tuple[str, str]]:
    a = match.application
    return [
        ("get", reverse("mentoring:program", args=[program.code])),
        ("get", reverse("mentoring:program_edit", args=[program.code])),
        ("get", reverse("mentoring:application_new", args=[program.code])),
        ("get", reverse("mentoring:summary", args=[program.code])),
        ("get", reverse("mentoring:summary_export", args=[program.code, "csv"])),
        ("get", reverse("mentoring:application", args=[a.code])),
        ("post", reverse("mentoring:match_decide", args=[a.code])),
        ("post", reverse("mentoring:cancel", args=[a.code])),
        ("get", reverse("mentoring:match", args=[match.code])),
        ("post", reverse("mentoring:match", args=[match.code])),
        ("get", reverse("mentoring:notice", args=[match.code])),
        ("get", reverse("mentoring:mentor_edit", args=[match.mentor.code])),
    ]


def test_other_office_gets_404(
    client: Client, program: TrainingProgram, match: Match, charlie: Membership
) -> None:
    """鎌倉市's office reaches none of 横須賀's programme, applications, matches or mentors."""
    login(client, charlie)
    for method, url in office_urls(program, match):
        assert getattr(client, method)(url).status_code == 404, url
    for url in [
        f"/api/v1/mentoring/programs/{program.code}/applications",
        f"/api/v1/mentoring/programs/{program.code}/summary",
        f"/api/v1/mentoring/applications/{match.application.code}",
        f"/api/v1/mentoring/applications/{match.application.code}/suggestions",
        f"/api/v1/mentoring/matches/{match.code}",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "見つかりません" in response.json()["detail"]
    assert [p["code"] for p in client.get("/api/v1/mentoring/programs").json()] != [
        str(program.code)
    ]
    assert client.get("/api/v1/mentoring/mentors").json() == []


def test_anonymous_office_pages_need_login(
    client: Client, program: TrainingProgram, match: Match
) -> None:
    """Office screens redirect to login; the office API answers 401."""
    for method, url in [*office_urls(program, match), ("get", reverse("mentoring:home"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert client.get(f"/api/v1/mentoring/matches/{match.code}").status_code == 401


def test_report_link_shows_only_its_own_match_and_side(
    client: Client, program: TrainingProgram, office: Membership, match: Match
) -> None:
    """The mentor's link files the mentor's report only, and shows nothing of another match."""
    other = make_application(
        program,
        "別の 受講者（仮名）",
        kana="べつの",
        email="x@example.jp",
        today=dt.date(2025, 6, 1),
    )
    other_match = decide(
        other,
        make_mentor(office.organization, "別の 指導医（仮名）", kana="べつ"),
        by=office,
        today=dt.date(2025, 6, 2),
    )
    mentor_url = match.party_url(Match.Side.MENTOR)
    page = client.get(mentor_url).content.decode()
    assert match.application.trainee_name in page
    assert "別の 受講者（仮名）" not in page and "別の 指導医（仮名）" not in page
    assert client.post(mentor_url, {"action": "report", "text": "指導医の報告"}).status_code == 302
    match.refresh_from_db()
    assert match.mentor_report == "指導医の報告" and match.trainee_report == ""
    other_match.refresh_from_db()
    assert other_match.mentor_report == ""
    api = client.get(f"/api/v1/mentoring/reports/{match.token('trainee')}").json()
    assert api["side"] == "trainee" and api["own_report"] == ""


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: signing.dumps({"m": t, "s": "mentor"}, salt="another-salt"),
        lambda t: "not-a-token",
        lambda t: signing.dumps(
            {"m": "00000000-0000-0000-0000-000000000000", "s": "mentor"}, salt=TOKEN_SALT
        ),
        lambda t: signing.dumps({"m": "x", "s": "office"}, salt=TOKEN_SALT),
    ],
)
def test_tampered_or_foreign_token_gets_404(client: Client, match: Match, mangle: object) -> None:
    """A link that was altered, signed elsewhere or names no match is a 404, and files nothing."""
    token = mangle(match.token("trainee"))  # type: ignore[operator]
    assert client.get(reverse("mentoring:party", args=[token])).status_code == 404
    assert (
        client.post(
            reverse("mentoring:party", args=[token]), {"action": "report", "text": "x"}
        ).status_code
        == 404
    )
    assert client.get(reverse("mentoring:party_notice", args=[token])).status_code == 404
    api = client.post(
        f"/api/v1/mentoring/reports/{token}/report",
        json.dumps({"text": "x"}),
        content_type="application/json",
    )
    assert api.status_code == 404
    match.refresh_from_db()
    assert match.trainee_report == ""
