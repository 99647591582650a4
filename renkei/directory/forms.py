from __future__ import annotations

from typing import Any

from django import forms

from renkei.directory.models import (
    ACCEPTANCE_FIELDS,
    CONTACT_FIELDS,
    PLACE_FIELDS,
    Capability,
    Facility,
    VacancyStatus,
)
from renkei.regions.models import Municipality


class VacancyForm(forms.Form):
    status = forms.ChoiceField(
        label="空き状況",
        choices=[c for c in VacancyStatus.choices if c[0] != VacancyStatus.UNKNOWN],
        widget=forms.RadioSelect,
    )
    count = forms.IntegerField(
        label="空き数（床・人）", required=False, min_value=0, max_value=9999
    )
    note = forms.CharField(
        label="補足（例: 男性のみ可、来週から1床）", required=False, max_length=300
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ConfirmForm(forms.Form):
    """「変わりなし」: only the version the page was loaded at."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


PROFILE_FIELDS = [
    *CONTACT_FIELDS,
    "liaison_contact",
    *ACCEPTANCE_FIELDS,
    "conditions_note",
    "service_radius_km",
]
CURATOR_FIELDS = [
    "kind",
    "name",
    "kana",
    "short_name",
    "postal_code",
    *PLACE_FIELDS,
    "capacity",
    "beds",
    "is_home_care_support",
    "is_backup_hospital",
    "is_active",
]

NULL_BOOLEAN = [("", "未回答"), ("true", "受け入れる"), ("false", "受け入れない")]


class _FacilityFields(forms.ModelForm[Facility]):
    """The fields both facility forms declare the same way."""

    capabilities = forms.ModelMultipleChoiceField(
        label="対応できる処置",
        queryset=Capability.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # Declared so that a scheme-less address is read as https (Django 6's default) without the
    # deprecation warning the generated field raises on 5.2.
    website = forms.URLField(
        label="ウェブサイト", max_length=300, required=False, assume_scheme="https"
    )


class FacilityForm(_FacilityFields):
    service_municipalities = forms.ModelMultipleChoiceField(
        label="サービス提供地域（訪問サービスの場合）",
        queryset=Municipality.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    # What staff update most often first: procedures, then conditions, then contact details.
    field_order = [
        "capabilities",
        *ACCEPTANCE_FIELDS,
        "conditions_note",
        "service_municipalities",
        "service_radius_km",
        "liaison_contact",
        *CONTACT_FIELDS,
    ]

    class Meta:
        model = Facility
        fields = PROFILE_FIELDS + CURATOR_FIELDS
        widgets = {
            "accepts_dementia": forms.Select(choices=NULL_BOOLEAN),
            "accepts_infection": forms.Select(choices=NULL_BOOLEAN),
            "description": forms.Textarea(attrs={"rows": 3}),
            "conditions_note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, curator: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        facility = self.instance
        prefecture = facility.municipality.prefecture if facility.municipality_id else None
        self.fields["capabilities"].queryset = Capability.objects.for_prefecture(prefecture)  # type: ignore[attr-defined]
        munis = Municipality.objects.selectable()
        area = facility.municipality.area if facility.municipality_id else None
        if area is not None:
            munis = munis.in_area(area)
        elif prefecture is not None:
            munis = munis.filter(prefecture=prefecture)
        self.fields["service_municipalities"].queryset = munis.order_by("code")  # type: ignore[attr-defined]
        if facility.pk:
            self.initial.setdefault("capabilities", list(facility.capabilities.all()))
            self.initial.setdefault(
                "service_municipalities", list(facility.service_municipalities.all())
            )
            self.initial.setdefault("version", facility.version)
        if not curator:
            for name in CURATOR_FIELDS:
                del self.fields[name]

    def codes(self) -> dict[str, list[str]]:
        """The two sets as the input names them: by code."""
        return {
            "capabilities": [c.code for c in self.cleaned_data["capabilities"]],
            "service_municipalities": [m.code for m in self.cleaned_data["service_municipalities"]],
        }


class FacilityCreateForm(_FacilityFields):
    """A curator adds a facility that the open data does not contain."""

    class Meta:
        model = Facility
        fields = [
            "kind",
            "name",
            "kana",
            "municipality",
            "postal_code",
            *PLACE_FIELDS,
            "phone",
            "fax",
            "website",
            "capacity",
            "beds",
            "care_level_min",
            "care_level_max",
            "cost_min",
            "cost_max",
        ]
        help_texts = {"lat": "空欄の場合は市区町村役所の位置を仮に使います"}

    def __init__(self, *args: Any, municipalities: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities.order_by("code")  # type: ignore[attr-defined]
