"""Typed inputs: one pydantic model per action, produced by the HTML form and the API alike.

    class VacancyInput(Input):
        status: VacancyStatus
        count: int | None = Field(None, ge=0, le=9999)
        version: int

The ninja handler takes it as its body (its rules appear in the OpenAPI schema); the view
builds it from the form with `renkei.lib.forms.input_from_form`. Both doors then call the same
action with the same object, and the same rules refuse the same input with the same Japanese
message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, TypeVar, get_args

import pydantic
from django.utils import timezone
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue, WithJsonSchema
from pydantic_core import CoreSchema

from renkei.lib.actions import ActionError
from renkei.lib.text import normalize_phone, phone_problem


class Input(BaseModel):
    """Base of every action input: immutable, and unknown fields are an error, not ignored.

    A plain pydantic model rather than ninja's Schema: ninja takes it as a body all the same,
    and mypy's pydantic plugin then checks every constructor call.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=lambda schema, cls: _stripped_text_in_schema(schema),
    )


def _stripped_text_in_schema(schema: dict[str, Any]) -> None:
    """The inputs strip whitespace before any rule, so a text that must not be empty must not
    be blank either: say so in the schema, or generated clients send " " and get a 400."""
    for prop in (schema.get("properties") or {}).values():
        _not_blank(prop)


def _not_blank(schema: Any) -> None:
    if not isinstance(schema, dict):
        return
    if (
        schema.get("type") == "string"
        and schema.get("minLength", 0) >= 1
        and not {"pattern", "enum", "format", "const"} & schema.keys()
    ):
        schema["pattern"] = NOT_BLANK
    for branch in schema.get("anyOf") or ():
        _not_blank(branch)
    _not_blank(schema.get("items"))


I = TypeVar("I", bound=pydantic.BaseModel)  # noqa: E741


@dataclass(frozen=True, slots=True)
class _Required(BeforeValidator):
    """A BeforeValidator that also tells the schema a text must not be blank: the input strips
    whitespace, so "minLength: 1" alone let generated clients send " " and get a 400."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if schema.get("type") == "string" and "pattern" not in schema:
            schema["pattern"] = NOT_BLANK
        if schema.get("type") == "array":
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema


# Some character other than whitespace (the inputs strip it before any rule).
NOT_BLANK = r"\S"


def required(message: str) -> BeforeValidator:
    """A field's own Japanese message for "left empty" (blank text, null, an empty list).

    Put it after the shape rules: `Annotated[str, Field(min_length=1), required("…")]` (in
    that order, or pydantic leaves the rules out of the schema). It runs before them, so both
    doors say what is missing in the words of the domain, while the schema still shows the
    field as required and non-blank.
    """

    def check(value: Any) -> Any:
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            raise ValueError(message)
        return value

    return _Required(check)


def one_of(values: Iterable[str], message: str) -> Any:
    """A text that must be one of `values` (an empty string among them for "no filter"),
    refused with the domain's words and shown in the schema as the enum it is."""
    allowed = list(values)

    def check(value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"{message}（{value}）")
        return value

    return _OneOf(check, allowed=tuple(allowed))


@dataclass(frozen=True, slots=True)
class _OneOf(BeforeValidator):
    allowed: tuple[str, ...] = ()

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["enum"] = list(self.allowed)
        return schema


def known_codes(values: Iterable[str], message: str) -> Any:
    """A list of codes from one vocabulary: each refused with the domain's words (and the
    codes), and each item shown in the schema as the enum it is."""
    allowed = [str(v) for v in values]

    def check(value: Any) -> Any:
        if isinstance(value, list | tuple):
            bad = [
                str(v) for v in value if str(v.value if isinstance(v, Enum) else v) not in allowed
            ]
            if bad:
                raise ValueError(f"{message}: {', '.join(bad[:5])}")
        return value

    return _KnownCodes(check, allowed=tuple(allowed))


