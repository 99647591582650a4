from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from renkei.accounts.models import User
from renkei.desk.models import (
    AskerType,
    Channel,
    Consent,
    Consultation,
    ConsultationStatus,
    Desk,
    ProgrammeItem,
    Scene,
    Topic,
)
from renkei.directory.models import Facility
from renkei.regions.models import Municipality


def desk_users(desk: Desk) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organization_id=desk.organization_id, memberships__is_active=True
    ).distinct()


class UserChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class ConsultationForm(forms.Form):
    """Phone-friendly entry: date and time apart, choices as radios, the first follow-up inline."""

    received_date = forms.DateField(
        label="受付日", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    received_time = forms.TimeField(
        label="受付時刻",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="空欄は9:00として記録します",
    )
    channel = forms.ChoiceField(label="相談方法", choices=Channel.choices, widget=forms.RadioSelect)
    asker_type = forms.ChoiceField(
        label="相談者", choices=AskerType.choices, widget=forms.RadioSelect
    )
    asker_detail = forms.CharField(label="相談者の所属・氏名", required=False, max_length=100)
    topics = forms.ModelMultipleChoiceField(
        label="相談内容（複数選択可）",
        queryset=Topic.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "相談内容の分類を1つ以上選んでください"},
    )
    scene = forms.ChoiceField(label="場面", choices=Scene.choices, widget=forms.RadioSelect)
    programme_item = forms.ChoiceField(
        label="事業項目", choices=ProgrammeItem.choices, initial=ProgrammeItem.O
    )
    subject_name = forms.CharField(label="相談対象者の氏名", required=False, max_length=60)
    subject_kana = forms.CharField(label="ふりがな", required=False, max_length=60)
    subject_age = forms.IntegerField(
        label="年齢",
        required=False,
        min_value=0,
        max_value=130,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    subject_municipality = forms.ModelChoiceField(
        label="居住地（市区町村）",
        required=False,
        queryset=Municipality.objects.none(),
        empty_label="（不明・区域外）",
    )
    consent = forms.ChoiceField(
        label="個人情報の取扱いへの同意",
        choices=Consent.choices,
        initial=Consent.NOT_ASKED,
        widget=forms.RadioSelect,
    )
    consent_date = forms.DateField(
        label="同意の確認日",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    summary = forms.CharField(
        label="相談内容", widget=forms.Textarea(attrs={"rows": 5}), max_length=4000
    )
    actions_taken = forms.CharField(
        label="対応内容", required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    referred_facilities = forms.ModelMultipleChoiceField(
        label="紹介した資源",
        required=False,
        queryset=Facility.objects.public(),
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "紹介した資源に見つからない施設があります"},
    )
    status = forms.ChoiceField(
        label="状態",
        choices=ConsultationStatus.choices,
        initial=ConsultationStatus.OPEN,
        widget=forms.RadioSelect,
    )
    # First follow-up, on the new-consultation form only.
    followup_due = forms.DateField(
        label="フォローアップの期日",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    followup_note = forms.CharField(label="フォローアップの内容", required=False, max_length=300)
    followup_assignee = UserChoiceField(
        label="フォローアップの担当者",
        required=False,
        queryset=User.objects.none(),
        empty_label="（未定）",
    )
    confirm = forms.BooleanField(
        label="この内容で確定する（確定後の修正は版として残ります）", required=False
    )
    # Edit only.
    reason = forms.CharField(label="修正理由", required=False, max_length=300)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        desk: Desk,
        instance: Consultation | None = None,
        can_confirm: bool = False,
        **kwargs: Any,
    ) -> None:
        self.desk = desk
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_from(instance)
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = desk.topics()  # type: ignore[attr-defined]
        pref = desk.organization.prefecture_id or (
            desk.organization.municipality.prefecture_id if desk.organization.municipality else None
        )
        munis = Municipality.objects.selectable()
        self.fields["subject_municipality"].queryset = (  # type: ignore[attr-defined]
            munis.filter(prefecture_id=pref) if pref else munis
        ).order_by("code")
        self.fields["followup_assignee"].queryset = desk_users(desk)  # type: ignore[attr-defined]
        if instance is not None:
            for name in ("followup_due", "followup_note", "followup_assignee", "confirm"):
                del self.fields[name]
            if instance.is_confirmed:
                self.fields["reason"].required = True
                self.fields[
                    "reason"
                ].help_text = "確定済みの記録です。修正は新しい版として残ります。"
            else:
                del self.fields["reason"]
        else:
            del self.fields["reason"]
            del self.fields["version"]
            if not can_confirm:
                del self.fields["confirm"]
            self.fields["received_date"].initial = timezone.localdate()
            self.fields["received_time"].initial = timezone.localtime().strftime("%H:%M")

    def clean_received_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["received_date"]
        if day > timezone.localdate():
            raise forms.ValidationError("受付日に未来の日付は入力できません")
        if day < dt.date(2000, 4, 1):
            raise forms.ValidationError("受付日が古すぎます（2000年4月以降を入力してください）")
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        consent = data.get("consent")
        if consent in (Consent.GIVEN, Consent.REFUSED) and not data.get("consent_date"):
            self.add_error(
                "consent_date", "同意の有無を記録する場合は、確認した日を入力してください"
            )
        if consent == Consent.NOT_ASKED and data.get("consent_date"):
            self.add_error("consent_date", "同意を確認していない場合、確認日は空欄にしてください")
        if data.get("consent_date") and data["consent_date"] > timezone.localdate():
            self.add_error("consent_date", "同意の確認日に未来の日付は入力できません")
        if "followup_due" in self.fields:
            due, note = data.get("followup_due"), (data.get("followup_note") or "").strip()
            if due and not note:
                self.add_error("followup_note", "フォローアップの内容を入力してください")
            if note and not due:
                self.add_error("followup_due", "フォローアップの期日を入力してください")
        return data

    def received_at(self) -> dt.datetime:
        day = self.cleaned_data["received_date"]
        time = self.cleaned_data.get("received_time") or dt.time(9, 0)
        when = timezone.make_aware(dt.datetime.combine(day, time))
        # The form shows minutes only: an untouched time must not count as a change.
        if self.instance is not None:
            old = timezone.localtime(self.instance.received_at)
            if old.replace(second=0, microsecond=0) == when:
                return self.instance.received_at
        return when

    def model_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "received_at": self.received_at(),
            "channel": d["channel"],
            "asker_type": d["asker_type"],
            "asker_detail": d.get("asker_detail", ""),
            "programme_item": d["programme_item"],
            "scene": d["scene"],
            "subject_name": d.get("subject_name", "").strip(),
            "subject_kana": d.get("subject_kana", "").strip(),
            "subject_age": d.get("subject_age"),
            "subject_municipality": d.get("subject_municipality"),
            "consent": d["consent"],
            "consent_date": d.get("consent_date"),
            "summary": d["summary"].strip(),
            "actions_taken": d.get("actions_taken", "").strip(),
            "status": d["status"],
        }

    def followup(self) -> dict[str, Any] | None:
        d = self.cleaned_data
        if not d.get("followup_due"):
            return None
        return {
            "due_date": d["followup_due"],
            "note": d["followup_note"],
            "assignee": d.get("followup_assignee"),
        }

    def selected_facilities(self) -> list[Facility]:
        """Facilities to show as picked: the cleaned choice, or what was posted."""
        if self.is_bound:
            if hasattr(self, "cleaned_data") and "referred_facilities" in self.cleaned_data:
                return list(self.cleaned_data["referred_facilities"])
            codes = (
                self.data.getlist("referred_facilities") if hasattr(self.data, "getlist") else []
            )
            return list(facilities_by_code(codes))
        if self.instance is not None:
            return list(self.instance.referred_facilities.all())
        return []


def facilities_by_code(codes: list[str]) -> QuerySet[Facility]:
    import uuid

    valid = []
    for code in codes:
        try:
            valid.append(uuid.UUID(code))
        except ValueError:
            continue
    return Facility.objects.public().filter(code__in=valid).select_related("municipality")


def initial_from(c: Consultation) -> dict[str, Any]:
    local = timezone.localtime(c.received_at)
    return {
        "received_date": local.date(),
        "received_time": local.strftime("%H:%M"),
        "channel": c.channel,
        "asker_type": c.asker_type,
        "asker_detail": c.asker_detail,
        "topics": list(c.topics.all()),
        "scene": c.scene,
        "programme_item": c.programme_item,
        "subject_name": c.subject_name,
        "subject_kana": c.subject_kana,
        "subject_age": c.subject_age,
        "subject_municipality": c.subject_municipality_id,
        "consent": c.consent,
        "consent_date": c.consent_date,
        "summary": c.summary,
        "actions_taken": c.actions_taken,
        "status": c.status,
        "version": c.version,
    }


class FollowUpForm(forms.Form):
    due_date = forms.DateField(
        label="期日", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(label="内容", max_length=300)
    assignee = UserChoiceField(
        label="担当者", required=False, queryset=User.objects.none(), empty_label="（未定）"
    )

    def __init__(self, *args: Any, desk: Desk, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = desk_users(desk)  # type: ignore[attr-defined]


class TopicForm(forms.Form):
    name = forms.CharField(label="追加する分類名", max_length=40)


class ListFilterForm(forms.Form):
    month = forms.CharField(required=False)
    channel = forms.ChoiceField(required=False, choices=[("", "すべて"), *Channel.choices])
    asker = forms.ChoiceField(required=False, choices=[("", "すべて"), *AskerType.choices])
    topic = forms.ModelChoiceField(
        required=False, queryset=Topic.objects.none(), empty_label="すべて"
    )
    scene = forms.ChoiceField(required=False, choices=[("", "すべて"), *Scene.choices])
    status = forms.ChoiceField(
        required=False, choices=[("", "すべて"), *ConsultationStatus.choices]
    )
    q = forms.CharField(required=False, max_length=60)

    def __init__(self, *args: Any, desk: Desk, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = desk.topics()  # type: ignore[attr-defined]
        self.fields["topic"].error_messages["invalid_choice"] = "相談内容の分類が正しくありません"
        for name in ("channel", "asker", "scene", "status"):
            self.fields[name].error_messages["invalid_choice"] = "絞り込みの値が正しくありません"

    def clean_month(self) -> tuple[int, int] | None:
        raw = (self.cleaned_data.get("month") or "").strip()
        if not raw:
            return None
        return parse_month(raw)


def parse_month(raw: str) -> tuple[int, int]:
    """「2025-10」 to (2025, 10); a Japanese message for anything else."""
    parts = raw.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise forms.ValidationError("月は「2025-10」の形式で指定してください")
    year, month = int(parts[0]), int(parts[1])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise forms.ValidationError("月は2000年〜2100年の1〜12月で指定してください")
    return year, month
