"""The HTML door's half of the action layer: a form feeds a typed input, errors go beside fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic
from django import forms

from renkei.lib.actions import ActionError, StaleVersion
from renkei.lib.inputs import errors_of

I = TypeVar("I", bound=pydantic.BaseModel)  # noqa: E741


def show_error(form: forms.BaseForm, exc: ActionError) -> None:
    """Put the action's refusal beside the field it names, or at the top of the form."""
    field = (exc.field or "").split(".")[0]
    if isinstance(exc, StaleVersion) or field not in form.fields:
        form.add_error(None, exc.message)
    else:
        form.add_error(field, exc.message)


def input_from_form(
    form: forms.BaseForm, model: type[I], extra: Mapping[str, Any] | None = None
) -> I | None:
    """Validate the form, then its cleaned data (plus `extra`) into the action's input.

    Returns None when either fails; the errors are then on the form, under the fields they
    concern, so the page shows them with the user's input kept. The model's rules are the
    authority: a rule written only on the form would not hold for the API.
    """
    if not form.is_valid():
        return None
    data = {name: value for name, value in form.cleaned_data.items() if name in model.model_fields}
    data.update(extra or {})
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        for field, message in errors_of(e):
            name = field.split(".")[0]
            form.add_error(name if name in form.fields else None, message)
        return None
