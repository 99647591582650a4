"""The HTML door's half of the action layer: a form feeds a typed input, errors go beside fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pydantic
from django import forms
from django.contrib import messages
from django.http import HttpRequest

from renkei.lib.actions import ActionError, StaleVersion
from renkei.lib.inputs import errors_of

I = TypeVar("I", bound=pydantic.BaseModel)  # noqa: E741
R = TypeVar("R")


class DatePicker(forms.DateInput):
    """The browser's date picker; its value is ISO whatever the locale's display formats."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimePicker(forms.DateTimeInput):
    """The browser's date-and-time picker (Japan time, to the minute)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


_HINTS = {"max_length": "maxlength", "min_length": "minlength", "ge": "min", "le": "max"}


def hints(model: type[pydantic.BaseModel], name: str) -> dict[str, Any]:
    """The input field's limits as widget attributes (maxlength, min, max): the browser is
    told, but the input alone refuses, with its message, so a limit is written once."""
    attrs: dict[str, Any] = {}
    for rule in model.model_fields[name].metadata:
        for key, attr in _HINTS.items():
            if (value := getattr(rule, key, None)) is not None:
                attrs[attr] = value
    return attrs


def form_field(form: forms.BaseForm, path: str) -> str | None:
    """The form field that shows an input field's error, or None for the top of the form.

    An input field with the same name is the same field. A form whose widgets split or
    group the input differently (a date and a time for one `received_at`, a nested
    `followup.note`) names the pairs in `input_fields`.
    """
    aliases: Mapping[str, str] = getattr(form, "input_fields", {})
    head = path.split(".")[0]
    name = aliases.get(path) or aliases.get(head) or head
    return name if name in form.fields else None


def show_error(form: forms.BaseForm, exc: ActionError) -> None:
    """Put the action's refusal beside the field it names, or at the top of the form."""
    field = None if isinstance(exc, StaleVersion) else form_field(form, exc.field or "")
    form.add_error(field, exc.message)


def refuse(request: HttpRequest, form: forms.BaseForm | None, exc: ActionError) -> int:
    """A refusal on a page of several small forms: beside its field when this form has that
    field, otherwise as a message at the top of the page. Returns the status to answer with."""
    field = form_field(form, exc.field) if form is not None and exc.field else None
    if form is not None and field is not None and not isinstance(exc, StaleVersion):
        form.add_error(field, exc.message)
    else:
        messages.error(request, exc.message)
    return exc.status


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
            form.add_error(form_field(form, field), message)
        return None


@dataclass(frozen=True)
class Submitted(Generic[R]):
    """What `submit` did: the action's result, or the status a refusal answers with."""

    result: R | None
    status: int

    @property
    def done(self) -> bool:
        return self.status < 400


def submit(
    form: forms.BaseForm,
    model: type[I],
    action: Callable[[I], R],
    extra: Mapping[str, Any] | None = None,
) -> Submitted[R]:
    """The HTML door in one call: the form's typed input handed to the action.

    A refusal, the form's, the input's (400) or the action's (its status), lands beside the
    field it names with the user's input kept; the view answers with `status` and the form.
    """
    data = input_from_form(form, model, extra)
    if data is None:
        return Submitted(None, 400)
    try:
        return Submitted(action(data), 200)
    except ActionError as e:
        show_error(form, e)
        return Submitted(None, e.status)
