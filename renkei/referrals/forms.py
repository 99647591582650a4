"""Input validation for the HTML screens; the actions re-check everything they rely on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from renkei.accounts.idempotency import new_form_token
from renkei.accounts.models import Organization
from renkei.directory.models import Capability, CareLevel, WardKind
from renkei.lib.forms import DatePicker, DateTimePicker
from renkei.referrals.inputs import ADMISSION_SORTS, CASE_FIELDS
from renkei.referrals.models import (
    Answer,
    CaseStatus,
    DeclineReason,
    Destination,
    HandoverKind,
    HandoverMethod,
    Infection,
    PlacementCase,
    Survey,
    SurveyResponse,
    WithdrawalReason,
)
from renkei.regions.models import Municipality

PENDING = "pending"
RADIUS_CHOICES = [
    (5, "5km以内"),
    (10, "10km以内"),
    (20, "20km以内"),
    (30, "30km以内"),
    (50, "50km以内"),
]


class TokenMixin(forms.Form):
    """A single-use token: resubmitting the same form (double click, back button) does nothing twice."""

    form_token = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def with_new_token(self) -> None:
        self.initial["form_token"] = new_form_token()


def _municipalities(org: Organization | None) -> Any:
    pref_id = org.prefecture_id if org is not None else None
    return Municipality.objects.selectable().select_related("prefecture").of_prefecture(pref_id)


class CaseForm(forms.ModelForm[PlacementCase]):
    care_level = forms.TypedChoiceField(
        label="要介護度",
        choices=[(PENDING, "申請中")] + [(str(v), label) for v, label in CareLevel.choices],
        coerce=lambda v: None if v == PENDING else int(v),
        empty_value=None,
    )
    required_capabilities = forms.ModelMultipleChoiceField(
        label="必要な処置",
        queryset=Capability.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    infections = forms.MultipleChoiceField(
        label="感染症",
        choices=Infection.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    destinations = forms.MultipleChoiceField(
        label="希望する退院・転院先",
        choices=Destination.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    desired_municipalities = forms.ModelMultipleChoiceField(
        label="希望地域（複数選択可）",
        queryset=Municipality.objects.none(),
        required=False,
        help_text="居住地から指定した距離の範囲に加えて、ここで選んだ市区町村の施設も候補にします。",
    )
    radius_km = forms.TypedChoiceField(
        label="居住地からの距離", choices=RADIUS_CHOICES, coerce=int, initial=20
    )
    target_date = forms.DateField(label="退院・転院の目標日", required=False, widget=DatePicker())
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=100, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = PlacementCase
        fields = CASE_FIELDS
        widgets = {
            "note": forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
            "budget_monthly": forms.NumberInput(attrs={"inputmode": "numeric", "step": 1000}),
        }
        help_texts = {
            "note": "ADL・医療処置の詳細・本人や家族の意向など。氏名・生年月日・住所・電話番号・保険者番号は書かないでください（含まれていると保存できません）。",
            "budget_monthly": "本人・家族が負担できる月額の目安（円）。空欄は指定なし。",
            "key_person_relation": "氏名は登録しません。続柄だけを選んでください。",
        }

    def __init__(
        self,
        *args: Any,
        organization: Organization | None = None,
        draft: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        munis = _municipalities(organization)
        self.fields["residence"].queryset = munis  # type: ignore[attr-defined]
        self.fields["desired_municipalities"].queryset = munis  # type: ignore[attr-defined]
        self.fields["required_capabilities"].queryset = Capability.objects.for_prefecture(  # type: ignore[attr-defined]
            organization.prefecture if organization else None
        )
        if self.instance._state.adding or self.instance.status == CaseStatus.DRAFT:
            self.instance.status = CaseStatus.DRAFT if draft else CaseStatus.SEARCHING
        if self.instance.pk and not self.is_bound:
            self.initial["care_level"] = (
                PENDING if self.instance.care_level is None else str(self.instance.care_level)
            )
            self.initial["version"] = self.instance.version
        if not self.is_bound and not self.initial.get("form_token"):
            self.initial["form_token"] = new_form_token()


class SendForm(TokenMixin):
    deadline = forms.DateTimeField(
        label="回答期限",
        widget=DateTimePicker(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            default = timezone.localtime() + dt.timedelta(days=2)
            self.initial.setdefault(
                "deadline", default.replace(hour=17, minute=0, second=0, microsecond=0)
            )
            self.with_new_token()


class AnswerForm(TokenMixin):
    # The input's list of dates is three widgets here; its refusals show under the first.
    input_fields = {"interview_dates": "interview_1"}

    answer = forms.ChoiceField(label="回答", choices=Answer.choices, widget=forms.RadioSelect)
    decline_reason = forms.ChoiceField(
        label="受入不可の理由",
        choices=DeclineReason.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    conditions = forms.CharField(
        label="受入れの条件（条件付きで可の場合）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    interview_1 = forms.DateTimeField(
        label="面談の候補日時1",
        required=False,
        widget=DateTimePicker(),
        input_formats=["%Y-%m-%dT%H:%M"],
    )
    interview_2 = forms.DateTimeField(
        label="面談の候補日時2",
        required=False,
        widget=DateTimePicker(),
        input_formats=["%Y-%m-%dT%H:%M"],
    )
    interview_3 = forms.DateTimeField(
        label="面談の候補日時3",
        required=False,
        widget=DateTimePicker(),
        input_formats=["%Y-%m-%dT%H:%M"],
    )
    note = forms.CharField(
        label="補足", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.with_new_token()

    def interview_dates(self) -> list[dt.datetime]:
        return [
            d
            for name in ("interview_1", "interview_2", "interview_3")
            if (d := self.cleaned_data.get(name)) is not None
        ]


class MessageForm(TokenMixin):
    body = forms.CharField(
        label="質問・回答",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
        help_text="氏名・電話番号など個人を特定できる情報は書かないでください。",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.with_new_token()


class HandoverForm(TokenMixin):
    kind = forms.ChoiceField(label="書類", choices=HandoverKind.choices)
    method = forms.ChoiceField(label="方法", choices=HandoverMethod.choices)
    exchanged_on = forms.DateField(label="受け渡した日", widget=DatePicker())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("exchanged_on", timezone.localdate())
            self.with_new_token()


class WithdrawCaseForm(forms.Form):
    """The reason, asked on the confirmation page that names the facilities to be told."""

    reason = forms.ChoiceField(label="取下げの理由", choices=WithdrawalReason.choices)


class AdmissionSearchForm(forms.Form):
    """受入れ病院を探す: from the searcher's own municipality unless another is chosen."""

    municipality = forms.ModelChoiceField(
        label="患者さんの居住地（市区町村）", queryset=Municipality.objects.none(), required=False
    )
    ward_kinds = forms.MultipleChoiceField(
        label="病棟の種類",
        choices=WardKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    capabilities = forms.ModelMultipleChoiceField(
        label="必要な処置（すべて満たす）",
        queryset=Capability.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="code",
    )
    vacant_only = forms.BooleanField(label="空床のある病棟のみ", required=False)
    backup_only = forms.BooleanField(label="在宅療養後方支援病院のみ", required=False)
    radius_km = forms.TypedChoiceField(
        label="距離", choices=RADIUS_CHOICES, coerce=int, initial=20, required=False
    )
    sort = forms.ChoiceField(
        label="並び順", choices=list(ADMISSION_SORTS.items()), initial="backup", required=False
    )

    def __init__(self, *args: Any, organization: Organization | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = _municipalities(organization)  # type: ignore[attr-defined]


class SurveyForm(forms.ModelForm[Survey]):
    closes_on = forms.DateField(label="締切日", widget=DatePicker())
    opens_on = forms.DateField(label="開始日", widget=DatePicker())

    class Meta:
        model = Survey
        fields = ["title", "description", "opens_on", "closes_on"]


class SurveyResponseForm(forms.ModelForm[SurveyResponse]):
    satisfaction = forms.TypedChoiceField(
        label="満足度",
        choices=[
            (5, "5 とても満足"),
            (4, "4 満足"),
            (3, "3 どちらともいえない"),
            (2, "2 不満"),
            (1, "1 とても不満"),
        ],
        coerce=int,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = SurveyResponse
        fields = ["minutes_before", "minutes_now", "satisfaction", "comment"]
        widgets = {"comment": forms.Textarea(attrs={"rows": 4})}
