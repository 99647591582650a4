"""A PATCH body derived from the full input: the same rules, only the fields sent change."""

from __future__ import annotations

from typing import Annotated

import pydantic
import pytest
from pydantic import AfterValidator, Field

from renkei.lib.actions import ActionError
from renkei.lib.inputs import Input, merge, partial


class NoteInput(Input):
    title: str = Field(..., min_length=1, max_length=5, title="件名")
    body: Annotated[str, AfterValidator(str.upper)] = Field("", max_length=3)
    count: int = Field(1, ge=1, title="件数")
    tags: list[str] = Field(default_factory=list, json_schema_extra={"uniqueItems": True})
    due: int | None = None


NotePatch = partial(NoteInput, "NotePatch")
CURRENT = {"title": "件名", "body": "AB", "count": 2, "tags": ["a"], "due": 5}


def test_only_the_fields_sent_change_and_the_rules_still_hold() -> None:
    """Fields left out keep their value; a field sent is checked by the full input's rules."""
    assert merge(NoteInput, CURRENT, NotePatch.model_validate({})) == NoteInput(**CURRENT)
    changed = merge(NoteInput, CURRENT, NotePatch.model_validate({"body": "xy"}))
    assert (changed.title, changed.body, changed.count) == ("件名", "XY", 2)
    with pytest.raises(pydantic.ValidationError):
        NotePatch.model_validate({"title": "長すぎる件名です"})
    with pytest.raises(pydantic.ValidationError):
        NotePatch.model_validate({"colour": "red"})


def test_null_clears_text_and_optional_fields_and_is_refused_elsewhere() -> None:
    """null empties a text field and an optional one; on a required field or a number with a
    default it is refused, naming the field by its title."""
    cleared = merge(NoteInput, CURRENT, NotePatch.model_validate({"body": None, "due": None}))
    assert (cleared.body, cleared.due) == ("", None)
    for name, label in (("title", "件名"), ("count", "件数")):
        with pytest.raises(pydantic.ValidationError, match=f"{label}は空にできません"):
            NotePatch.model_validate({name: None})


def test_the_schema_offers_null_only_where_it_means_something() -> None:
    """Required-in-full fields are plain types without a default; the constraints and extra
    keywords of the full input are kept."""
    props = NotePatch.model_json_schema()["properties"]
    # Inputs strip whitespace, so a text that must not be empty must not be blank (pattern).
    assert props["title"] == {
        "maxLength": 5,
        "minLength": 1,
        "pattern": r"\S",
        "title": "件名",
        "type": "string",
    }
    assert {"type": "null"} in props["body"]["anyOf"]
    assert "default" not in props["count"] and props["count"]["minimum"] == 1
    assert props["tags"]["uniqueItems"] is True and "default" not in props["tags"]


def test_a_merge_that_breaks_a_rule_is_an_action_error() -> None:
    """Stored values that the rules no longer accept are reported like any bad input."""
    with pytest.raises(ActionError) as caught:
        merge(NoteInput, {**CURRENT, "count": 0}, NotePatch.model_validate({}))
    assert caught.value.field == "count"
