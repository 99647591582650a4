"""The API's JSON (orjson) gives what ninja's standard encoder gave, in UTF-8."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.utils.translation import gettext_lazy
from ninja import Schema
from ninja.responses import NinjaJSONEncoder

from renkei.lib.http import json_bytes


class Item(Schema):
    name: str
    at: dt.datetime


UTC = dt.UTC
JST = dt.timezone(dt.timedelta(hours=9))

VALUES: list[Any] = [
    dt.datetime(2026, 11, 3, 4, 5, 6, 789123, tzinfo=UTC),
    dt.datetime(2026, 11, 3, 4, 5, 6, tzinfo=UTC),
    dt.datetime(2026, 11, 3, 13, 5, 6, 1000, tzinfo=JST),
    dt.datetime(2026, 11, 3, 4, 5, 6, 500),  # noqa: DTZ001 (naive, under a millisecond)
    dt.datetime(2026, 11, 3, 4, 5, 6, 999999, tzinfo=UTC),
    dt.date(2027, 1, 1),
    dt.time(9, 30),
    dt.timedelta(days=2, hours=3),
    Decimal("12.50"),
    uuid.UUID("c20da25f-ff8f-4577-974c-214c7d38d7c4"),
    gettext_lazy("空きあり"),
    Item(name="さくら訪問看護", at=dt.datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)),
    {1: "鍵が数値", "nested": [None, True, 1.5, 35.535164, -0.0, 2**62]},
    'ｻｸﾗ　さくら\u3000\t\n"引用"\\',
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_values_encode_as_ninjas_encoder_does(value: Any) -> None:
    expected = json.loads(json.dumps(value, cls=NinjaJSONEncoder))
    assert json.loads(json_bytes(value)) == expected


def test_datetimes_keep_djangos_format() -> None:
    assert json_bytes(dt.datetime(2026, 11, 3, 4, 5, 6, 789123, tzinfo=UTC)) == (
        b'"2026-11-03T04:05:06.789Z"'
    )


def test_japanese_is_written_as_utf8_not_escapes() -> None:
    assert json_bytes({"name": "さくら"}) == '{"name":"さくら"}'.encode()


def test_an_unknown_type_is_an_error_not_a_silent_string() -> None:
    with pytest.raises(TypeError):
        json_bytes({"x": object()})