@dataclass(frozen=True, slots=True)
class _KnownCodes(BeforeValidator):
    allowed: tuple[str, ...] = ()

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        items = schema.get("items")
        if schema.get("type") == "array" and isinstance(items, dict) and "$ref" not in items:
            items["enum"] = list(self.allowed)
        return schema


# A municipality's code (JIS X 0401/0402 with its check digit): whether it exists is the
# action's question, against the regions table.
MunicipalityCode = Annotated[
    str, Field(pattern=r"^\d{6}$", max_length=6, description="市区町村コード（6桁）")
]

# A code of the capability vocabulary (処置項目; a data table, so whether it exists is the
# action's question).
CapabilityCode = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", max_length=40)]

# Pages of a list: the same bounds on every list of the API (a page past the last is an empty
# page or a 400 that says how many there are; a number past these is never a real page).
MAX_PAGE = 10_000
MAX_PER_PAGE = 100
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE, description="ページ番号（1から）")]
PerPage = Annotated[int, Field(ge=1, le=MAX_PER_PAGE, description="1ページの件数")]


# The calendar every date and time of the platform lies in: earlier or later values are typos
# (and years past 9999 overflow on their way to UTC), refused with one message on every door.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _in_calendar_date(value: dt.date) -> dt.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"日付は{FIRST_YEAR}年〜{LAST_YEAR}年の範囲で入力してください")
    return value


def _in_calendar_datetime(value: dt.datetime) -> dt.datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"日時は{FIRST_YEAR}年〜{LAST_YEAR}年の範囲で入力してください")
    # A time without an offset is Japan time, as on the screens.
    return timezone.make_aware(value) if timezone.is_naive(value) else value


# The pattern puts the years into the schema in a form generated clients and schemathesis
# understand (formatMinimum/Maximum say the same for validators that know them).
_YEARS = r"^(20[0-9]{2}|2100)-"
CalendarDate = Annotated[
    dt.date,
    AfterValidator(_in_calendar_date),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": _YEARS,
            "formatMinimum": f"{FIRST_YEAR}-01-01",
            "formatMaximum": f"{LAST_YEAR}-12-31",
        }
    ),
]
CalendarDateTime = Annotated[
    dt.datetime,
    AfterValidator(_in_calendar_datetime),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": _YEARS,
            "formatMinimum": f"{FIRST_YEAR}-01-01T00:00:00+09:00",
            "formatMaximum": f"{LAST_YEAR}-12-31T23:59:59+09:00",
            "description": f"{FIRST_YEAR}年〜{LAST_YEAR}年。タイムゾーンなしは日本時間",
        }
    ),
]


# A time of day as the API writes it ("13:30:00", Japan time): JSON Schema's `format: time`
# demands an offset, which a session's starting time does not carry.
def _local_time(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("時刻は日本時間で、時差（Z や +09:00）を付けずに入力してください")
    return value


TimeOfDay = Annotated[
    dt.time,
    AfterValidator(_local_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
            "description": "時刻（日本時間、HH:MM:SS）",
        }
    ),
]
FiscalYear = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR, description="年度（西暦の開始年）")]


def _phone(value: str) -> str:
    phone = normalize_phone(value)
    if problem := phone_problem(phone):
        raise ValueError(problem)
    return phone


# The ASCII form of a Japanese phone number in the schema: 10 or 11 digits from 0, single
# dashes between them. The validator also takes full-width digits, brackets and an extension
# (as people type them on the screens), so the pattern documents rather than validates.
PHONE_PATTERN = r"^0(-?[0-9]){9,10}$"

# A Japanese phone number, full-width digits and dashes accepted and stored as ASCII.
Phone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=30,
        description="電話番号（例: 046-231-8650）",
        json_schema_extra={"pattern": PHONE_PATTERN},
    ),
    AfterValidator(_phone),
]

