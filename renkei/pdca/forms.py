"""Widgets for the survey and indicator screens; the rules are on the actions' inputs."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms

from renkei.pdca.actions import SEED_QUESTIONS
from renkei.pdca.models import Indicator, Question, Source
from renkei.regions.models import SecondaryArea


class SurveyForm(forms.Form):
    title = forms.CharField(label="調査名", max_length=200)
    fiscal_year = forms.IntegerField(label="年度（西暦）", min_value=2000, max_value=2100)
    deadline = forms.DateField(label="回答期限", widget=forms.DateInput(attrs={"type": "date"}))
    area_id = forms.TypedChoiceField(
        label="対象（保健福祉事務所の所管区域）", coerce=int, required=False, empty_value=None
    )
    instructions = forms.CharField(
        label="回答にあたって",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    seed = forms.MultipleChoiceField(
        label="標準の設問（県央の調査）",
        choices=[(k, f"{n} {label}") for k, n, label in SEED_QUESTIONS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    own = forms.CharField(
        label="独自の設問（1行に1問。「番号 設問」の形で、番号は省略できます）",
        required=False,
        max_length=6000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    input_fields = {"questions": "own"}

    def __init__(self, *args: Any, prefecture_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        areas = SecondaryArea.objects.filter(prefecture_id=prefecture_id or 0)
        self.fields["area_id"].choices = [("", "都道府県内のすべての市町村")] + [  # type: ignore[attr-defined]
            (a.pk, a.name) for a in areas
        ]

    def questions(self) -> list[dict[str, str]]:
        chosen = set(self.cleaned_data.get("seed") or [])
        out = [
            {"key": k, "number": n, "label": label} for k, n, label in SEED_QUESTIONS if k in chosen
        ]
        for line in (self.cleaned_data.get("own") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            number, _, rest = line.partition(" ")
            if not (rest and len(number) <= 10 and any(c.isdigit() for c in number)):
                number, rest = "", line
            # The same wording next year is the same question: its answers carry over.
            key = "q" + hashlib.sha256(rest.encode()).hexdigest()[:10]
            out.append({"key": key, "number": number, "label": rest})
        return out


class AnswerForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, questions: list[Question], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = [q.key for q in questions]
        for q in questions:
            self.fields[f"a_{q.key}"] = forms.CharField(
                label=f"{q.number} {q.label}".strip(),
                help_text=q.help_text,
                required=False,
                max_length=8000,
                widget=forms.Textarea(attrs={"rows": 8}),
            )

    def answers(self) -> dict[str, str]:
        return {k: self.cleaned_data.get(f"a_{k}") or "" for k in self.keys}


class ValueForm(forms.Form):
    indicator = forms.ChoiceField(label="指標")
    fiscal_year = forms.IntegerField(label="年度（西暦）", min_value=2000, max_value=2100)
    # The range is the input's rule (ValueInput), so both doors refuse with its message; the
    # widget only tells the browser.
    numerator = forms.FloatField(label="値（分子）", widget=forms.NumberInput(attrs={"min": 0}))
    denominator = forms.FloatField(label="分母（分母のある指標のみ）", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = [  # type: ignore[attr-defined]
            (i.code, i.name)
            for i in Indicator.objects.exclude(source=Source.COMPUTED).order_by("sort_order")
        ]


class PopulationForm(forms.Form):
    fiscal_year = forms.IntegerField(
        label="年度（西暦）",
        min_value=2000,
        max_value=2100,
        help_text="1月1日現在の人口を、その年の4月に始まる年度に使います（例: 2025年1月1日 → 2025年度）",
    )
    file = forms.FileField(
        label="住民基本台帳の年齢階級別人口（市区町村別、Excel .xlsx または CSV、10MBまで）"
    )
