"""The shared action layer: errors, the version check, typed inputs, forms, jobs and mail."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django import forms
from django.core import mail as django_mail
from django.db import transaction
from pydantic import Field

from renkei.lib import jobs, mail
from renkei.lib.actions import ActionError, Conflict, NotFound, StaleVersion, bump_version
from renkei.lib.forms import input_from_form, show_error
from renkei.lib.inputs import Input, parse


class NoteInput(Input):
    title: str = Field(..., min_length=1, max_length=5)
    count: int = Field(0, ge=0, le=10)


class NoteForm(forms.Form):
    title = forms.CharField(required=False)
    count = forms.IntegerField(required=False)


def test_errors_carry_status_field_and_json() -> None:
    """Each refusal knows the status both doors answer with and the field it concerns."""
    assert ActionError("x").status == 400
    assert NotFound("x").status == 404
    assert Conflict("x").status == 409
    assert ActionError("満床です", field="count").as_json() == {
        "detail": "満床です",
        "field": "count",
    }
    assert ActionError("だめです").as_json() == {"detail": "だめです"}


@pytest.mark.django_db
def test_bump_version_refuses_a_stale_version_and_returns_the_current_row() -> None:
    """A save based on an old version raises StaleVersion holding the row as it is now."""
    from renkei.testing import make_facility

    f = make_facility("版数の里")
    loaded = f.version
    bump_version(f, loaded)
    assert f.version == loaded + 1
    with pytest.raises(StaleVersion) as caught:
        bump_version(f, loaded)
    assert caught.value.status == 409
    assert caught.value.current.version == loaded + 1  # type: ignore[attr-defined]
    bump_version(f, None)  # a server-side step bumps without a check
    assert f.version == loaded + 2


@pytest.mark.django_db
def test_bump_version_is_one_statement_and_sets_the_version_written(
    django_assert_num_queries: Any,
) -> None:
    """Checked or not, a bump is one UPDATE; the object carries the version now stored,
    also when another writer bumped the row first (the unchecked step)."""
    from renkei.directory.models import Facility
    from renkei.testing import make_facility

    f = make_facility("版数の森")
    loaded = f.version
    with django_assert_num_queries(1):
        bump_version(f, loaded)
    assert f.version == loaded + 1
    Facility.objects.filter(pk=f.pk).update(version=loaded + 5)  # someone else's saves
    with django_assert_num_queries(1):
        bump_version(f, None)
    assert f.version == loaded + 6 == Facility.objects.get(pk=f.pk).version
    with pytest.raises(Facility.DoesNotExist):
        bump_version(Facility(pk=f.pk + 10_000), None)


def test_parse_names_the_field_in_japanese() -> None:
    """Input rules refuse with a Japanese message naming the field."""
    with pytest.raises(ActionError) as caught:
        parse(NoteInput, {"title": "長すぎるタイトル"})
    assert caught.value.field == "title"
    assert "5文字以内" in caught.value.message
    with pytest.raises(ActionError) as caught:
        parse(NoteInput, {"title": "a", "count": 11})
    assert "10以下" in caught.value.message
    with pytest.raises(ActionError) as caught:
        parse(NoteInput, {"title": "a", "colour": "red"})
    assert caught.value.field == "colour" and "指定できません" in caught.value.message
    assert parse(NoteInput, {"title": " ok "}).title == "ok"


def test_input_from_form_puts_model_errors_beside_fields() -> None:
    """A rule of the typed input shows on the form's field, with the typed value kept."""
    form = NoteForm({"title": "長すぎるタイトル", "count": "3"})
    assert input_from_form(form, NoteInput) is None
    assert "5文字以内で入力してください" in form.errors["title"][0]
    assert 'value="長すぎるタイトル"' in str(form["title"])
    good = NoteForm({"title": "メモ", "count": "3"})
    assert input_from_form(good, NoteInput) == NoteInput(title="メモ", count=3)


def test_show_error_uses_the_field_or_the_top() -> None:
    form = NoteForm({"title": "a", "count": "1"})
    assert form.is_valid()
    show_error(form, ActionError("件数が多すぎます", field="count"))
    show_error(form, ActionError("全体の問題です"))
    assert form.errors["count"] == ["件数が多すぎます"]
    assert form.non_field_errors() == ["全体の問題です"]


ran: list[dict[str, Any]] = []


@jobs.job(queue="test")
def remember(*, value: int) -> None:
    ran.append({"value": value})


@jobs.job(queue="test")
def explode(*, value: int) -> None:
    raise RuntimeError("mail server down")


@pytest.mark.django_db(transaction=True)
def test_jobs_run_after_commit_and_never_for_a_rollback() -> None:
    """Enqueued work joins the transaction: nothing for a rollback, once after a commit."""
    ran.clear()
    with transaction.atomic():
        remember.enqueue(value=1)
        assert ran == []
    assert ran == [{"value": 1}]
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        remember.enqueue(value=2)
        _ = 1 / 0
    assert ran == [{"value": 1}]


def test_job_arguments_must_be_storable() -> None:
    """A model instance or a set cannot be stored by a queue: refused where it is enqueued."""
    with pytest.raises(TypeError):
        remember.enqueue(value={1, 2})


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_never_fails_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    """The request committed; a failure afterwards is logged for the operator, not raised."""
    with caplog.at_level(logging.ERROR, logger="renkei.jobs"), transaction.atomic():
        explode.enqueue(value=1)
    assert "explode failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_mail_goes_once_per_distinct_recipient_with_the_site_prefix() -> None:
    """One message per address (no one sees the others), duplicates and blanks dropped."""
    with transaction.atomic():
        n = mail.send(
            to=["a@example.jp", "", "b@example.jp", "a@example.jp"], subject="件名", body="本文"
        )
    assert n == 2
    assert sorted(m.to[0] for m in django_mail.outbox) == ["a@example.jp", "b@example.jp"]
    assert all(
        m.subject.startswith("【") and m.subject.endswith("件名") for m in django_mail.outbox
    )
