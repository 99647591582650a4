"""The screens' forms: widgets, labels and the shape of the page, not rules.

The rules are the typed inputs' in `renkei.events.actions` (a form is turned into one with
`input_from_form` or `application_input` below), so the screen and the API refuse the same
input with the same message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

import pydantic
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.http import HttpRequest
from django.utils import timezone

from renkei.events.actions import (
    MAX_APPLICANTS,
    MAX_PARTY,
    EventApplicationInput,
    EventInput,
    check_upload,
)
from renkei.events.models import Applicant, Event, Need, Occupation
from renkei.lib.actions import ActionError
from renkei.lib.forms import DatePicker, DateTimePicker, input_from_form, show_error
from renkei.lib.inputs import errors_of
from renkei.regions.models import Municipality

AGREE_LABEL = "いただいた情報を研修の運営のため主催者が共有することに同意します"
AGREE_ERRORS = {"required": "同意のうえお申し込みください"}


def _email_field(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=254,
        help_text=help_text,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def _phone_field(label: str, *, required: bool = True, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=30,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )


def _question_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


def _agree() -> forms.BooleanField:
    return forms.BooleanField(label=AGREE_LABEL, error_messages=AGREE_ERRORS)


def _form_token() -> forms.CharField:
    # Submit once: a resubmitted form finds the first application (actions.apply).
    return forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class ApplicationForm(forms.Form):
    office_name = forms.CharField(label="事業所名", max_length=120)
    contact_name = forms.CharField(label="事業所連絡担当者", max_length=60)
    contact_email = _email_field("事業所メールアドレス")
    contact_phone = _phone_field("事業所電話番号")
    question_to = forms.ChoiceField(
        label="聞いてみたい職種",
        choices=[("", "（選択しない）"), *Occupation.question_choices()],
        required=False,
    )
    question_to_other = forms.CharField(
        label="聞いてみたい職種（その他の場合）", max_length=60, required=False
    )
    question = _question_field("聞いてみたい内容")
    agree = _agree()
    form_token = _form_token()


class ResidentForm(forms.Form):
    """A resident's application to a public lecture: who comes and what they need."""

    name = forms.CharField(
        label="お名前", max_length=60, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    kana = forms.CharField(
        label="ふりがな", max_length=80, help_text="ひらがなで（例: えびな はなこ）"
    )
    email = _email_field("メールアドレス", "申込の確認と、取消のためのリンクをお送りします")
    phone = _phone_field(
        "電話番号（任意）", required=False, help_text="当日の連絡が必要になった場合に使います"
    )
    party_size = forms.TypedChoiceField(
        label="参加人数（ご本人を含む）",
        choices=[(str(n), f"{n}名") for n in range(1, MAX_PARTY + 1)],
        coerce=int,
        initial="1",
        help_text=f"{MAX_PARTY}名を超える団体でのお申し込みは、お問い合わせ先にご相談ください",
    )
    needs = forms.MultipleChoiceField(
        label="参加にあたって必要な配慮（あてはまるものすべて）",
        choices=Need.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    needs_note = forms.CharField(
        label="その他の配慮・ご相談（任意）",
        max_length=200,
        required=False,
        help_text="例: 杖を使っています／筆談をお願いします",
    )
    question = _question_field("講師に聞いてみたいこと（任意）")
    agree = _agree()
    form_token = _form_token()


class ApplicantForm(forms.Form):
    name = forms.CharField(label="氏名", max_length=60)
    kana = forms.CharField(label="ふりがな", max_length=80)
    email = forms.CharField(
        label="メールアドレス",
        max_length=254,
        required=False,
        help_text="空欄（同上）なら事業所のアドレスに連絡します",
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"}),
    )
    occupation = forms.ChoiceField(
        label="職種", choices=[("", "選択してください"), *Occupation.choices]
    )
    occupation_other = forms.CharField(label="職種（その他の場合）", max_length=60, required=False)


class BaseApplicantFormSet(BaseFormSet[ApplicantForm]):
    default_error_messages = {
        "too_few_forms": "申込者を1名以上入力してください。",
        "too_many_forms": f"1回の申込は{MAX_APPLICANTS}名までです。",
    }

    def initial_form_count(self) -> int:
        # Rows are never existing objects: every row past the first may be left blank.
        return 0

    def filled(self) -> list[ApplicantForm]:
        """The rows typed in, in order: the applicants."""
        return [f for f in self.forms if f.has_changed() and f.cleaned_data]


def applicant_formset_class(
    extra: int = 2, min_num: int = 1, form: type[ApplicantForm] | None = None
) -> type[BaseApplicantFormSet]:
    """Three rows like the paper form by default; more through 「申込者を追加」. `form` is a
    row that asks more than seed 002's (a course round's)."""
    return formset_factory(  # type: ignore[return-value]
        form or ApplicantForm,
        formset=BaseApplicantFormSet,
        extra=extra,
        min_num=min_num,
        validate_min=True,
        max_num=MAX_APPLICANTS,
        validate_max=True,
        absolute_max=MAX_APPLICANTS,
    )


A = TypeVar("A", bound=EventApplicationInput)


@overload
def application_input(
    form: ApplicationForm, formset: BaseApplicantFormSet
) -> EventApplicationInput | None: ...
@overload
def application_input(
    form: ApplicationForm, formset: BaseApplicantFormSet, model: type[A]
) -> A | None: ...
def application_input(
    form: ApplicationForm,
    formset: BaseApplicantFormSet,
    model: type[EventApplicationInput] = EventApplicationInput,
) -> EventApplicationInput | None:
    """The form and its applicant rows as the action's input; None with the errors placed
    beside the fields (and rows) they concern. `model` is the input of a form that extends
    seed 002's (a course round's asks for experience and employer too)."""
    if not (form.is_valid() and formset.is_valid()):
        return None
    rows = formset.filled()
    data = {k: v for k, v in form.cleaned_data.items() if k in model.model_fields}
    data["question_to"] = data["question_to"] or None
    data["applicants"] = [dict(row.cleaned_data) for row in rows]
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        for path, message in errors_of(e):
            parts = path.split(".")
            if parts[0] == "applicants" and len(parts) == 3 and parts[1].isdigit():
                row = rows[int(parts[1])]
                row.add_error(parts[2] if parts[2] in row.fields else None, message)
            else:
                form.add_error(parts[0] if parts[0] in form.fields else None, message)
        return None


D = TypeVar("D")
R = TypeVar("R")


def submit_application(
    form: forms.Form,
    data: D | None,
    closed: str,
    apply: Callable[[D, str], R],
) -> tuple[R | None, int]:
    """The application form's door (an event's and a course round's): closed is 409 and bad
    input 400, both shown on the form; otherwise `apply(data, idempotency_key)`, whose
    refusal lands beside its field. Returns the action's result (or None) and the status."""
    if closed:
        form.add_error(None, closed)
        return None, 409
    if data is None:
        return None, 400
    token = form.cleaned_data["form_token"]
    try:
        return apply(data, f"web:{token}" if token else ""), 200
    except ActionError as e:
        show_error(form, e)
        return None, e.status


DATETIME_WIDGET = DateTimePicker()


class EventForm(forms.ModelForm[Event]):
    """The edit screen. A ModelForm for its labels, widgets and initial values only: it never
    saves, and the rules are EventInput's and Event.clean's, checked by the action."""

    target_occupations = forms.MultipleChoiceField(
        label="対象職種",
        choices=Occupation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    apply_until_date = forms.DateField(
        label="申込期限（日付）",
        required=False,
        widget=DatePicker(),
    )
    apply_until_time = forms.TimeField(
        label="申込期限（時刻）",
        required=False,
        help_text="空欄ならその日の23:59まで",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    class Meta:
        model = Event
        fields = [
            "title",
            "subtitle",
            "kind",
            "programme_item",
            "scene",
            "organiser_label",
            "co_organiser",
            "target_occupations",
            "target_area",
            "municipality",
            "starts_at",
            "ends_at",
            "reception_time",
            "venue_name",
            "venue_address",
            "online_url",
            "capacity",
            "capacity_note",
            "description",
            "how_to_apply",
            "contact",
            "fax",
            "published",
        ]
        widgets = {
            "starts_at": DATETIME_WIDGET,
            "ends_at": DATETIME_WIDGET,
            "reception_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "description": forms.Textarea(attrs={"rows": 6}),
            "how_to_apply": forms.Textarea(attrs={"rows": 3}),
            "contact": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, prefecture_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        muni = self.fields["municipality"]
        assert isinstance(muni, forms.ModelChoiceField)
        muni.queryset = (
            Municipality.objects.selectable().of_prefecture(prefecture_id).order_by("code")
        )
        if self.instance.apply_until:
            local = timezone.localtime(self.instance.apply_until)
            self.initial["apply_until_date"] = local.date()
            if local.time() < dt.time(23, 59):
                self.initial["apply_until_time"] = local.time()

    def _post_clean(self) -> None:
        # No model validation and no copying into the instance here: the action does both,
        # for this form and for the API alike.
        pass

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("apply_until_time") and not data.get("apply_until_date"):
            self.add_error("apply_until_date", "時刻を指定する場合は日付も入力してください")
        return data

    def apply_until(self) -> dt.datetime | None:
        """The two widgets as one time: the end of the day when no time is given."""
        day = self.cleaned_data.get("apply_until_date")
        if not day:
            return None
        at = self.cleaned_data.get("apply_until_time") or dt.time(23, 59, 59)
        return dt.datetime.combine(day, at, tzinfo=timezone.get_current_timezone())


class LecturerForm(forms.Form):
    name = forms.CharField(label="氏名", max_length=60)
    affiliation = forms.CharField(label="所属", max_length=120, required=False)
    title = forms.CharField(label="役職", max_length=120, required=False)
    topic = forms.CharField(label="内容", max_length=200, required=False)


class BaseLecturerFormSet(BaseFormSet[LecturerForm]):
    def lecturers(self) -> list[dict[str, str]]:
        fields = list(LecturerForm.base_fields)
        return [
            {k: f.cleaned_data[k] for k in fields}
            for f in self.forms
            if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]


LecturerFormSet = cast(
    type[BaseLecturerFormSet],
    formset_factory(
        LecturerForm, formset=BaseLecturerFormSet, extra=2, can_delete=True, max_num=20
    ),
)


def event_input(form: EventForm, lecturers: BaseLecturerFormSet) -> EventInput | None:
    """The edit screen as the action's input; None with the errors on the form."""
    if not lecturers.is_valid() or not form.is_valid():
        return None
    muni = form.cleaned_data.get("municipality")
    extra = {
        "municipality_code": muni.code if muni else None,
        "apply_until": form.apply_until(),
        "scene": form.cleaned_data.get("scene") or None,
        "lecturers": lecturers.lecturers(),
    }
    return input_from_form(form, EventInput, extra)


def lecturer_rows(event: Event | None) -> list[dict[str, str]]:
    """The event's lecturers as the formset's initial rows."""
    fields = list(LecturerForm.base_fields)
    return [{k: getattr(x, k) for k in fields} for x in (event.lecturers.all() if event else [])]


class AttachmentForm(forms.Form):
    title = forms.CharField(label="表示名", max_length=120, required=False)
    file = forms.FileField(label="ファイル（PDF・PNG・JPEG、5MBまで）")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            check_upload(upload)
        except ActionError as e:
            raise ValidationError(e.message) from e
        return upload


RATING = [(str(i), str(i)) for i in range(5, 0, -1)]


class FeedbackForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label="研修の満足度（5: とても満足 〜 1: 不満）",
        choices=RATING,
        coerce=int,
        widget=forms.RadioSelect,
    )
    usefulness = forms.TypedChoiceField(
        label="業務への役立ち度（5: とても役立つ 〜 1: 役立たない）",
        choices=RATING,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="感想・今後取り上げてほしいテーマ",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def cancel_and_tell(
    request: HttpRequest,
    person: Applicant,
    cancel: Callable[[], tuple[list[Applicant], list[Applicant]]],
) -> None:
    """An organiser's cancel of one applicant (an event's or a course round's): the action's
    refusal, or who was cancelled and who moved up from the waiting list, as the next page's
    message."""
    try:
        _, promoted = cancel()
    except ActionError as e:
        messages.error(request, e.message)
        return
    msg = f"{person.name} さんの申込を取り消しました。"
    if promoted:
        msg += "キャンセル待ちから繰り上げ: " + "、".join(a.name for a in promoted)
    messages.success(request, msg)
