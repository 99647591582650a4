"""Widgets for the programme screens. The rules live on the inputs in actions.py."""

from __future__ import annotations

from typing import Any

from django import forms

from renkei.lib.dates import fiscal_year_label
from renkei.lib.programme import ProgrammeItem, Scene
from renkei.programmes.imports import TARGETS
from renkei.programmes.models import (
    AttendanceStatus,
    BodyKind,
    FundingSource,
    IssueSource,
    IssueStatus,
    MeasureStatus,
    MeetingStatus,
)

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"})


def year_choices(around: int) -> list[tuple[int, str]]:
    return [(y, fiscal_year_label(y)) for y in range(around + 1, around - 12, -1)]


class YearField(forms.TypedChoiceField):
    def __init__(self, around: int, **kwargs: Any) -> None:
        super().__init__(coerce=int, choices=year_choices(around), label="年度", **kwargs)


def _text(label: str, max_length: int, rows: int = 4, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _checks(label: str, choices: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class TableForm(forms.Form):
    title = forms.CharField(label="表題", max_length=120)
    results_as_of = forms.DateField(label="実績の時点（任意）", required=False, widget=DATE)
    note = _text("備考", 2000, rows=2)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, around: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"fiscal_year": YearField(around), **self.fields}


class LineForm(forms.Form):
    section = forms.CharField(label="区分（表の見出し）", max_length=120, required=False)
    name = forms.CharField(label="事業名称", max_length=200)
    is_new = forms.BooleanField(label="新規事業（新）", required=False)
    items = _checks("事業項目（ア〜ク）", ProgrammeItem.choices)
    scenes = _checks("場面", Scene.choices)
    content = _text("事業内容", 4000)
    results = _text("実績（日付・回数・人数など）", 4000, rows=6)
    plan = _text("次年度の予定", 4000)
    effect = _text("事業効果", 4000)
    contractor_name = forms.CharField(
        label="受託者（Renkei に組織のない委託先）", max_length=120, required=False
    )
    courses = _checks("実績を添える研修コース", [])
    sort_order = forms.IntegerField(label="順番", min_value=0, max_value=100000, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, courses: list[tuple[str, str]] | None, **kwargs: Any) -> None:
        """`courses=None`: a contractor editing; budgets and links stay the owner's."""
        super().__init__(*args, **kwargs)
        if courses is None:
            del self.fields["courses"]
        else:
            field = self.fields["courses"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = courses


class ResultsForm(forms.Form):
    results = _text("実績（日付・回数・人数など）", 4000, rows=8)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ContractorForm(forms.Form):
    organization = forms.ChoiceField(label="受託者の組織")
    may_edit = forms.BooleanField(label="実績だけでなく事業の内容も編集できる", required=False)

    def __init__(self, *args: Any, orgs: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = orgs


class BudgetForm(forms.Form):
    source_id = forms.TypedChoiceField(label="財源", coerce=int)
    amount = forms.IntegerField(label="予算額（千円）", min_value=0, max_value=10**10)
    label = forms.CharField(label="内訳・摘要（任意）", max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(s.pk, s.name) for s in FundingSource.objects.filter(is_active=True)]


class ImportForm(forms.Form):
    file = forms.FileField(label="ファイル（Excel .xlsx または CSV、5MBまで）")

    def __init__(self, *args: Any, around: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"fiscal_year": YearField(around), **self.fields}


class MappingForm(forms.Form):
    title = forms.CharField(label="事業一覧の表題", max_length=120)

    def __init__(self, *args: Any, header: list[str], around: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fiscal_year"] = YearField(around)
        choices = [
            ("", "（使わない）"),
            *((str(i), f"{i + 1}列目: {h[:30]}") for i, h in enumerate(header)),
        ]
        for target, label in TARGETS.items():
            self.fields[f"col_{target}"] = forms.ChoiceField(
                label=label, choices=choices, required=False
            )

    def columns(self) -> dict[str, int]:
        return {
            t: int(self.cleaned_data[f"col_{t}"])
            for t in TARGETS
            if self.cleaned_data.get(f"col_{t}") not in (None, "")
        }


class BodyForm(forms.Form):
    name = forms.CharField(label="会議体の名称", max_length=120)
    kind = forms.ChoiceField(label="種類", choices=BodyKind.choices)
    parent = forms.ChoiceField(label="上位の会議体（専門部会のとき）", required=False)
    team = forms.CharField(label="チーム（Aチームなど）", max_length=30, required=False)
    items = _checks("事業項目（ア〜ク）", ProgrammeItem.choices)
    purpose = _text("目的・検討事項", 2000, rows=3)
    meetings_per_year = forms.IntegerField(
        label="年間の開催回数（予定）", min_value=0, max_value=52, initial=4
    )
    is_active = forms.BooleanField(label="活動中", required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, parents: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["parent"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "（なし）"), *parents]


class MemberForm(forms.Form):
    organization = forms.ChoiceField(label="組織（Renkei に登録のある組織）", required=False)
    name = forms.CharField(label="氏名", max_length=60, required=False)
    affiliation = forms.CharField(label="所属（登録のない組織）", max_length=120, required=False)
    title = forms.CharField(label="役職", max_length=60, required=False)
    email = forms.CharField(label="通知先メール", max_length=254, required=False)

    def __init__(self, *args: Any, orgs: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "（選ばない）"), *orgs]


class MeetingForm(forms.Form):
    number = forms.IntegerField(label="第何回", min_value=1, max_value=99)
    held_on = forms.DateField(label="開催日", widget=DATE)
    starts_at = forms.TimeField(label="開始時刻", required=False, widget=TIME)
    place = forms.CharField(label="場所", max_length=120, required=False)
    status = forms.ChoiceField(label="状態", choices=MeetingStatus.choices)
    agenda = _text("議題", 4000)
    minutes = _text("議事録", 20000, rows=10)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, around: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"fiscal_year": YearField(around), **self.fields}


class ScheduleForm(forms.Form):
    dates = forms.CharField(
        label="開催日（1行に1日、例: 2026-05-29）",
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    place = forms.CharField(label="場所", max_length=120, required=False)

    def __init__(self, *args: Any, around: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"fiscal_year": YearField(around), **self.fields}

    def clean_dates(self) -> list[str]:
        return [d.strip() for d in self.cleaned_data["dates"].splitlines() if d.strip()]


class DecisionForm(forms.Form):
    text = _text("決定事項", 2000, rows=3, required=True)


class MaterialForm(forms.Form):
    title = forms.CharField(label="資料名", max_length=120)
    file = forms.FileField(label="ファイル（PDF・画像・Excel・Word・PowerPoint、10MBまで）")


class AttendanceForm(forms.Form):
    def __init__(
        self, *args: Any, members: list[Any], current: dict[int, Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        for mm in members:
            now = current.get(mm.pk)
            self.fields[f"s_{mm.code}"] = forms.ChoiceField(
                label=str(mm),
                choices=[("", "（未記録）"), *AttendanceStatus.choices],
                required=False,
                initial=now.status if now else "",
            )
            self.fields[f"n_{mm.code}"] = forms.CharField(
                label=f"{mm} 備考", max_length=120, required=False, initial=now.note if now else ""
            )

    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "member": str(mm.code),
                "status": self.cleaned_data[f"s_{mm.code}"],
                "note": self.cleaned_data.get(f"n_{mm.code}", ""),
            }
            for mm in self.members
            if self.cleaned_data.get(f"s_{mm.code}")
        ]


class IssueForm(forms.Form):
    title = forms.CharField(label="課題", max_length=200)
    description = _text("内容", 4000)
    scenes = _checks("場面", Scene.choices)
    items = _checks("事業項目（ア〜ク）", ProgrammeItem.choices)
    source = forms.ChoiceField(label="提起の経路", choices=IssueSource.choices)
    meeting = forms.ChoiceField(label="提起された会議", required=False)
    raised_on = forms.DateField(label="提起日", widget=DATE)
    status = forms.ChoiceField(label="状態", choices=IssueStatus.choices)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, meetings: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["meeting"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "（会議以外）"), *meetings]


class MeasureForm(forms.Form):
    title = forms.CharField(label="対応策", max_length=200)
    description = _text("内容", 4000)
    responsible_name = forms.CharField(label="担当（部署・チーム）", max_length=120, required=False)
    due_on = forms.DateField(label="期限", required=False, widget=DATE)
    status = forms.ChoiceField(label="状態", choices=MeasureStatus.choices)
    decision = forms.ChoiceField(label="根拠となる会議の決定事項", required=False)
    programme_lines = _checks("財源となる事業", [])
    indicators = _checks("動かしたい指標", [])
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        decisions: list[tuple[str, str]],
        lines: list[tuple[str, str]],
        indicators: list[tuple[str, str]] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["decision"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "（なし）"), *decisions]
        lines_field = self.fields["programme_lines"]
        assert isinstance(lines_field, forms.ChoiceField)
        lines_field.choices = lines
        indicators_field = self.fields["indicators"]
        assert isinstance(indicators_field, forms.ChoiceField)
        indicators_field.choices = list(indicators)


class ProgressForm(forms.Form):
    written_on = forms.DateField(label="日付", widget=DATE)
    text = _text("進捗", 2000, rows=3, required=True)
    status = forms.ChoiceField(
        label="状態を変える", choices=[("", "（変えない）"), *MeasureStatus.choices], required=False
    )
