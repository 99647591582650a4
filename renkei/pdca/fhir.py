"""Indicators in FHIR R4B under /api/fhir/ (issue 15 §4, optional): each indicator definition a
Measure, each value of a municipality × fiscal year a summary MeasureReport.

Read-only and scoped as the dashboard: signed-in members of a municipality, a prefecture or the
operator; Measure (the definitions, the same for all) for any of them, MeasureReport for the
municipalities `readable_municipalities` gives (a municipality its own, a prefecture its
municipalities); a report or a subject outside that is 404, as on the screens. Built with
fhir.resources, so what leaves has passed its structural validation.

Ids: FHIR ids allow letters, digits, '-' and '.', so an indicator code's '_' is written '-'
(codes never hold '-'); a report's id is `{municipality code}-{fiscal year}-{measure id}`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path
from fhir.resources.R4B.measure import Measure
from fhir.resources.R4B.measurereport import MeasureReport

from renkei.accounts.models import Membership
from renkei.directory.fhir import BadRequest, _bundle, _fhir, _outcome, _paging, _refusing_bad_input
from renkei.lib import fhir as fhir_registry
from renkei.lib.dates import fiscal_year_range
from renkei.pdca.access import is_government
from renkei.pdca.catalogue import ensure_indicators
from renkei.pdca.models import Direction, Indicator, IndicatorValue, readable_municipalities

MEASURE_URL = "urn:renkei:measure:"
SYSTEM_MUNICIPALITY = "urn:renkei:municipality"
SYSTEM_SCENE = "urn:renkei:codesystem:scene"
SYSTEM_ITEM = "urn:renkei:codesystem:programme-item"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
REPORT_ID = re.compile(r"^(\d{6})-(\d{4})-([a-z0-9.\-]{1,60})$")

MEASURE_PARAMS = [("_id", "token", "指標コード（'_' は '-' に置き換え）")]
REPORT_PARAMS = [
    ("measure", "reference", "Measure/{id} または urn:renkei:measure:{指標コード}"),
    ("subject", "token", "市区町村コード（6桁）"),
    ("period", "date", "年度に含まれる日付（例 2025-04-01）。その年度の値"),
]


def register() -> None:
    count = [("_count", "number", "1ページの件数（0〜100）")]
    fhir_registry.register(
        "Measure", MEASURE_PARAMS + count, "在宅医療・介護連携推進事業の指標の定義"
    )
    fhir_registry.register(
        "MeasureReport",
        REPORT_PARAMS + count,
        "市区町村×年度の指標の値（市区町村は自らの、都道府県は管内の市区町村の値）",
    )


def measure_id(code: str) -> str:
    return code.replace("_", "-")


def _code_of(measure: str) -> str:
    return measure.replace("-", "_")


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _name(code: str) -> str:
    """A computer-friendly name (FHIR: a capital, then letters, digits and '_')."""
    name = re.sub(r"[^A-Za-z0-9]", "_", code)
    return name[:1].upper() + name[1:]


def _scoring(ind: Indicator) -> str:
    if not ind.denominator:
        return "cohort"
    return "proportion" if ind.unit == "%" else "ratio"


def measure_resource(ind: Indicator) -> Measure:
    body: dict[str, Any] = {
        "id": measure_id(ind.code),
        "url": f"{MEASURE_URL}{ind.code}",
        "name": _name(ind.code),
        "title": ind.name,
        "status": "active",
        "publisher": "Renkei",
        "description": f"分子: {ind.numerator}"
        + (f"／分母: {ind.denominator}" if ind.denominator else "")
        + f"（単位: {ind.unit}）",
        "scoring": _coding(
            f"{TERMINOLOGY}measure-scoring", _scoring(ind), _scoring(ind).replace("-", " ")
        ),
        "type": [_coding(f"{TERMINOLOGY}measure-type", ind.kind, ind.get_kind_display())],
        "group": [
            {
                "population": [
                    {
                        "code": _coding(f"{TERMINOLOGY}measure-population", key, key),
                        "description": text,
                        # Computed by Renkei, not by an engine: the criterion is the wording.
                        "criteria": {"language": "text/plain", "expression": text},
                    }
                    for key, text in (
                        ("numerator", ind.numerator),
                        ("denominator", ind.denominator),
                    )
                    if text
                ]
            }
        ],
    }
    if ind.direction != Direction.NONE:
        notation = "increase" if ind.direction == Direction.UP else "decrease"
        body["improvementNotation"] = _coding(
            f"{TERMINOLOGY}measure-improvement-notation", notation, ind.get_direction_display()
        )
    topics = []
    if ind.scene:
        topics.append(_coding(SYSTEM_SCENE, ind.scene, ind.get_scene_display()))
    if ind.item:
        topics.append(_coding(SYSTEM_ITEM, ind.item, ind.get_item_display()))
    if topics:
        body["topic"] = topics
    if ind.source_note:
        body["usage"] = f"{ind.get_source_display()}: {ind.source_note}"
    return Measure.model_validate(body)


def _count(value: float | None) -> int | None:
    """A population count, only where the figure is a whole number (a sum of days is not)."""
    return int(value) if value is not None and float(value).is_integer() else None


def report_resource(v: IndicatorValue) -> MeasureReport:
    ind, muni = v.indicator, v.municipality
    start, end = fiscal_year_range(v.fiscal_year)
    population = [
        {"code": _coding(f"{TERMINOLOGY}measure-population", key, key), "count": n}
        for key, n in (("numerator", _count(v.numerator)), ("denominator", _count(v.denominator)))
        if n is not None and (key == "numerator" or ind.denominator)
    ]
    group: dict[str, Any] = {"population": population}
    if v.value is not None:
        group["measureScore"] = {"value": v.value, "unit": ind.unit}
    return MeasureReport.model_validate(
        {
            "id": f"{muni.code}-{v.fiscal_year}-{measure_id(ind.code)}",
            "status": "complete",
            "type": "summary",
            "measure": f"{MEASURE_URL}{ind.code}",
            "subject": {
                "type": "Location",
                "identifier": {"system": SYSTEM_MUNICIPALITY, "value": muni.code},
                "display": muni.name,
            },
            "date": v.computed_at.isoformat(),
            "period": {"start": start.isoformat(), "end": end.isoformat()},
            "group": [group],
        }
    )


# Views --------------------------------------------------------------------------------------


def _government(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in members of a municipality, a prefecture or the operator: the view gets the
    membership; anyone else 404 (anonymous 401), as the dashboard."""

    @_refusing_bad_input
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _outcome("ログインが必要です", "login", 401)
        m = getattr(request, "membership", None)
        if not isinstance(m, Membership) or not is_government(m):
            return _outcome("見つかりません", "not-found", 404)
        return view(request, m, *args, **kwargs)

    return wrapper


