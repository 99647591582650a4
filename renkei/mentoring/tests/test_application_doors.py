"""Applications: the public form, the office's proxy entry and the API record the same."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.mentoring.models import TraineeApplication, TrainingProgram
from renkei.mentoring.testing import make_application
from renkei.mentoring.tests.conftest import login
from renkei.mentoring.tests.test_once_per_year import matched
from renkei.regions.models import Municipality

FIELDS = {
    "trainee_name": "受講 花子（仮名）",
    "trainee_kana": "じゅこう はなこ",
    "profession": "nurse",
    "affiliation": "見本病院（仮名）",
    "phone": "046-000-0001",
    "preferred_dates": "火曜の午後",
    "motivation": "在宅医療を学びたい。",
}


def form(address: str, **changes: Any) -> dict[str, Any]:
    areas = Municipality.objects.filter(code__in=["142018", "142042"])
    return {
        **FIELDS,
        "email": address,
        "preferred_areas": [m.pk for m in areas],
        "preferred_weekdays": ["1", "4"],
        **changes,
    }


def body(address: str, **changes: Any) -> dict[str, Any]:
    return {
        **FIELDS,
        "email": address,
        "preferred_areas": ["142018", "142042"],
        "preferred_weekdays": [1, 4],
        **changes,
    }


def send(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def application(email: str) -> tuple[Any, ...]:
    a = TraineeApplication.objects.get(email=email)
    return (
        a.trainee_name,
        a.trainee_kana,
        a.profession,
        a.affiliation,
        a.phone,
        sorted(a.preferred_areas.values_list("code", flat=True)),
        a.preferred_weekdays,
        a.preferred_dates,
        a.motivation,
        a.status,
        a.entered_by_id,
    )


def test_the_public_form_and_the_public_api_record_the_same_application(
    client: Client, program: TrainingProgram, django_capture_on_commit_callbacks: Any
) -> None:
    """Each door stores the same application and e-mails the same confirmation."""
    with django_capture_on_commit_callbacks(execute=True):
        html = client.post(reverse("mentoring:apply", args=[program.code]), form("a@example.jp"))
        api = send(client, f"/api/v1/mentoring/programs/{program.code}/apply", body("b@example.jp"))
    assert html.status_code == 200 and "申込みを受け付けました" in html.content.decode()
    assert api.status_code == 201
    assert application("a@example.jp")[:-1] == application("b@example.jp")[:-1]
    assert application("b@example.jp")[5:7] == (["142018", "142042"], 0b10010)
    assert application("b@example.jp")[-1] is None
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.jp", "b@example.jp"]
    assert len({m.subject for m in mail.outbox}) == 1


def test_the_office_enters_a_paper_application_alike_on_both_doors(
    client: Client, program: TrainingProgram, office: Membership
) -> None:
    """A proxy entry records the office member who typed it, on either door."""
    login(client, office)
    html = client.post(
        reverse("mentoring:application_new", args=[program.code]), form("a@example.jp")
    )
    assert html.status_code == 302
    api = send(
        client, f"/api/v1/mentoring/programs/{program.code}/applications", body("b@example.jp")
    )
    assert api.status_code == 201
    assert application("a@example.jp") == application("b@example.jp")
    assert application("b@example.jp")[-1] == office.user_id
    assert AuditEntry.objects.filter(action="mentoring.applied", actor=office.user).count() == 2


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"phone": "電話して"}, "電話番号の形式が正しくありません"),
        ({"email": "hanako@"}, "メールアドレスの形式が正しくありません"),
        ({"preferred_areas": ["131016"]}, "選べない市区町村が含まれています"),
    ],
)
@pytest.mark.parametrize("door", ["html", "api"])
def test_a_bad_application_gets_the_same_message_on_both_doors(
    client: Client,
    program: TrainingProgram,
    door: str,
    changes: dict[str, Any],
    message: str,
) -> None:
    """Phone, e-mail and an area outside the programme's prefecture (a Tokyo ward here: the
    API used to accept any municipality) are refused alike, and nothing is saved."""
    if door == "html":
        html_changes = dict(changes)
        if "preferred_areas" in changes:
            html_changes["preferred_areas"] = list(
                Municipality.objects.filter(code__in=changes["preferred_areas"]).values_list(
                    "pk", flat=True
                )
            )
        response = client.post(
            reverse("mentoring:apply", args=[program.code]),
            form("x@example.jp", **html_changes),
        )
        text = response.content.decode()
    else:
        response = send(
            client,
            f"/api/v1/mentoring/programs/{program.code}/apply",
            body("x@example.jp", **changes),
        )
        text = response.json()["detail"]
    assert response.status_code == 400
    assert message in text
    assert not TraineeApplication.objects.exists()


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_second_training_this_year_gets_the_same_message(
    client: Client, program: TrainingProgram, office: Membership, door: str
) -> None:
    """The once-per-year rule answers the same words on both doors (409 in the API)."""
    matched(program, office, 2, decided=dt.date(2025, 12, 20))
    make_application(program, FIELDS["trainee_name"], kana=FIELDS["trainee_kana"])
    before = TraineeApplication.objects.count()
    if door == "html":
        response = client.post(
            reverse("mentoring:apply", args=[program.code]), form("y@example.jp")
        )
        assert response.status_code == 409
        text = response.content.decode()
    else:
        response = send(
            client, f"/api/v1/mentoring/programs/{program.code}/apply", body("y@example.jp")
        )
        assert response.status_code == 409
        text = response.json()["detail"]
    assert "原則として年度内1回" in text
    assert TraineeApplication.objects.count() == before
