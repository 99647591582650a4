"""Surveys of municipalities: sent to 県央, answered, resubmitted with history, tabled."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.lib import exports
from renkei.lib.actions import ActionError, Forbidden
from renkei.pdca import actions, tables
from renkei.pdca.models import Response, ResponseStatus, Submission, Survey
from renkei.pdca.testing import KENOU, answer, send_kenou_survey
from renkei.testing import sign_in


@pytest.mark.django_db
def test_a_survey_reaches_every_kenou_municipality_with_seed_002s_questions(
    pref: Membership, ebina: Membership, atsugi: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """Seven municipalities of 県央, seed 002's four questions, the members told by mail."""
    with django_capture_on_commit_callbacks(execute=True):
        survey = send_kenou_survey(pref)
    codes = sorted(survey.responses.values_list("municipality__code", flat=True))
    assert codes == sorted(KENOU)
    assert [q.number for q in survey.questions.all()] == ["1", "2(1)", "2(2)", "2(3)"]
    assert {m.to[0] for m in mail.outbox} == {"ebina@example.jp", "atsugi@example.jp"}
    assert survey.fiscal_year_label == "令和8年度（2026年度）"


@pytest.mark.django_db
def test_answered_twice_keeps_the_last_submission_with_its_history(
    survey: Survey, ebina: Membership
) -> None:
    """The table shows the second submission; the first stays in the history, unchanged."""
    answer(survey, ebina, {"torikumi": "相談窓口を設置"}, submit=False)
    r = Response.objects.get(survey=survey, municipality__code="142158")
    assert r.status == ResponseStatus.DRAFT
    assert not Submission.objects.filter(response=r).exists()
    answer(survey, ebina, {"torikumi": "相談窓口を設置", "kadai": "人材の不足"})
    answer(survey, ebina, {"kadai": "人材の不足、ICT連携"})
    # A draft after the second submission is not what the table shows.
    answer(survey, ebina, {"kadai": "書きかけ"}, submit=False)
    history = list(Submission.objects.filter(response=r).order_by("number"))
    assert [s.number for s in history] == [1, 2]
    assert history[0].answers["kadai"] == "人材の不足"
    assert history[1].answers["kadai"] == "人材の不足、ICT連携"
    assert history[1].answers["torikumi"] == "相談窓口を設置"
    table = tables.comparison(survey)
    row = next(row for g in table.groups for row in g.rows if row.municipality.code == "142158")
    keys = [q.key for q in table.questions]
    assert row.answers[keys.index("kadai")] == "人材の不足、ICT連携"
    assert row.submissions == 2
    assert [g.name for g in table.groups] == ["県央"]


@pytest.mark.django_db
def test_next_years_survey_starts_from_last_years_answers(
    pref: Membership, ebina: Membership
) -> None:
    first = send_kenou_survey(pref, fiscal_year=2025)
    answer(first, ebina, {"torikumi": "出前講座を実施", "iken": "救急の仕組みを"})
    second = send_kenou_survey(pref, fiscal_year=2026)
    r = Response.objects.get(survey=second, municipality__code="142158")
    assert r.answers == {
        "torikumi": "出前講座を実施",
        "uketome": "",
        "kadai": "",
        "iken": "救急の仕組みを",
    }
    assert r.status == ResponseStatus.NOT_STARTED
    assert r.prefilled_from is not None and r.prefilled_from.survey_id == first.pk


@pytest.mark.django_db
def test_refusals_change_nothing(
    survey: Survey, ebina: Membership, atsugi: Membership, pref: Membership
) -> None:
    r = Response.objects.get(survey=survey, municipality__code="142158")
    with pytest.raises(Forbidden):
        actions.save_answers(r, by=atsugi, data=actions.AnswerInput(answers={"kadai": "x"}))
    with pytest.raises(Forbidden):
        actions.save_answers(r, by=pref, data=actions.AnswerInput(answers={"kadai": "x"}))
    with pytest.raises(ActionError, match="この調査にない設問"):
        actions.save_answers(r, by=ebina, data=actions.AnswerInput(answers={"nope": "x"}))
    with pytest.raises(ActionError, match="空のままでは提出できません"):
        actions.save_answers(r, by=ebina, data=actions.AnswerInput(answers={}, submit=True))
    r.refresh_from_db()
    assert (r.answers, r.status, r.version) == ({}, ResponseStatus.NOT_STARTED, 1)
    with pytest.raises(Forbidden):
        send_kenou_survey(ebina)


