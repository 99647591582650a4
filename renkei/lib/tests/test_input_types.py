"""Shared input types: their rules reach the schema, and refuse with the domain's words."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pytest
from django.http import QueryDict
from django.utils import timezone
from pydantic import Field

from renkei.lib.actions import ActionError
from renkei.lib.inputs import (
    CalendarDate,
    CalendarDateTime,
    FiscalYear,
    Input,
    parse,
    parse_query,
    required,
)


class NoteInput(Input):
    note: Annotated[str, Field(min_length=1, max_length=10), required("内容を入力してください")]
    tags: Annotated[list[int], Field(min_length=1), required("タグを選んでください")] = [1]
    day: CalendarDate | None = None
    at: CalendarDateTime | None = None
    fy: FiscalYear | None = None


@pytest.mark.parametrize("value", ["", "   ", None])
def test_required_gives_the_fields_own_message(value: object) -> None:
    """Blank, whitespace and null all get the field's message, not a generic one."""
    with pytest.raises(ActionError) as caught:
        parse(NoteInput, {"note": value})
    assert caught.value.field == "note"
    assert caught.value.message == "note: 内容を入力してください"
    with pytest.raises(ActionError, match="タグを選んでください"):
        parse(NoteInput, {"note": "x", "tags": []})


def test_rules_stay_in_the_schema_next_to_required() -> None:
    """The shape rules are still published (generated clients check them too)."""
    schema = NoteInput.model_json_schema()["properties"]
    assert schema["note"]["minLength"] == 1 and schema["note"]["maxLength"] == 10
    assert schema["tags"]["minItems"] == 1
    assert schema["fy"]["anyOf"][0] == {
        "description": "年度（西暦の開始年）",
        "maximum": 2100,
        "minimum": 2000,
        "type": "integer",
    }
    assert schema["day"]["anyOf"][0]["formatMinimum"] == "2000-01-01"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"day": "1999-12-31"}, "日付は2000年〜2100年の範囲で入力してください"),
        ({"day": "2101-01-01"}, "日付は2000年〜2100年の範囲で入力してください"),
        ({"at": "0001-01-01T00:00:00+13:01"}, "日時は2000年〜2100年の範囲で入力してください"),
        ({"at": "9999-12-31T23:59:59-13:00"}, "日時は2000年〜2100年の範囲で入力してください"),
        ({"fy": 1999}, "2000以上の値を指定してください"),
    ],
)
def test_dates_outside_the_calendar_are_refused(data: dict[str, object], message: str) -> None:
    """Typos of the year get one message; nothing overflows on its way to UTC."""
    with pytest.raises(ActionError) as caught:
        parse(NoteInput, {"note": "x", **data})
    assert message in caught.value.message


def test_a_time_without_an_offset_is_japan_time() -> None:
    """As on the screens: 10:00 means 10:00 in Tokyo."""
    at = parse(NoteInput, {"note": "x", "at": "2026-04-01T10:00:00"}).at
    assert at is not None and timezone.is_aware(at)
    local = timezone.localtime(at)
    assert (local.date(), local.time()) == (dt.date(2026, 4, 1), dt.time(10, 0))


def test_parse_query_reads_only_the_models_parameters_and_skips_empty_ones() -> None:
    """Another list's page number is ignored; a form's 「すべて」 (empty) means no filter."""
    query = QueryDict("note=abc&fy=&page=3&rq=x")
    parsed = parse_query(NoteInput, query)
    assert parsed.note == "abc" and parsed.fy is None
