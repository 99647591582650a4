"""Widgets for the care screens. The rules live on the typed inputs (renkei.care.actions)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.http import QueryDict

from renkei.accounts.models import Organization
from renkei.care.actions.consent import RevokeInput
from renkei.care.models import CareLevel, Category, ConsentScope, Resuscitation, Sex, TeamRole
from renkei.lib.forms import hints
from renkei.lib.inputs import item_type

DATE = forms.DateInput(attrs={"type": "date"})
F = TypeVar("F", bound=forms.BaseForm)


def with_current_version(form_class: Callable[[Any], F], post: QueryDict, e: Exception) -> F:
    """After a stale save (StaleVersion): the user's input kept, with the version now current,
    so that saving again overwrites knowingly."""
    fresh = post.copy()
    fresh["version"] = str(e.current.version)  # type: ignore[attr-defined]
    form = form_class(fresh)
    form.is_valid()
    return form


class PatientForm(forms.Form):
    name = forms.CharField(label="氏名", max_length=60, required=False)
    kana = forms.CharField(label="ふりがな", max_length=100, required=False)
    birth_date = forms.DateField(label="生年月日", widget=DATE, required=False)
    sex = forms.ChoiceField(label="性別", choices=Sex.choices, initial=Sex.UNKNOWN)
    address = forms.CharField(label="住所", max_length=200, required=False)
    phone = forms.CharField(label="電話番号", max_length=20, required=False)
    insured_number = forms.CharField(label="被保険者番号", max_length=10, required=False)
    care_level = forms.ChoiceField(label="要介護度", choices=CareLevel.choices)
    key_person = forms.CharField(
        label="キーパーソン",
        max_length=200,
        required=False,
        help_text="氏名・続柄・連絡先",
    )
    emergency_contacts = forms.CharField(
        label="緊急連絡先", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class NewPatientForm(PatientForm):
    team_role = forms.ChoiceField(label="あなたのチームでの役割", choices=TeamRole.choices)
    allow_duplicate = forms.BooleanField(
        label="同じふりがな・生年月日の別の方として登録する", required=False
    )


def _org_choices() -> list[tuple[str, str]]:
    return [
        (str(code), name)
        for code, name in Organization.objects.filter(is_active=True)
        .order_by("kana", "name")
        .values_list("code", "name")
    ]


class InviteForm(forms.Form):
    organization = forms.TypedChoiceField(label="組織", coerce=uuid.UUID, choices=())
    username = forms.CharField(label="ログインID", max_length=150, required=False)
    team_role = forms.ChoiceField(label="チームでの役割", choices=TeamRole.choices)
    start_date = forms.DateField(label="開始日", required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = [("", "選んでください"), *_org_choices()]  # type: ignore[attr-defined]


class EndForm(forms.Form):
    # The length is EndInput's rule (its message on both doors); the widget tells the browser.
    reason = forms.CharField(
        label="理由", required=False, widget=forms.TextInput(attrs={"maxlength": 200})
    )


class BreakGlassForm(forms.Form):
    kana = forms.CharField(label="ふりがな", max_length=100, required=False)
    birth_date = forms.DateField(label="生年月日", widget=DATE, required=False)
    reason = forms.CharField(
        label="緊急に閲覧する理由",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="10文字以上。チームと組織の管理者に通知され、監査ログに残ります。",
    )


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(label="同意の範囲", choices=ConsentScope.choices)
    purpose = forms.CharField(
        label="利用目的",
        max_length=300,
        required=False,
        initial="在宅療養を支える医療・介護関係者の情報共有のため",
    )
    given_by = forms.CharField(
        label="同意した人", max_length=60, required=False, help_text="本人、家族（続柄）など"
    )
    valid_from = forms.DateField(label="有効期間（開始）", widget=DATE, required=False)
    valid_until = forms.DateField(label="有効期間（終了）", required=False, widget=DATE)
    organizations = forms.TypedMultipleChoiceField(
        label="共有先の組織（施設リストのとき）",
        coerce=uuid.UUID,
        required=False,
        choices=(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    people = forms.CharField(
        label="共有先の職員のログインID（個人のとき、読点・空白区切り）",
        required=False,
        max_length=1000,
    )
    form_file = forms.FileField(label="同意書（スキャン、PDF・JPEG・PNG）", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organizations"].choices = _org_choices()  # type: ignore[attr-defined]

    def clean_people(self) -> list[str]:
        text = self.cleaned_data.get("people") or ""
        return [p for p in text.replace("、", " ").replace(",", " ").split() if p]


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="撤回の理由", required=False, widget=forms.TextInput(hints(RevokeInput, "reason"))
    )


class PostForm(forms.Form):
    category = forms.ChoiceField(label="分類", choices=Category.choices, initial=Category.DAILY)
    body = forms.CharField(
        label="本文",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="@ログインID や @役割名（@訪問看護 など）で通知できます",
    )
    reply_due = forms.DateField(label="返信の依頼（期限）", required=False, widget=DATE)
    next_visit = forms.DateField(label="次回の訪問予定日", required=False, widget=DATE)
    plan_changed = forms.BooleanField(label="診療・ケア方針の変更あり", required=False)
    plan_summary = forms.CharField(
        label="変更の概要",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    care_points = forms.CharField(
        label="療養上の留意点",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    end_of_life = forms.CharField(
        label="人生の最終段階に関する情報",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    parent = forms.UUIDField(required=False, widget=forms.HiddenInput)


def _text(label: str, max_length: int, rows: int = 3, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class SheetForm(forms.Form):
    """救急医療情報シート; the rules are on renkei.care.actions.emergency.SheetInput."""

    diagnoses = _text("病名・既往歴", 1000)
    medicines = _text(
        "服薬中の薬", 1000, help_text="お薬手帳の最新のページも一緒に保管してください"
    )
    allergies = _text("アレルギー", 500, rows=2, help_text="なければ「なし」と書いてください")
    family_doctor = _text("かかりつけ医（医療機関・電話）", 300, rows=2)
    resuscitation = forms.ChoiceField(
        label="心停止・呼吸停止のときの希望",
        choices=[("", "未確認"), *Resuscitation.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    resuscitation_confirmed_on = forms.DateField(
        label="希望を確認した日", widget=DATE, required=False
    )
    notes = _text("その他（障害、補聴器、ペット、鍵の場所など）", 500, rows=2)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_resuscitation(self) -> str | None:
        return self.cleaned_data.get("resuscitation") or None


class AcpForm(forms.Form):
    what_matters = _text("大切にしていること", 2000)
    place_of_care = forms.CharField(label="療養したい場所", max_length=300, required=False)
    place_of_death = forms.CharField(label="最期を迎えたい場所", max_length=300, required=False)
    treatment_wishes = _text("治療・ケアについての希望", 2000)
    proxy = forms.CharField(
        label="代理で意思決定する人", max_length=300, required=False, help_text="氏名・続柄・連絡先"
    )
    participants = forms.CharField(label="話し合いの参加者", max_length=500, required=False)
    discussed_on = forms.DateField(label="話し合った日", widget=DATE, required=False)
    next_review_on = forms.DateField(label="次に見直す日", widget=DATE, required=False)
    base = forms.IntegerField(required=False, widget=forms.HiddenInput)


# Shared forms (ADR 0046): the widgets are derived from the typed items, so the screen, the
# print and the API cannot list different items.


def _max_length(info: Any) -> int | None:
    return next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)


class ContentForm(forms.Form):
    """Base of the generated forms: an unchosen radio item is "no answer" (None)."""

    optional_choices: tuple[str, ...] = ()
    input_fields = {"content.kind": "__all__"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.optional_choices:
            if data.get(name) == "":
                data[name] = None
        return data


def content_form_class(kind: str) -> type[ContentForm]:
    """A Django form for one kind's items, read from its pydantic model."""
    import datetime as dt
    import enum

    from renkei.care.form_kinds import CONTENT_MODELS

    fields: dict[str, forms.Field] = {}
    optional: list[str] = []
    for name, info in CONTENT_MODELS[kind].model_fields.items():
        if name == "kind":
            continue
        label = info.title or name
        base, many = item_type(info.annotation)
        field: forms.Field
        if many:
            field = forms.MultipleChoiceField(
                label=label,
                required=False,
                choices=[(e.value, e.value) for e in base],
                widget=forms.CheckboxSelectMultiple,
            )
        elif isinstance(base, type) and issubclass(base, enum.Enum):
            field = forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", "未記入"), *((e.value, e.value) for e in base)],
                widget=forms.RadioSelect,
            )
            optional.append(name)
        elif base is bool:
            field = forms.BooleanField(label=label, required=False)
        elif base is dt.date:
            field = forms.DateField(label=label, required=False, widget=DATE)
        else:
            rows = (info.json_schema_extra or {}).get("rows", 0)  # type: ignore[union-attr]
            field = forms.CharField(
                label=label,
                required=False,
                max_length=_max_length(info),
                widget=forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput,
            )
        fields[name] = field
    fields["admission_date"] = forms.DateField(
        label="入院日",
        required=False,
        widget=DATE,
        help_text="入院後3日以内の情報提供の指標に使います",
    )
    fields["version"] = forms.IntegerField(required=False, widget=forms.HiddenInput)
    attrs: dict[str, Any] = {**fields, "optional_choices": tuple(optional)}
    return type(f"{kind.title()}Form", (ContentForm,), attrs)


