from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.forms import BaseFormSet, formset_factory
from django.utils import timezone

from renkei.events.actions import (
    MAX_APPLICANTS,
    ApplicantData,
    ApplicationData,
    LecturerData,
    Refused,
    check_upload,
)
from renkei.events.models import (
    Event,
    EventKind,
    Occupation,
    normalize_email,
    normalize_kana,
    normalize_phone,
    validate_hiragana,
    validate_phone,
)
from renkei.regions.models import Municipality


class ApplicationForm(forms.Form):
    office_name = forms.CharField(label="事業所名", max_length=120, required=False)
    contact_name = forms.CharField(label="事業所連絡担当者", max_length=60)
    contact_email = forms.CharField(
        label="事業所メールアドレス",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    contact_phone = forms.CharField(
        label="事業所電話番号",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    question_to = forms.ChoiceField(
        label="聞いてみたい職種",
        choices=[("", "（選択しない）"), *Occupation.question_choices()],
        required=False,
    )
    question_to_other = forms.CharField(
        label="聞いてみたい職種（その他の場合）", max_length=60, required=False
    )
    question = forms.CharField(
        label="聞いてみたい内容",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    agree = forms.BooleanField(
        label="いただいた情報を研修の運営のため主催者が共有することに同意します",
        error_messages={"required": "同意のうえお申し込みください"},
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        # Citizens applying to a public lecture have no 事業所 and may have no phone to give.
        if event.kind != EventKind.PUBLIC_LECTURE:
            self.fields["office_name"].required = True
            self.fields["contact_phone"].required = True
        else:
            self.fields["office_name"].label = "事業所名・団体名（市民の方は空欄）"
            self.fields["contact_name"].label = "代表者のお名前"
            self.fields["contact_email"].label = "連絡先メールアドレス"
            self.fields["contact_phone"].label = "連絡先電話番号"

    def clean_contact_email(self) -> str:
        value = normalize_email(self.cleaned_data["contact_email"])
        try:
            validate_email(value)
        except ValidationError as e:
            raise ValidationError(
                "メールアドレスの形式が正しくありません（例: info@example.jp）"
            ) from e
        return value

    def clean_contact_phone(self) -> str:
        value = normalize_phone(self.cleaned_data["contact_phone"])
        if value:
            validate_phone(value)
        return value


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

    def clean_kana(self) -> str:
        value = normalize_kana(self.cleaned_data["kana"])
        validate_hiragana(value)
        return value

    def clean_email(self) -> str:
        value = normalize_email(self.cleaned_data["email"])
        if value:
            try:
                validate_email(value)
            except ValidationError as e:
                raise ValidationError(
                    "メールアドレスの形式が正しくありません（例: hanako@example.jp）"
                ) from e
        return value


class BaseApplicantFormSet(BaseFormSet[ApplicantForm]):
    default_error_messages = {
        "too_few_forms": "申込者を1名以上入力してください。",
        "too_many_forms": f"1回の申込は{MAX_APPLICANTS}名までです。",
    }

    def initial_form_count(self) -> int:
        # Rows are never existing objects: every row past the first may be left blank.
        return 0

    def clean(self) -> None:
        if any(self.errors):
            return
        seen: dict[str, int] = {}
        for i, form in enumerate(self.forms, start=1):
            email = form.cleaned_data.get("email") if form.has_changed() else None
            if not email:
                continue
            key = email.lower()
            if key in seen:
                raise ValidationError(
                    f"申込者{seen[key]}と申込者{i}に同じメールアドレスが入力されています。"
                )
            seen[key] = i

    def applicants(self) -> list[ApplicantData]:
        return [
            ApplicantData(
                name=f.cleaned_data["name"],
                kana=f.cleaned_data["kana"],
                email=f.cleaned_data["email"],
                occupation=f.cleaned_data["occupation"],
                occupation_other=f.cleaned_data["occupation_other"],
            )
            for f in self.forms
            if f.has_changed() and f.cleaned_data
        ]


def applicant_formset_class(extra: int = 2, min_num: int = 1) -> type[BaseApplicantFormSet]:
    """Three rows like the paper form by default; more through 「申込者を追加」."""
    return formset_factory(  # type: ignore[return-value]
        ApplicantForm,
        formset=BaseApplicantFormSet,
        extra=extra,
        min_num=min_num,
        validate_min=True,
        max_num=MAX_APPLICANTS,
        validate_max=True,
        absolute_max=MAX_APPLICANTS,
    )


def application_data(form: ApplicationForm, formset: BaseApplicantFormSet) -> ApplicationData:
    d = form.cleaned_data
    return ApplicationData(
        office_name=d["office_name"],
        contact_name=d["contact_name"],
        contact_email=d["contact_email"],
        contact_phone=d["contact_phone"],
        question_to=d["question_to"],
        question_to_other=d["question_to_other"],
        question=d["question"],
        applicants=formset.applicants(),
    )


def place_refusal(refused: Refused, form: ApplicationForm, formset: BaseApplicantFormSet) -> None:
    """Show an action's refusal next to the field it names, or at the top of the form."""
    target = refused.field or ""
    if target in form.fields:
        form.add_error(target, refused.message)
    else:
        form.add_error(None, refused.message)


DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.ModelForm[Event]):
    target_occupations = forms.MultipleChoiceField(
        label="対象職種",
        choices=Occupation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    apply_until_date = forms.DateField(
        label="申込期限（日付）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
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
        qs = Municipality.objects.selectable().order_by("code")
        pref = prefecture_id
        muni.queryset = qs.filter(prefecture_id=pref) if pref else qs.filter(prefecture__code="14")
        if self.instance.apply_until:
            local = timezone.localtime(self.instance.apply_until)
            self.initial["apply_until_date"] = local.date()
            if local.time() < dt.time(23, 59):
                self.initial["apply_until_time"] = local.time()

    def clean_fax(self) -> str:
        value = normalize_phone(self.cleaned_data.get("fax") or "")
        if value:
            validate_phone(value)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day = data.get("apply_until_date")
        at = data.get("apply_until_time")
        if at and not day:
            self.add_error("apply_until_date", "時刻を指定する場合は日付も入力してください")
        elif day:
            tz = timezone.get_current_timezone()
            until: dt.datetime | None = dt.datetime.combine(
                day, at or dt.time(23, 59, 59), tzinfo=tz
            )
            starts = data.get("starts_at")
            if starts and until > starts:
                # Checked here because the model would report it on a field the form lacks.
                self.add_error("apply_until_date", "申込期限は開始日時より前にしてください")
                until = None
            self.instance.apply_until = until
        else:
            self.instance.apply_until = None
        if not data.get("venue_name") and not data.get("online_url"):
            self.add_error("venue_name", "会場かオンライン参加URLのどちらかを入力してください")
        return data


class LecturerForm(forms.Form):
    name = forms.CharField(label="氏名", max_length=60)
    affiliation = forms.CharField(label="所属", max_length=120, required=False)
    title = forms.CharField(label="役職", max_length=120, required=False)
    topic = forms.CharField(label="内容", max_length=200, required=False)


class BaseLecturerFormSet(BaseFormSet[LecturerForm]):
    def lecturers(self) -> list[LecturerData]:
        out = []
        for f in self.forms:
            if not f.has_changed() or not f.cleaned_data or f.cleaned_data.get("DELETE"):
                continue
            d = f.cleaned_data
            out.append(LecturerData(d["name"], d["affiliation"], d["title"], d["topic"]))
        return out


LecturerFormSet = cast(
    type[BaseLecturerFormSet],
    formset_factory(
        LecturerForm, formset=BaseLecturerFormSet, extra=2, can_delete=True, max_num=20
    ),
)


class AttachmentForm(forms.Form):
    title = forms.CharField(label="表示名", max_length=120, required=False)
    file = forms.FileField(label="ファイル（PDF・PNG・JPEG、5MBまで）")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            check_upload(upload)
        except Refused as e:
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