@pytest.mark.django_db
def test_reminders_go_once_before_the_deadline(
    pref: Membership, ebina: Membership, atsugi: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.localdate()
    survey = send_kenou_survey(pref, deadline=today + dt.timedelta(days=2))
    answer(survey, atsugi, {"torikumi": "提出済み"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.send_reminders(today) == 6  # seven municipalities, one has answered
    assert [m.to for m in mail.outbox] == [["ebina@example.jp"]]
    assert "回答期限" in mail.outbox[0].subject
    assert actions.send_reminders(today) == 0
    late = send_kenou_survey(pref, deadline=today + dt.timedelta(days=10))
    assert actions.send_reminders(today) == 0
    assert not Response.objects.filter(survey=late, reminded_at__isnull=False).exists()


@pytest.mark.django_db
def test_the_screens_answer_and_table(
    client: Client, survey: Survey, ebina: Membership, pref: Membership
) -> None:
    r = Response.objects.get(survey=survey, municipality__code="142158")
    sign_in(client, ebina.user)
    page = client.get(f"/pdca/responses/{r.code}/")
    assert page.status_code == 200
    assert "提出する" in page.content.decode()
    sent = client.post(
        f"/pdca/responses/{r.code}/",
        {"version": 1, "a_torikumi": '=HYPERLINK("x")', "a_kadai": "人材", "action": "submit"},
    )
    assert sent.status_code == 302
    # The sender's own survey redirects a municipality to its answer.
    assert client.get(f"/pdca/surveys/{survey.code}/").status_code == 302
    sign_in(client, pref.user)
    table = client.get(f"/pdca/surveys/{survey.code}/")
    body = table.content.decode()
    assert table.status_code == 200 and "海老名市" in body and "人材" in body
    printed = client.get(f"/pdca/surveys/{survey.code}/?print=1").content.decode()
    assert "A4 landscape" in printed
    csv = client.get(f"/pdca/surveys/{survey.code}/export.csv")
    assert csv.status_code == 200 and csv["Content-Type"] == exports.CSV_TYPE
    assert "'=HYPERLINK" in csv.content.decode("utf-8-sig")
    xlsx = client.get(f"/pdca/surveys/{survey.code}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"] == exports.XLSX_TYPE
    # The prefecture reads the answer but cannot write it.
    assert client.get(f"/pdca/responses/{r.code}/").status_code == 200
    assert (
        client.post(
            f"/pdca/responses/{r.code}/", {"a_kadai": "改ざん", "action": "submit"}
        ).status_code
        == 404
    )


@pytest.mark.django_db
def test_the_api_sends_answers_and_shows_the_history(
    client: Client, pref: Membership, ebina: Membership
) -> None:
    sign_in(client, pref.user)
    created = client.post(
        "/api/v1/programmes/surveys/",
        {
            "title": "県央 在宅医療・介護連携の取組状況",
            "fiscal_year": 2026,
            "deadline": (timezone.localdate() + dt.timedelta(days=14)).isoformat(),
            "questions": [{"key": "own1", "number": "3", "label": "人生会議の普及の状況"}],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    code = created.json()["code"]
    assert [q["key"] for q in created.json()["questions"]] == ["own1"]
    r = Response.objects.get(survey__code=code, municipality__code="142158")
    sign_in(client, ebina.user)
    for text in ("1回目", "2回目"):
        put = client.put(
            f"/api/v1/programmes/surveys/responses/{r.code}",
            {"answers": {"own1": text}, "submit": True},
            content_type="application/json",
        )
        assert put.status_code == 200, put.content
    body = client.get(f"/api/v1/programmes/surveys/responses/{r.code}").json()
    assert [s["answers"]["own1"] for s in body["submissions"]] == ["2回目", "1回目"]
    assert body["status"] == "submitted"
    sign_in(client, pref.user)
    rows = client.get(f"/api/v1/programmes/surveys/{code}/table").json()
    assert {row["municipality_code"]: row["answers"]["own1"] for row in rows}["142158"] == "2回目"
    assert len(rows) == 33  # every municipality of Kanagawa without an area given
    refused = client.put(
        f"/api/v1/programmes/surveys/responses/{r.code}",
        {"answers": {"own1": "県が書き換え"}, "submit": True},
        content_type="application/json",
    )
    assert refused.status_code == 403
