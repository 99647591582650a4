"""Another office gets 404 from the office's API writes (the ones added in the renovation
included), with valid bodies, and nothing changes."""

from __future__ import annotations

import json

from django.test import Client

from renkei.accounts.models import Membership
from renkei.mentoring.models import Match, Mentor, TrainingProgram
from renkei.mentoring.testing import decide, make_application, make_mentor
from renkei.mentoring.tests.conftest import login


def test_another_offices_writes_are_404(
    client: Client, program: TrainingProgram, office: Membership, charlie: Membership
) -> None:
    """Programme settings, mentors, decisions, cancellations, dates, payments and notices."""
    mentor = make_mentor(office.organization)
    match = decide(make_application(program), mentor, by=office)
    other = make_application(program, "別の 受講者（仮名）", kana="べつの", email="o@example.jp")
    programme = {"fiscal_year": 2025, "planned_count": 1, "honorarium_amount": 1}
    mentor_body = {"name": "乗っ取り", "affiliation": "よそ", "email": "x@example.jp"}
    application = {
        "trainee_name": "受講 三郎（仮名）",
        "trainee_kana": "じゅこう さぶろう",
        "profession": "nurse",
        "affiliation": "見本病院（仮名）",
        "email": "saburo@example.jp",
        "phone": "046-000-0003",
    }
    login(client, charlie)
    for method, url, body in [
        ("put", f"/api/v1/mentoring/programs/{program.code}", programme),
        ("put", f"/api/v1/mentoring/mentors/{mentor.code}", mentor_body),
        ("post", f"/api/v1/mentoring/programs/{program.code}/applications", application),
        (
            "post",
            f"/api/v1/mentoring/applications/{other.code}/match",
            {"mentor": str(mentor.code)},
        ),
        ("post", f"/api/v1/mentoring/applications/{other.code}/cancel", {"reason": "x"}),
        ("put", f"/api/v1/mentoring/matches/{match.code}/visit", {"visit_date": "2025-06-10"}),
        (
            "post",
            f"/api/v1/mentoring/matches/{match.code}/honorarium",
            {"amount": 1, "paid_at": "2025-06-10"},
        ),
        ("post", f"/api/v1/mentoring/matches/{match.code}/notices", {}),
    ]:
        response = getattr(client, method)(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 404, (url, response.content)
        assert "見つかりません" in response.json()["detail"]
    program.refresh_from_db()
    mentor.refresh_from_db()
    match.refresh_from_db()
    other.refresh_from_db()
    assert (program.planned_count, mentor.name, other.status) == (2, "指導 一郎（仮名）", "applied")
    assert (match.visit_date, match.honorarium_paid_at) == (None, None)
    assert Match.objects.count() == 1 and Mentor.objects.count() == 1
    assert program.applications.count() == 2
