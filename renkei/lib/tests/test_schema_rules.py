"""The rules of the typed inputs reach the OpenAPI schema, so generated clients (and the
schemathesis run in tests/test_api_schemathesis.py) refuse what the server refuses."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from pydantic import Field, ValidationError

from renkei.lib.inputs import PHONE_PATTERN, Input, Phone, known_codes, one_of, required


class Sample(Input):
    title: Annotated[str, Field(min_length=1, max_length=20), required("件名を入力してください")]
    kinds: Annotated[
        list[str],
        known_codes(["a", "b"], "種別が正しくありません"),
        required("種別を選んでください"),
    ]
    state: Annotated[str, one_of(["", "open", "closed"], "状態が正しくありません")] = ""
    phone: Phone = "0462318650"
    note: str = Field("", min_length=0)
    name: str = Field("名前", min_length=1)


def test_blank_text_required_lists_and_choices_are_in_the_schema() -> None:
    props = Sample.model_json_schema()["properties"]
    assert props["title"]["pattern"] == r"\S"
    assert props["name"]["pattern"] == r"\S"  # min_length 1 after stripping: not blank
    assert "pattern" not in props["note"]
    assert props["kinds"]["minItems"] == 1 and props["kinds"]["items"]["enum"] == ["a", "b"]
    assert props["state"]["enum"] == ["", "open", "closed"]
    assert props["phone"]["pattern"] == PHONE_PATTERN


def test_the_validators_keep_their_own_messages() -> None:
    with pytest.raises(ValidationError) as caught:
        Sample(title=" ", kinds=["c"], state="x")
    text = str(caught.value)
    assert "件名を入力してください" in text
    assert "種別が正しくありません: c" in text
    assert "状態が正しくありません（x）" in text


@pytest.mark.parametrize("number", ["0462318650", "046-231-8650", "090-1234-5678"])
def test_what_the_phone_pattern_admits_the_validator_accepts(number: str) -> None:
    assert re.fullmatch(PHONE_PATTERN, number)
    assert Sample(title="t", kinds=["a"], phone=number).phone == number