class NewFormForm(forms.Form):
    kind = forms.ChoiceField(label="様式", choices=())
    admission_date = forms.DateField(label="入院日", required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from renkei.care.models import FormKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = FormKind.choices  # type: ignore[attr-defined]


class SendForm(forms.Form):
    recipient = forms.TypedChoiceField(label="送付先", coerce=uuid.UUID, choices=())
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, orgs: list[Organization] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["recipient"].choices = [(str(o.code), o.name) for o in orgs]  # type: ignore[attr-defined]


class ReplyForm(forms.Form):
    reply = _text("返信", 2000, rows=5)


class FromCaseForm(PatientForm):
    """The identity, entered once, of a decided placement case; sex and care level are
    prefilled from the case."""

    consented = forms.BooleanField(
        label="本人（または家族）が、受入先との情報共有に同意している", required=False
    )
    given_by = forms.CharField(
        label="同意した人", max_length=60, required=False, help_text="本人、家族（続柄）など"
    )
    purpose = forms.CharField(
        label="利用目的",
        max_length=300,
        required=False,
        initial="退院後の在宅療養・施設での生活を支える医療・介護関係者の情報共有のため",
    )
    facility_member = forms.CharField(
        label="招待する受入先の職員のログインID",
        max_length=150,
        required=False,
        help_text="空欄なら、受入を決めた方を招待します",
    )
    allow_duplicate = forms.BooleanField(
        label="同じふりがな・生年月日の別の方として登録する", required=False
    )
