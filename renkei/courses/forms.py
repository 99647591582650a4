"""The course round's application form: seed 002's (events') with what a course asks more."""

from __future__ import annotations

from django import forms

from renkei.accounts.models import OrgKind
from renkei.events.forms import ApplicantForm, ApplicationForm


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


class SessionAttendanceForm(forms.Form):
    applicant = forms.UUIDField(widget=forms.HiddenInput)
    attended = forms.BooleanField(required=False)