def _indicators() -> list[Indicator]:
    return sorted(ensure_indicators().values(), key=lambda i: (i.sort_order, i.code))


@_government
def measures(request: HttpRequest, m: Membership) -> HttpResponse:
    count, offset = _paging(request.GET)
    found = _indicators()
    wanted = request.GET.get("_id")
    if wanted:
        found = [i for i in found if measure_id(i.code) == wanted]
    page = found[offset : offset + count] if count else []
    return _fhir(
        _bundle(request, "Measure", [measure_resource(i) for i in page], len(found), offset, count)
    )


@_government
def measure(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    ind = next((i for i in _indicators() if measure_id(i.code) == id), None)
    if ind is None:
        return _outcome(f"Measure/{id[:60]} は見つかりません", "not-found", 404)
    return _fhir(measure_resource(ind))


def _values(m: Membership) -> QuerySet[IndicatorValue]:
    return IndicatorValue.objects.filter(
        municipality__in=readable_municipalities(m)
    ).select_related("indicator", "municipality")


def _measure_code(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith(MEASURE_URL):
        return raw.removeprefix(MEASURE_URL)
    if raw.startswith("Measure/"):
        return _code_of(raw.removeprefix("Measure/"))
    raise BadRequest("measure は Measure/{id} または urn:renkei:measure:{指標コード} です")


def _fiscal_year_of(raw: str) -> int:
    found = re.fullmatch(r"(?:eq)?(\d{4}-\d{2}-\d{2})", raw.strip())
    try:
        day = dt.date.fromisoformat(found.group(1)) if found else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise BadRequest("period は年度に含まれる日付（例 2025-04-01）で指定してください")
    return day.year if day.month >= 4 else day.year - 1


@_government
def reports(request: HttpRequest, m: Membership) -> HttpResponse:
    count, offset = _paging(request.GET)
    qs = _values(m)
    subject = (request.GET.get("subject") or "").strip().removeprefix(f"{SYSTEM_MUNICIPALITY}|")
    if subject:
        if not re.fullmatch(r"\d{6}", subject):
            raise BadRequest("subject は6桁の市区町村コードです")
        if not readable_municipalities(m).filter(code=subject).exists():
            return _outcome(f"市区町村 {subject} は見つかりません", "not-found", 404)
        qs = qs.filter(municipality__code=subject)
    if request.GET.get("measure"):
        qs = qs.filter(indicator__code=_measure_code(request.GET["measure"]))
    if request.GET.get("period"):
        qs = qs.filter(fiscal_year=_fiscal_year_of(request.GET["period"]))
    qs = qs.order_by("municipality__code", "fiscal_year", "indicator__sort_order", "pk")
    total = qs.count()
    page = list(qs[offset : offset + count]) if count else []
    return _fhir(
        _bundle(request, "MeasureReport", [report_resource(v) for v in page], total, offset, count)
    )


@_government
def report(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    found = REPORT_ID.match(id)
    value = (
        _values(m)
        .filter(
            municipality__code=found.group(1),
            fiscal_year=int(found.group(2)),
            indicator__code=_code_of(found.group(3)),
        )
        .first()
        if found
        else None
    )
    if value is None:
        return _outcome(f"MeasureReport/{id[:80]} は見つかりません", "not-found", 404)
    return _fhir(report_resource(value))


app_name = "pdca_fhir"
urlpatterns = [
    path("Measure", measures, name="measures"),
    path("Measure/<str:id>", measure, name="measure"),
    path("MeasureReport", reports, name="reports"),
    path("MeasureReport/<str:id>", report, name="report"),
]
