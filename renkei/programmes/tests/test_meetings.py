"""Meeting bodies: a year's schedule, notices to members on commit, attendance, decisions and
materials."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from renkei.accounts.models import Membership
from renkei.lib.actions import ActionError
from renkei.programmes import actions
from renkei.programmes.models import Attendance, Material, Meeting, MeetingBody
from renkei.programmes.testing import make_body
from renkei.testing import make_org, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def body(city: Membership) -> MeetingBody:
    parent = make_body(city, "在宅療養連携会議", "plenary", items=["i"], meetings_per_year=4)
    committee = make_body(
        city,
        "広報啓発検討専門部会",
        "committee",
        parent=str(parent.code),
        team="Aチーム",
        items=["ki"],
    )
    ishikai = make_org(
        "横須賀みなと医師会",
        "medical_association",
        municipality_code="142018",
        email="office@ishikai.example.jp",
    )
    actions.add_member(
        committee,
        by=city,
        data=actions.BodyMemberInput(organization=str(ishikai.code), title="委員"),
    )
    actions.add_member(
        committee,
        by=city,
        data=actions.BodyMemberInput(
            name="港 花子", affiliation="訪問看護ステーションみなと", email="minato@example.jp"
        ),
    )
    actions.add_member(
        committee, by=city, data=actions.BodyMemberInput(name="山手 次郎", title="委員長")
    )
    return committee


def test_a_years_schedule_and_the_notice(
    client: Client, city: Membership, body: MeetingBody, django_capture_on_commit_callbacks: Any
) -> None:
    sign_in(client, city.user)
    response = client.post(
        f"/programmes/bodies/{body.code}/schedule/",
        {
            "fiscal_year": "2026",
            "dates": "2026-05-29\n2026-08-28\n2026-11-27\n2027-02-26",
            "place": "市役所 3階会議室",
        },
    )
    assert response.status_code == 302
    meetings = list(body.meetings.order_by("number"))
    assert [(m.number, m.held_on) for m in meetings] == [
        (1, dt.date(2026, 5, 29)),
        (2, dt.date(2026, 8, 28)),
        (3, dt.date(2026, 11, 27)),
        (4, dt.date(2027, 2, 26)),
    ]
    first = meetings[0]
    # Confirm first: the page names who will be told, and nothing is sent yet.
    page = client.get(f"/programmes/meetings/{first.code}/notice/").content.decode()
    assert "office@ishikai.example.jp" in page and "minato@example.jp" in page
    assert "通知先メールなし" in page  # 山手 次郎 has no address
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/programmes/meetings/{first.code}/notice/")
    assert sorted(m.to[0] for m in mail.outbox) == [
        "minato@example.jp",
        "office@ishikai.example.jp",
    ]
    assert "広報啓発検討専門部会（Aチーム） 第1回 開催のお知らせ" in mail.outbox[0].subject
    assert "令和8年5月29日" in mail.outbox[0].body and "市役所 3階会議室" in mail.outbox[0].body
    first.refresh_from_db()
    assert first.notice_sent_at is not None


def test_schedule_outside_the_fiscal_year_is_refused(
    client: Client, city: Membership, body: MeetingBody
) -> None:
    with pytest.raises(ActionError, match="開催日がその年度に入っていません"):
        actions.plan_year(
            body,
            by=city,
            data=actions.ScheduleInput(fiscal_year=2026, dates=[dt.date(2026, 3, 31)]),
        )
    assert not Meeting.objects.exists()


def test_attendance_minutes_decisions_and_materials(
    client: Client, city: Membership, body: MeetingBody
) -> None:
    meeting = actions.save_meeting(
        body,
        by=city,
        data=actions.MeetingInput(fiscal_year=2026, number=1, held_on=dt.date(2026, 5, 29)),
    )
    members = list(body.members.all())
    sign_in(client, city.user)
    post = {
        f"s_{members[0].code}": "present",
        f"s_{members[1].code}": "proxy",
        f"n_{members[1].code}": "代理: 港 一郎",
        f"s_{members[2].code}": "absent",
    }
    assert client.post(f"/programmes/meetings/{meeting.code}/attendance/", post).status_code == 302
    assert sorted(Attendance.objects.filter(meeting=meeting).values_list("status", flat=True)) == [
        "absent",
        "present",
        "proxy",
    ]
    client.post(
        f"/programmes/meetings/{meeting.code}/decisions/", {"text": "シンポジウムを11月に開催する"}
    )
    assert [d.text for d in meeting.decisions.all()] == ["シンポジウムを11月に開催する"]
    pdf = SimpleUploadedFile("資料1.pdf", b"%PDF-1.4\n%test", content_type="application/pdf")
    client.post(
        f"/programmes/meetings/{meeting.code}/materials/", {"title": "資料1 年間計画", "file": pdf}
    )
    material = Material.objects.get()
    download = client.get(f"/programmes/materials/{material.code}/")
    assert download.status_code == 200 and download.content == b"%PDF-1.4\n%test"
    assert "attachment" in download["Content-Disposition"]
    # A file whose content does not match its name is refused, and nothing is kept.
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00", content_type="application/pdf")
    response = client.post(
        f"/programmes/meetings/{meeting.code}/materials/",
        {"title": "偽物", "file": fake},
        follow=True,
    )
    assert "ファイルの中身が拡張子と一致しません" in response.content.decode()
    assert Material.objects.count() == 1
    page = client.get(f"/programmes/meetings/{meeting.code}/").content.decode()
    assert "代理: 港 一郎" in page and "資料1 年間計画" in page


def test_a_member_of_another_prefecture_cannot_record_attendance(
    client: Client, outsider: Membership, city: Membership, body: MeetingBody
) -> None:
    meeting = actions.save_meeting(
        body,
        by=city,
        data=actions.MeetingInput(fiscal_year=2026, number=1, held_on=dt.date(2026, 5, 29)),
    )
    member = body.members.first()
    assert member is not None
    sign_in(client, outsider.user)
    response = client.post(
        f"/programmes/meetings/{meeting.code}/attendance/", {f"s_{member.code}": "present"}
    )
    assert response.status_code == 404
    assert not Attendance.objects.exists()
    api = client.post(f"/api/v1/programmes/meetings/{meeting.code}/notice")
    assert api.status_code == 404
