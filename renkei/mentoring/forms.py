from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from renkei.accounts.models import Organization
from renkei.lib.dates import fiscal_year
from renkei.lib.forms import DatePicker
from renkei.mentoring.actions import AREAS_UNKNOWN
from renkei.mentoring.models import WEEKDAYS, Mentor, Profession, area_choices
from renkei.regions.models import Municipality

WEEKDAY_CHOICES = [(str(i), label) for i, label in enumerate(WEEKDAYS)]


class AreasField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Municipalities picked from the organiser's prefecture, handed on as their codes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Municipality.objects.none(),
            required=False,
            widget=forms.SelectMultiple(attrs={"size": 6}),
            error_messages={"invalid_choice": AREAS_UNKNOWN},
            **kwargs,
        )

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]  # the input takes codes
        return [m.code for m in super().clean(value)]


class ApplicationForm(forms.Form):
    """The 申込書: trainee, profession, contact, preferred areas and days, motivation."""

    trainee_name = forms.CharField(label="氏名", max_length=60)
    trainee_kana = forms.CharField(label="ふりがな", max_length=60)
    profession = forms.ChoiceField(
        label="職種", choices=Profession.choices, widget=forms.RadioSelect
    )
    affiliation = forms.CharField(label="所属（医療機関・事業所名）", max_length=120)
    email = forms.CharField(label="メールアドレス", max_length=254, widget=forms.EmailInput)
    phone = forms.CharField(
        label="電話番号", max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    preferred_areas = AreasField(label="希望する地域（複数可）")
    preferred_weekdays = forms.MultipleChoiceField(
        label="希望する曜日",
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_dates = forms.CharField(
        label="希望する日時の補足", required=False, max_length=300, help_text="例: 11月中の午後"
    )
    motivation = forms.CharField(
        label="受講の動機・学びたいこと",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, organizer: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preferred_areas"].queryset = area_choices(organizer)  # type: ignore[attr-defined]


class MatchForm(forms.Form):
    """The suggestions table's radio buttons (drawn by the template); the action checks the
    mentor, so an unknown one gets the same message as through the API."""

    mentor = forms.CharField(label="指導医", required=False)


class VisitDateForm(forms.Form):
    visit_date = forms.DateField(label="研修日", widget=DatePicker())


class ReportForm(forms.Form):
    text = forms.CharField(
        label="報告", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 8})
    )


class HonorariumForm(forms.Form):
    amount = forms.IntegerField(label="支払額（円）", min_value=1, max_value=1_000_000)
    paid_at = forms.DateField(label="支払日", widget=DatePicker())


class CancelForm(forms.Form):
    reason = forms.CharField(label="取消の理由", required=False, max_length=200)


class ProgramForm(forms.Form):
    fiscal_year = forms.IntegerField(
        label="年度（西暦の開始年）",
        min_value=2000,
        max_value=2100,
        help_text="例: 2025 = 令和7年度",
    )
    name = forms.CharField(label="名称", max_length=100, initial="在宅医同行研修")
    co_organizer = forms.CharField(label="共催", max_length=100, required=False)
    planned_count = forms.IntegerField(label="実施予定数", min_value=1, max_value=1000)
    honorarium_amount = forms.IntegerField(
        label="指導謝礼（1回・円）", min_value=0, max_value=1_000_000
    )
    is_open = forms.BooleanField(label="申込みを受け付ける", required=False, initial=True)
    contact = forms.CharField(label="問い合わせ先", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and "fiscal_year" not in self.initial:
            self.initial["fiscal_year"] = fiscal_year(timezone.localdate())


class MentorForm(forms.Form):
    name = forms.CharField(label="氏名", max_length=60)
    kana = forms.CharField(label="ふりがな", max_length=60, required=False)
    affiliation = forms.CharField(label="所属（医療機関名）", max_length=120)
    email = forms.CharField(label="メールアドレス", max_length=254, widget=forms.EmailInput)
    phone = forms.CharField(label="電話番号", max_length=20, required=False)
    recommended = forms.BooleanField(label="医師会の推薦あり", required=False)
    recommended_on = forms.DateField(
        label="推薦日",
        required=False,
        widget=DatePicker(),
    )
    areas = AreasField(label="訪問地域")
    weekdays = forms.MultipleChoiceField(
        label="受入れ可能な曜日",
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    availability = forms.CharField(label="受入れ可能な日時の補足", max_length=200, required=False)
    is_active = forms.BooleanField(label="受入れ中", required=False, initial=True)

    def __init__(self, *args: Any, office: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["areas"].queryset = area_choices(office)  # type: ignore[attr-defined]


def mentor_initial(m: Mentor) -> dict[str, Any]:
    return {
        "name": m.name,
        "kana": m.kana,
        "affiliation": m.affiliation,
        "email": m.email,
        "phone": m.phone,
        "recommended": m.recommended,
        "recommended_on": m.recommended_on,
        "areas": [a.code for a in m.areas.all()],
        "weekdays": [str(i) for i in range(7) if m.weekdays & (1 << i)],
        "availability": m.availability,
        "is_active": m.is_active,
    }
