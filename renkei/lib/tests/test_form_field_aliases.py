"""A form whose widgets split or group an input's fields shows each error beside its widget."""

from __future__ import annotations

from typing import Annotated

from django import forms
from pydantic import Field

from renkei.lib.actions import ActionError
from renkei.lib.forms import input_from_form, show_error
from renkei.lib.inputs import Input, required


class FollowInput(Input):
    note: Annotated[str, Field(min_length=1), required("内容を入力してください")]


class WithFollowUp(Input):
    when: str
    followup: FollowInput | None = None


class SplitForm(forms.Form):
    day = forms.CharField()
    followup_note = forms.CharField(required=False)
    input_fields = {"when": "day", "followup.note": "followup_note"}

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        data["when"] = data.get("day", "")
        data["followup"] = {"note": data.get("followup_note", "")}
        return data


def test_nested_input_errors_land_on_the_widget_named_for_them() -> None:
    """followup.note's rule shows beside the followup_note box, not at the top."""
    form = SplitForm({"day": "2026-04-01", "followup_note": " "})
    assert input_from_form(form, WithFollowUp) is None
    assert form.errors["followup_note"] == ["内容を入力してください"]
    assert not form.non_field_errors()


def test_an_actions_refusal_uses_the_same_map() -> None:
    """A refusal naming `when` goes beside `day`; an unknown field goes to the top."""
    form = SplitForm({"day": "2026-04-01", "followup_note": "x"})
    assert form.is_valid()
    show_error(form, ActionError("未来の日付は入力できません", field="when"))
    show_error(form, ActionError("全体の問題です", field="nowhere"))
    assert form.errors["day"] == ["未来の日付は入力できません"]
    assert form.non_field_errors() == ["全体の問題です"]
