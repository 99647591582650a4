from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from renkei.accounts.models import User
from renkei.desk.actions import (
    ASSIGNEE_NOT_STAFF,
    DUE_REQUIRED,
    FACILITY_UNKNOWN,
    NOTE_REQUIRED,
    REASON_REQUIRED,
    TOPIC_NOT_OF_DESK,
    TOPICS_REQUIRED,
)
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
from renkei.lib.forms import DatePicker
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

    received_date = forms.DateField(label="受付日", widget=DatePicker())
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
        error_messages={"required": TOPICS_REQUIRED, "invalid_choice": TOPIC_NOT_OF_DESK},
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
        widget=DatePicker(),
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
        error_messages={"invalid_choice": FACILITY_UNKNOWN},
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
        widget=DatePicker(),
    )
    followup_note = forms.CharField(label="フォローアップの内容", required=False, max_length=300)
    followup_assignee = UserChoiceField(
        label="フォローアップの担当者",
        required=False,
        queryset=User.objects.none(),
        to_field_name="username",
        empty_label="（未定）",
        error_messages={"invalid_choice": ASSIGNEE_NOT_STAFF},
    )
    confirm = forms.BooleanField(
        label="この内容で確定する（確定後の修正は版として残ります）", required=False
    )
    # Edit only.
    reason = forms.CharField(label="修正理由", required=False, max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput)

    picked: list[Facility]  # the referred facilities, once cleaned

    # Where the input's fields show their errors: the widgets split or flatten some of them.
    input_fields = {
        "received_at": "received_date",
        "followup": "followup_note",
        "followup.due_date": "followup_due",
        "followup.note": "followup_note",
        "followup.assignee": "followup_assignee",
    }

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
        # The confirm box is shown to confirmers only, but a posted `confirm` always reaches
        # the action, which refuses it for others (as the API does) rather than dropping it.
        self.can_confirm = can_confirm
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
                self.fields["reason"].error_messages["required"] = REASON_REQUIRED
                self.fields[
                    "reason"
                ].help_text = "確定済みの記録です。修正は新しい版として残ります。"
            else:
                del self.fields["reason"]
        else:
            del self.fields["reason"]
            del self.fields["version"]
            self.fields["received_date"].initial = timezone.localdate()
            self.fields["received_time"].initial = timezone.localtime().strftime("%H:%M")

    def clean(self) -> dict[str, Any]:
        """The widgets' values in the input's shape; the rules are the input's and the action's."""
        data = super().clean() or {}
        if "received_date" in data:
            data["received_at"] = self.received_at()
        if "topics" in data:
            data["topics"] = [t.pk for t in data["topics"]]
        if "referred_facilities" in data:
            self.picked = list(data["referred_facilities"])
            data["referred_facilities"] = [f.code for f in self.picked]
        if "subject_municipality" in data:
            muni = data["subject_municipality"]
            data["subject_municipality"] = muni.code if muni else None
        if "followup_due" in self.fields:
            due, note = data.get("followup_due"), data.get("followup_note") or ""
            assignee = data.get("followup_assignee")
            data["followup"] = (
                {"due_date": due, "note": note, "assignee": assignee.username if assignee else None}
                if due or note.strip()
                else None
            )
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

    def selected_facilities(self) -> list[Facility]:
        """Facilities to show as picked: the cleaned choice, or what was posted."""
        if self.is_bound:
            if hasattr(self, "picked"):
                return self.picked
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
        label="期日",
        widget=DatePicker(),
        error_messages={"required": DUE_REQUIRED},
    )
    note = forms.CharField(label="内容", max_length=300, error_messages={"required": NOTE_REQUIRED})
    assignee = UserChoiceField(
        label="担当者",
        required=False,
        queryset=User.objects.none(),
        to_field_name="username",
        empty_label="（未定）",
        error_messages={"invalid_choice": ASSIGNEE_NOT_STAFF},
    )

    def __init__(self, *args: Any, desk: Desk, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = desk_users(desk)  # type: ignore[attr-defined]

    def clean_assignee(self) -> str | None:
        user = self.cleaned_data.get("assignee")
        return user.username if user else None


class TopicForm(forms.Form):
    name = forms.CharField(label="追加する分類名", max_length=40)


def _select(choices: Any) -> forms.CharField:
    return forms.CharField(required=False, widget=forms.Select(choices=[("", "すべて"), *choices]))


class ListFilterForm(forms.Form):
    """The list's filter widgets. The values are read by actions.ConsultationFilter, the same
    input the API takes, so the form holds no rules of its own."""

    month = forms.CharField(required=False)
    channel = _select(Channel.choices)
    asker = _select(AskerType.choices)
    topic = _select([])
    scene = _select(Scene.choices)
    status = _select(ConsultationStatus.choices)
    q = forms.CharField(required=False)

    def __init__(self, *args: Any, desk: Desk, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].widget.choices = [
            ("", "すべて"),
            *((str(t.pk), t.name) for t in desk.topics()),
        ]
