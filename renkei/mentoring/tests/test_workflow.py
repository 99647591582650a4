from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.mentoring.models import ApplicationStatus, Match, TraineeApplication, TrainingProgram
from renkei.mentoring.summary import yearly_summary
from renkei.mentoring.testing import make_mentor
from renkei.mentoring.tests.conftest import login


def party_links(message: mail.EmailMessage) -> list[str]:
    return re.findall(r"http://[^\s]+/mentoring/r/[^\s/]+/(?=\s)", str(message.body))


def test_apply_match_notify_report_pay_and_summarise(
    client: Client,
    program: TrainingProgram,
    office: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The whole 同行研修 flow of seed 003, through the screens and the e-mailed links."""
    near = make_mentor(
        office.organization, "指導 一郎（仮名）", area_codes=["142018"], weekdays=[1]
    )
    make_mentor(
        office.organization,
        "遠方 二郎（仮名）",
        kana="えんぽう じろう",
        area_codes=["142042"],
        weekdays=[5],
    )

    # 1. The trainee applies on the public form (no sign-in) and gets a confirmation.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("mentoring:apply", args=[program.code]),
            {
                "trainee_name": "受講 花子（仮名）",
                "trainee_kana": "じゅこう はなこ",
                "profession": "clinic_new",
                "affiliation": "見本診療所（仮名）",
                "email": "hanako@example.jp",
                "phone": "046-000-0001",
                "preferred_areas": [program.organizer.municipality_id],
                "preferred_weekdays": ["1"],
                "preferred_dates": "火曜の午後",
                "motivation": "在宅医療を始めたい。",
            },
        )
    assert response.status_code == 200, response.content.decode()
    assert "申込みを受け付けました" in response.content.decode()
    application = TraineeApplication.objects.get()
    assert [m.to for m in mail.outbox] == [["hanako@example.jp"]]

    # 2. The office sees it as open and gets the near mentor first, with reasons.
    login(client, office)
    assert "受講 花子（仮名）" in client.get(reverse("mentoring:home")).content.decode()
    page = client.get(reverse("mentoring:application", args=[application.code]))
    first = page.context["suggestions"][0]
    assert first.mentor == near
    assert first.reasons[:3] == [
        "希望地域に対応（1/1地域）",
        "希望曜日（火）に受入れ可",
        "今年度の担当 0件",
    ]

    # 3. The office decides: both receive a decision notice with their own link.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("mentoring:match_decide", args=[application.code]), {"mentor": str(near.code)}
        )
    match = Match.objects.get()
    assert response["Location"] == match.get_absolute_url()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([near.email, "hanako@example.jp"])
    assert all("決定連絡票" in m.subject for m in mail.outbox)
    to_mentor = next(m for m in mail.outbox if m.to == [near.email])
    to_trainee = next(m for m in mail.outbox if m.to == ["hanako@example.jp"])
    mentor_link, trainee_link = party_links(to_mentor)[0], party_links(to_trainee)[0]
    assert mentor_link != trainee_link
    notice = client.get(reverse("mentoring:notice", args=[match.code]))
    assert (
        "決定連絡票" in notice.content.decode() and "指導 一郎（仮名）" in notice.content.decode()
    )

    # 4. The mentor registers the agreed date; both file reports after the visit.
    client.logout()
    mentor_path = mentor_link.split("testserver")[-1].replace("http://127.0.0.1:8000", "")
    trainee_path = trainee_link.replace("http://127.0.0.1:8000", "")
    visit = timezone.localdate() - dt.timedelta(days=1)
    if visit < dt.date(2025, 4, 1) or visit > dt.date(2026, 3, 31):
        visit = dt.date(2025, 11, 4)
    assert (
        client.post(mentor_path, {"action": "visit", "visit_date": visit.isoformat()}).status_code
        == 302
    )
    assert (
        client.post(mentor_path, {"action": "report", "text": "訪問診療3件に同行。"}).status_code
        == 302
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DONE
    assert (
        client.post(
            trainee_path, {"action": "report", "text": "看取りの実際を学んだ。"}
        ).status_code
        == 302
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REPORTED
    trainee_page = client.get(trainee_path).content.decode()
    assert "看取りの実際を学んだ。" in trainee_page and "訪問診療3件に同行。" not in trainee_page

    # 5. The office records the honorarium; the summary counts it all.
    login(client, office)
    paid = client.post(
        reverse("mentoring:match", args=[match.code]),
        {"action": "honorarium", "amount": "20000", "paid_at": timezone.localdate().isoformat()},
    )
    assert paid.status_code == 302
    s = yearly_summary(program)
    assert (s.applications, s.matched, s.done, s.reported, s.honoraria_total) == (
        1,
        1,
        1,
        1,
        20_000,
    )
    assert {r.label: r.done for r in s.by_profession}["診療所医師（在宅医療未経験）"] == 1
    assert [(m.name, m.matches, m.honoraria) for m in s.mentors] == [
        ("指導 一郎（仮名）", 1, 20_000)
    ]
    csv_text = client.get(
        reverse("mentoring:summary_export", args=[program.code, "csv"])
    ).content.decode("utf-8-sig")
    assert (
        "研修実施,1" in csv_text
        and "指導 一郎（仮名）,見本在宅クリニック（仮名）,1,1,20000" in csv_text
    )
    actions = list(
        AuditEntry.objects.filter(action__startswith="mentoring.").values_list("action", flat=True)
    )
    for expected in [
        "mentoring.applied",
        "mentoring.matched",
        "mentoring.scheduled",
        "mentoring.reported",
        "mentoring.honorarium_recorded",
    ]:
        assert expected in actions