# Japanese for pydantic's error types; {…} are filled from the error's ctx.
_MESSAGES = {
    "missing": "入力してください",
    "string_too_short": "{min_length}文字以上で入力してください",
    "string_too_long": "{max_length}文字以内で入力してください",
    "string_type": "文字列で指定してください",
    "string_pattern_mismatch": "形式が正しくありません",
    "int_type": "整数で指定してください",
    "int_parsing": "整数で指定してください",
    "int_from_float": "整数で指定してください",
    "float_type": "数値で指定してください",
    "float_parsing": "数値で指定してください",
    "decimal_parsing": "数値で指定してください",
    "bool_type": "true か false で指定してください",
    "bool_parsing": "true か false で指定してください",
    "greater_than": "{gt}より大きい値を指定してください",
    "greater_than_equal": "{ge}以上の値を指定してください",
    "less_than": "{lt}より小さい値を指定してください",
    "less_than_equal": "{le}以下の値を指定してください",
    "literal_error": "選択肢から選んでください（{expected}）",
    "enum": "選択肢から選んでください（{expected}）",
    "date_type": "日付で指定してください（例: 2026-04-01）",
    "date_parsing": "日付で指定してください（例: 2026-04-01）",
    "date_from_datetime_parsing": "日付で指定してください（例: 2026-04-01）",
    "datetime_type": "日時で指定してください（例: 2026-04-01T09:00:00+09:00）",
    "datetime_parsing": "日時で指定してください（例: 2026-04-01T09:00:00+09:00）",
    "datetime_from_date_parsing": "日時で指定してください（例: 2026-04-01T09:00:00+09:00）",
    "time_type": "時刻で指定してください（例: 09:30）",
    "time_parsing": "時刻で指定してください（例: 09:30）",
    "uuid_type": "ID の形式が正しくありません",
    "uuid_parsing": "ID の形式が正しくありません",
    "list_type": "配列で指定してください",
    "too_short": "{min_length}件以上指定してください",
    "too_long": "{max_length}件以内で指定してください",
    "dict_type": "JSONのオブジェクトで指定してください",
    "model_type": "JSONのオブジェクトで指定してください",
    "model_attributes_type": "JSONのオブジェクトで指定してください",
    "extra_forbidden": "この項目は指定できません",
    "frozen_instance": "変更できません",
    "url_parsing": "URLの形式が正しくありません",
    "url_scheme": "http または https のURLを指定してください",
    "value_error": "{error}",
    "assertion_error": "{error}",
}


def japanese_message(error: Mapping[str, Any]) -> str:
    """One pydantic/ninja error as a Japanese sentence (without the field name)."""
    kind = str(error.get("type", ""))
    ctx = dict(error.get("ctx") or {})
    template = _MESSAGES.get(kind)
    if kind in ("value_error", "assertion_error"):
        # Our validators raise ValueError with a Japanese message; pydantic prefixes it.
        message = str(ctx.get("error") or error.get("msg", ""))
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if template is None:
        return "入力内容が正しくありません"
    try:
        return template.format(**{k: _plain(v) for k, v in ctx.items()})
    except (KeyError, IndexError):
        return "入力内容が正しくありません"


def _plain(value: Any) -> str:
    text = str(value)
    return text.replace("'", "")


def error_field(error: Mapping[str, Any], skip: Iterable[str] = ("body", "query", "path")) -> str:
    """The dotted input path of an error ("applicants.0.kana"), without ninja's wrappers."""
    parts = [str(p) for p in error.get("loc", ()) if str(p) not in skip]
    # ninja nests the body model under its parameter name ("payload").
    if len(parts) > 1 and parts[0] in ("payload", "data"):
        parts = parts[1:]
    return ".".join(parts)


def errors_of(e: pydantic.ValidationError) -> list[tuple[str, str]]:
    """(field, Japanese message) for each error, in order."""
    return [(error_field(err), japanese_message(err)) for err in e.errors()]


