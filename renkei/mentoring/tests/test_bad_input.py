from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.lib.actions import ActionError
from renkei.mentoring.models import Match, TraineeApplication, TrainingProgram
from renkei.mentoring.testing import decide, make_application, make_mentor, report, schedule
from renkei.mentoring.tests.conftest import login
from renkei.mentoring.tests.test_once_per_year import matched

GOOD = {
    "trainee_name": "受講 花子（仮名）",
    "trainee_kana": "じゅこう はなこ",
    "profession": "nurse",
    "affiliation": "見本病院（仮名）",
    "email": "hanako@example.jp",
    "phone": "046-000-0001",
}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"email": "hanako@"}, "メールアドレスの形式が正しくありません"),
        ({"phone": "電話して"}, "電話番号の形式が正しくありません"),
        ({"trainee_name": ""}, "このフィールドは必須です"),
        ({"profession": "astronaut"}, "正しく選択してください"),
        ({"preferred_weekdays": ["9"]}, "正しく選択してください"),
    ],
)
def test_bad_application_is_refused_and_nothing_saved(
    client: Client, program: TrainingProgram, overrides: dict[str, object], message: str
) -> None:
    """Malformed applications get a Japanese message; no row and no e-mail."""
    response = client.post(reverse("mentoring:apply", args=[program.code]), {**GOOD, **overrides})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert TraineeApplication.objects.count() == 0
    assert mail.outbox == []


def test_api_application_checks(
    client: Client, program: TrainingProgram, office: Membership
) -> None:
    """The public API refuses a malformed e-mail (400) and a second application (409)."""
    # The plan (2) was reached in December, so no second training whatever today's date is.
    matched(program, office, 2, decided=dt.date(2025, 12, 20))
    url = f"/api/v1/mentoring/programs/{program.code}/apply"
    bad = client.post(
        url, json.dumps({**GOOD, "email": "not-an-email"}), content_type="application/json"
    )
    assert bad.status_code == 400 and "メールアドレス" in bad.json()["detail"]
    assert client.post(url, json.dumps(GOOD), content_type="application/json").status_code == 201
    again = client.post(
        url, json.dumps({**GOOD, "email": "other@example.jp"}), content_type="application/json"
    )
    assert again.status_code == 409
    assert "原則として年度内1回" in again.json()["detail"]
    assert (
        TraineeApplication.objects.filter(
            email__in=["hanako@example.jp", "other@example.jp"]
        ).count()
        == 1
    )


def test_closed_programme_refuses_public_applications(
    client: Client, program: TrainingProgram
) -> None:
    """When the office stops accepting, the public form and API say so and save nothing."""
    program.is_open = False
    program.save()
    page = client.post(reverse("mentoring:apply", args=[program.code]), GOOD)
    assert "申込みを受け付けていません" in page.content.decode()
    api = client.post(
        f"/api/v1/mentoring/programs/{program.code}/apply",
        json.dumps(GOOD),
        content_type="application/json",
    )
    assert api.status_code == 409
    assert TraineeApplication.objects.count() == 0


def test_report_before_visit_and_early_honorarium_are_refused(
    client: Client, program: TrainingProgram, office: Membership
) -> None:
    """No report before the visit date; no honorarium before the mentor's report."""
    a = make_application(program, today=dt.date(2025, 6, 1))
    match = decide(a, make_mentor(office.organization), by=office, today=dt.date(2025, 6, 1))
    with pytest.raises(ActionError, match="研修日が登録されていません"):
        report(match, "mentor", "報告", today=dt.date(2025, 6, 5))
    schedule(match, dt.date(2025, 6, 10), by=office)
    with pytest.raises(ActionError, match="研修日（2025年6月10日）以降"):
        report(match, "mentor", "報告", today=dt.date(2025, 6, 9))
    login(client, office)
    response = client.post(
        reverse("mentoring:match", args=[match.code]),
        {"action": "honorarium", "amount": "20000", "paid_at": "2025-06-20"},
    )
    assert response.status_code == 400
    assert "実施報告が提出されてから" in response.content.decode()
    out_of_year = client.post(
        reverse("mentoring:match", args=[match.code]),
        {"action": "visit", "visit_date": "2027-01-01"},
    )
    assert "令和7年度（2025年度）の期間内" in out_of_year.content.decode()
    match.refresh_from_db()
    assert match.honorarium_paid_at is None and match.mentor_report == ""
    assert match.visit_date == dt.date(2025, 6, 10)
    assert Match.objects.count() == 1
