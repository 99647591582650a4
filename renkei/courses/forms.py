"""The course round's application form: seed 002's (events') with what a course asks more."""

from __future__ import annotations

from typing import Any

from django import forms

from renkei.accounts.models import OrgKind
from renkei.courses.models import (
    Audience,
    Course,
    CourseRound,
    CourseSession,
    DispatchPurpose,
    MaterialKind,
    SessionKind,
    Specialist,
    SpecialistKind,
)
from renkei.events.forms import ApplicantForm, ApplicationForm
from renkei.events.models import Occupation
from renkei.lib.forms import DatePicker, DateTimePicker
from renkei.lib.programme import ProgrammeItem

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class CourseApplicationForm(ApplicationForm):
    employer_kind = forms.ChoiceField(
        label="勤務先の種別",
        choices=[("", "選択してください"), *OrgKind.choices[:-3]],
    )
    municipality_code = forms.CharField(
        label="勤務先の市区町村コード（6桁、任意）",
        max_length=6,
        required=False,
        help_text="例: 142158（海老名市）。集計に使います",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )

    field_order = ["office_name", "employer_kind", "municipality_code"]


class CourseApplicantForm(ApplicantForm):
    years_experience = forms.IntegerField(
        label="経験年数（年）",
        min_value=0,
        max_value=60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


# --- setting up a course (the organiser) ------------------------------------------------------


def _checkboxes(label: str, choices: list[tuple[str, str]], help_text: str) -> forms.Field:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
    )