def parse(model: type[I], data: Mapping[str, Any]) -> I:
    """Validate `data` into `model`; ActionError(400) naming the first field in error."""
    try:
        return model.model_validate(dict(data))
    except pydantic.ValidationError as e:
        field, message = errors_of(e)[0]
        raise ActionError(f"{field}: {message}" if field else message, field=field or None) from e


def parse_query(model: type[I], query: Mapping[str, Any]) -> I:
    """parse() for a screen's query string: only the model's own parameters are read, and an
    empty one is left out.

    A page's query string carries more than its filters (another list's paging, a return
    address), which the API's Query[...] ignores as well; and a form's 「すべて」 option
    sends an empty value, which means "no filter", not a value to check.
    """
    return parse(
        model, {name: query[name] for name in model.model_fields if query.get(name, "") != ""}
    )


def partial(model: type[I], name: str, *, doc: str = "") -> type[I]:
    """The PATCH body of `model`: every field may be left out, and only those sent change.

    Each field keeps its type, constraints and validators, so the schema shows the same rules
    as the full input. `null` is accepted where it means something: on fields the full input
    already allows to be None, and on text fields whose default is "" (null clears them; see
    `merge`). Elsewhere (a title, a required time, a choice) null is refused with
    "<title>は空にできません". The class is built from `model` rather than written out again, so
    the two cannot drift (issue 10: EventIn and EventPatch had their validators twice).
    """
    fields: dict[str, Any] = {}
    refuse_null: list[str] = []
    for field_name, info in model.model_fields.items():
        annotation: Any = info.annotation
        clearable = _admits_none(annotation) or info.default == ""
        copy = FieldInfo.merge_field_infos(info, default=None)
        copy.default_factory = None
        if clearable and not _admits_none(annotation):
            if copy.metadata:
                # The field's constraints and validators apply to the value, not to null.
                annotation = Annotated[(annotation, *copy.metadata)]
                copy.metadata = []
            annotation = annotation | None
        elif not clearable:
            refuse_null.append(field_name)
            # A value of the field's type or nothing at all: no "default: null" in the schema.
            copy.json_schema_extra = _without_default(info.json_schema_extra)
        fields[field_name] = (annotation, copy)

    def no_null(cls: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
        if value is None:
            label = cls.model_fields[str(info.field_name)].title or ""
            raise ValueError(f"{label}は空にできません" if label else "空にできません")
        return value

    validators: dict[str, Any] = {}
    if refuse_null:
        validators["refuse_null"] = field_validator(*refuse_null, mode="before")(no_null)
    patch: type[I] = create_model(
        name,
        __base__=model,
        __doc__=doc or f"Fields of {model.__name__} to change; those left out keep their value.",
        __validators__=validators,
        **fields,
    )
    return patch


def _without_default(extra: Any) -> Callable[[dict[str, Any]], None]:
    def edit(schema: dict[str, Any]) -> None:
        if isinstance(extra, dict):
            schema.update(extra)
        elif callable(extra):
            extra(schema)
        schema.pop("default", None)

    return edit


def _admits_none(annotation: Any) -> bool:
    return annotation is None or type(None) in get_args(annotation)


def merge(model: type[I], current: Mapping[str, Any], patch: BaseModel) -> I:
    """`model` from the `current` values and the fields sent in `patch` (a `partial(model)`).

    A null sent for a text field clears it (its default, ""). The result is validated as a
    whole, so every rule of the full input holds for the patched record too; a refusal is an
    ActionError naming the field, as from `parse`.
    """
    changes = {}
    for field_name, value in patch.model_dump(exclude_unset=True).items():
        if value is None and model.model_fields[field_name].default == "":
            value = ""
        changes[field_name] = value
    return parse(model, {**current, **changes})


def item_type(annotation: Any) -> tuple[Any, bool]:
    """A field's item type without Optional and Annotated, and whether it is a list of them:
    what a form widget or a printed choice is drawn from."""
    import types
    import typing

    many = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        elif origin is list:
            annotation, many = typing.get_args(annotation)[0], True
        else:
            return annotation, many
