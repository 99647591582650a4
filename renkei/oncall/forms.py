"""Widgets for the rota screens. The rules live on the inputs in actions.py."""

from __future__ import annotations

from typing import Any

from django import forms

from renkei.accounts.models import Organization
from renkei.lib.forms import hints
from renkei.oncall.actions import MEMBER_KINDS, MemberInput, RotaInput
from renkei.oncall.models import DayType, Rota, RotaKind, Rotation
from renkei.regions.models import Municipality, SecondaryArea


class RotaForm(forms.Form):
    """RotaInput's widgets: its limits are read from it (hints), its refusals are its own."""

    name = forms.CharField(
        label="名称", required=False, widget=forms.TextInput(hints(RotaInput, "name"))
    )
    kind = forms.ChoiceField(label="種類", choices=RotaKind.choices)
    rotation = forms.ChoiceField(label="交代の単位", choices=Rotation.choices)
    area_id = forms.TypedChoiceField(
        label="二次医療圏", coerce=int, required=False, empty_value=None
    )
    municipality_codes = forms.MultipleChoiceField(
        label="対象の市区町村", required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    gap_alert_hours = forms.IntegerField(
        label="空き枠を知らせる時期（何時間前）",
        initial=RotaInput.model_fields["gap_alert_hours"].default,
        widget=forms.NumberInput(hints(RotaInput, "gap_alert_hours")),
    )
    members_swap_freely = forms.BooleanField(
        label="当番の交代は当事者の合意だけで成立させる（主催者の承認を省く）", required=False
    )
    contact = forms.CharField(
        label="問い合わせ先", required=False, widget=forms.TextInput(hints(RotaInput, "contact"))
    )

    def __init__(self, *args: Any, prefecture_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        areas = SecondaryArea.objects.select_related("prefecture")
        munis = Municipality.objects.selectable()
        if prefecture_id:
            areas = areas.filter(prefecture_id=prefecture_id)
            munis = munis.filter(prefecture_id=prefecture_id)
        area_field = self.fields["area_id"]
        assert isinstance(area_field, forms.ChoiceField)
        area_field.choices = [("", "（指定しない）"), *((a.pk, str(a)) for a in areas)]
        muni_field = self.fields["municipality_codes"]
        assert isinstance(muni_field, forms.ChoiceField)
        muni_field.choices = [(m.code, m.name) for m in munis]


class MemberForm(forms.Form):
    """MemberInput's widgets: its limits are read from it (hints), its refusals are its own."""

    organization = forms.ChoiceField(label="医療機関")
    doctor = forms.CharField(
        label="担当医（任意）", required=False, widget=forms.TextInput(hints(MemberInput, "doctor"))
    )
    phone = forms.CharField(label="当番時の連絡先電話", required=False)
    sort_order = forms.IntegerField(
        label="順番", initial=0, widget=forms.NumberInput(hints(MemberInput, "sort_order"))
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        orgs = Organization.objects.filter(is_active=True, kind__in=MEMBER_KINDS).order_by(
            "kind", "name"
        )
        field = self.fields["organization"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "選んでください"), *((str(o.code), o.name) for o in orgs)]


class RuleForm(forms.Form):
    day_type = forms.ChoiceField(label="日の種類", choices=DayType.choices)
    label = forms.CharField(label="枠の名前", max_length=30, initial="夜間")
    start = forms.TimeField(label="開始", widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(
        label="終了（開始以前なら翌日・同じなら24時間）",
        widget=forms.TimeInput(attrs={"type": "time"}),
    )


def member_choices(rota: Rota, blank: str) -> list[tuple[str, str]]:
    return [
        ("", blank),
        *(
            (str(m.code), str(m))
            for m in rota.members.filter(is_active=True).select_related("organization")
        ),
    ]


class AssignForm(forms.Form):
    member = forms.ChoiceField(label="当番", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, rota: Rota, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = member_choices(rota, "（空き）")

    def clean_member(self) -> str | None:
        return self.cleaned_data["member"] or None


class OverrideForm(AssignForm):
    start = forms.DateField(label="開始日", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="終了日", widget=forms.DateInput(attrs={"type": "date"}))


class UnavailableForm(forms.Form):
    member = forms.ChoiceField(label="参加機関")
    day = forms.DateField(label="入れない日", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="理由（任意）", max_length=100, required=False)
    input_fields = {"days": "day"}

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class SwapForm(forms.Form):
    to_member = forms.ChoiceField(label="代わりに入ってもらう医療機関")
    note = forms.CharField(label="ひとこと（任意）", max_length=200, required=False)

    def __init__(self, *args: Any, rota: Rota, exclude: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_member"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [c for c in member_choices(rota, "選んでください") if c[0] != exclude]