class CourseForm(forms.Form):
    """The course's settings (`actions.CourseSettingsInput`); rounds are added on its page."""

    title = forms.CharField(label="研修名", max_length=200)
    description = forms.CharField(
        label="内容", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    programme_item = forms.ChoiceField(
        label="事業項目", choices=ProgrammeItem.choices, initial=ProgrammeItem.KA
    )
    municipality_code = forms.CharField(
        label="実施市区町村コード（6桁、県の研修は空欄）",
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    eligible_occupations = _checkboxes("対象職種", Occupation.choices, "選ばなければすべての職種")
    min_years_experience = forms.IntegerField(
        label="必要な経験年数",
        min_value=0,
        max_value=60,
        required=False,
        help_text="空欄は問わない",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    employer_kinds = _checkboxes(
        "対象の勤務先", OrgKind.choices[:-3], "選ばなければ勤務先を問わない"
    )
    fee = forms.IntegerField(
        label="受講料（円）",
        min_value=0,
        max_value=1_000_000,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    min_sessions = forms.IntegerField(
        label="修了に必要な出席日数",
        min_value=1,
        required=False,
        help_text="空欄は全日程の出席",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    certificate_label = forms.CharField(
        label="修了証番号の記号", max_length=20, required=False, help_text="例: 訪看導入"
    )
    contact = forms.CharField(
        label="お問い合わせ先",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    published = forms.BooleanField(label="公開する（回を1つ以上登録してから）", required=False)


def course_values(course: Course) -> dict[str, Any]:
    """A course as CourseForm's initial values."""
    values = {n: getattr(course, n) for n in CourseForm.base_fields if hasattr(course, n)}
    values["municipality_code"] = course.municipality.code if course.municipality else ""
    return values


class RoundForm(forms.Form):
    """A round's number, places and period (`actions.RoundSettingsInput`)."""

    number = forms.IntegerField(
        label="回（第n回）",
        min_value=1,
        max_value=99,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    capacity = forms.IntegerField(
        label="定員",
        min_value=1,
        max_value=9999,
        required=False,
        help_text="空欄は定員なし",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    apply_from = forms.DateTimeField(
        label="申込開始", required=False, widget=DateTimePicker(), help_text="空欄は公開した時から"
    )
    apply_until = forms.DateTimeField(
        label="申込期限", required=False, widget=DateTimePicker(), help_text="初日より前に"
    )


def round_values(rnd: CourseRound) -> dict[str, Any]:
    """A round as RoundForm's initial values (its places and deadline are its event's)."""
    return {
        "number": rnd.number,
        "capacity": rnd.event.capacity,
        "apply_from": rnd.apply_from,
        "apply_until": rnd.event.apply_until,
    }


class SessionForm(forms.Form):
    """One day of a round (`actions.SessionInput`)."""

    date = forms.DateField(label="日付", widget=DatePicker())
    starts = forms.TimeField(label="開始時刻", widget=TIME_WIDGET)
    ends = forms.TimeField(label="終了時刻", widget=TIME_WIDGET)
    kind = forms.ChoiceField(label="形式", choices=SessionKind.choices, initial=SessionKind.LECTURE)
    title = forms.CharField(
        label="内容", max_length=200, required=False, help_text="例: 1日目 講義"
    )
    venue = forms.CharField(label="会場", max_length=200, required=False)
    online = forms.BooleanField(label="オンライン", required=False)


SESSION_FIELDS = list(SessionForm.base_fields)


def session_values(session: CourseSession) -> dict[str, Any]:
    return {name: getattr(session, name) for name in SESSION_FIELDS}


class NewRoundForm(RoundForm, SessionForm):
    """A new round and its first day in one form (`actions.RoundInput`); more days are added
    on the round's page."""

    # The input's errors about the first session land beside its fields.
    input_fields = {f"sessions.0.{name}": name for name in SESSION_FIELDS}
    field_order = [*RoundForm.base_fields, *SESSION_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["sessions"] = [{name: data.get(name) for name in SESSION_FIELDS}]
        return data


class SessionAttendanceForm(forms.Form):
    applicant = forms.UUIDField(widget=forms.HiddenInput)
    attended = forms.BooleanField(required=False)


# --- specialist dispatch ---------------------------------------------------------------------


class DispatchRequestForm(forms.Form):
    date = forms.DateField(label="希望日", widget=DATE_WIDGET)
    starts = forms.TimeField(label="開始時刻", widget=TIME_WIDGET)
    ends = forms.TimeField(label="終了時刻", widget=TIME_WIDGET)
    purpose = forms.ChoiceField(
        label="目的", choices=[("", "選択してください"), *DispatchPurpose.choices]
    )
    kind = forms.ChoiceField(
        label="希望する職種", choices=[("", "選択してください"), *SpecialistKind.choices]
    )
    venue = forms.CharField(label="場所", max_length=200)
    detail = forms.CharField(
        label="内容・参加予定者など",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class DispatchDecisionForm(forms.Form):
    specialist = forms.ChoiceField(label="派遣する専門職", required=False)
    note = forms.CharField(label="依頼元への連絡事項", max_length=300, required=False)

    def __init__(self, *args: Any, candidates: list[Specialist], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["specialist"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "派遣できない（理由を連絡事項に）"),
            *[(str(s.code), f"{s}｜{s.affiliation}") for s in candidates],
        ]

    def clean_specialist(self) -> str | None:
        return self.cleaned_data["specialist"] or None


class DispatchReportForm(forms.Form):
    report = forms.CharField(
        label="実施内容・所感", max_length=4000, widget=forms.Textarea(attrs={"rows": 6})
    )
    participants = forms.IntegerField(label="参加者数", min_value=0, max_value=10000)


class FeeForm(forms.Form):
    fee = forms.IntegerField(label="謝金（円）", min_value=0, max_value=10_000_000)


class SpecialistForm(forms.Form):
    name = forms.CharField(label="氏名", max_length=60)
    kind = forms.ChoiceField(label="職種", choices=SpecialistKind.choices)
    affiliation = forms.CharField(label="所属", max_length=120, required=False)
    email = forms.CharField(label="メールアドレス", max_length=254)
    areas = forms.CharField(
        label="派遣できる市区町村コード",
        required=False,
        max_length=800,
        help_text="6桁のコードを空白またはカンマで区切って。空欄は県内全域",
    )
    weekdays = forms.MultipleChoiceField(
        label="派遣できる曜日",
        required=False,
        choices=[(str(i), d) for i, d in enumerate("月火水木金土日")],
        widget=forms.CheckboxSelectMultiple,
    )
    availability_note = forms.CharField(label="都合の補足", max_length=200, required=False)

    def clean_areas(self) -> list[str]:
        return [c for c in self.cleaned_data["areas"].replace(",", " ").split() if c]


# --- public materials --------------------------------------------------------------------------


class MaterialForm(forms.Form):
    title = forms.CharField(label="題名", max_length=200)
    kind = forms.ChoiceField(label="種類", choices=MaterialKind.choices)
    audience = forms.ChoiceField(label="対象", choices=Audience.choices)
    municipality_code = forms.CharField(
        label="市区町村コード（6桁、県全体の資料は空欄）", max_length=6, required=False
    )
    programme_item = forms.ChoiceField(
        label="事業項目", choices=ProgrammeItem.choices, initial=ProgrammeItem.KI
    )
    description = forms.CharField(
        label="説明", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    published = forms.BooleanField(label="公開する", required=False, initial=True)


class VersionForm(forms.Form):
    file = forms.FileField(label="ファイル（PDF・PNG・JPEG、20MBまで）")
    published_on = forms.DateField(label="発行日", widget=DATE_WIDGET)
    note = forms.CharField(label="改訂の内容", max_length=200, required=False)
