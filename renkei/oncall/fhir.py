"""Rotas in FHIR R4B under /api/fhir/ (issue 14 §4, ADR 0016): a rota is a Schedule, each
published duty period a Slot (busy when someone is on duty, free when it is a gap), and whoever
is on duty a PractitionerRole for that period with the number to call.

Read the same way as the screens: signed-in members only; Schedule and Slot for the rotas the
caller organises or takes turns in; PractitionerRole for those too, or — with `municipality` —
for every published rota covering it, as 「いまの当番」 shows it. Only published months appear.
Built with fhir.resources, so what leaves has passed its structural validation.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from renkei.accounts.models import Membership
from renkei.directory.fhir import (
    BadRequest,
    _bundle,
    _fhir,
    _outcome,
    _paging,
    _refusing_bad_input,
)
from renkei.lib import fhir as fhir_registry
from renkei.oncall.models import MonthStatus, Rota, Shift
from renkei.regions.models import Municipality

SYSTEM_ROTA_KIND = "urn:renkei:codesystem:rota-kind"
SYSTEM_DAY_TYPE = "urn:renkei:codesystem:day-type"
SYSTEM_ORGANIZATION = "urn:renkei:organization"
DATE_PARAM = re.compile(
    r"^(eq|ge|gt|le|lt)?(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?)?)$"
)

SCHEDULE_PARAMS = [("_id", "token", "当番表のコード")]
SLOT_PARAMS = [
    ("schedule", "reference", "Schedule/{当番表のコード}"),
    ("start", "date", "開始日時（ge/gt/le/lt 付き、繰り返し可）"),
    ("status", "token", "busy（当番あり）/ free（空き枠）"),
]
ROLE_PARAMS = [
    ("date", "date", "この時刻に当番の人（省略時は現在）"),
    ("municipality", "token", "市区町村コード（6桁）。この地域を担当する公開済みの当番表から"),
]


def register() -> None:
    count = [("_count", "number", "1ページの件数（0〜100）")]
    fhir_registry.register("Schedule", SCHEDULE_PARAMS + count, "当番表（公開済みの月があるもの）")
    fhir_registry.register("Slot", SLOT_PARAMS + count, "当番の時間帯（公開済み）。空き枠は free")
    fhir_registry.register(
        "PractitionerRole", ROLE_PARAMS + count, "いまの当番（医療機関・担当医・電話）"
    )


def _member(request: HttpRequest) -> Membership | HttpResponse:
    if not request.user.is_authenticated:
        return _outcome("ログインが必要です", "login", 401)
    m = getattr(request, "membership", None)
    if not isinstance(m, Membership):
        return _outcome("所属が選ばれていません", "forbidden", 403)
    return m


def _for_members(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A FHIR read for a signed-in member, handed to the view; anyone else gets an
    OperationOutcome (401, 403), and bad input a 400."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        m = _member(request)
        if isinstance(m, HttpResponse):
            return m
        return view(request, m, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return _refusing_bad_input(wrapper)


def _rotas(m: Membership) -> QuerySet[Rota]:
    return Rota.objects.visible_to(m)


def _published() -> QuerySet[Shift]:
    return Shift.objects.filter(month__status=MonthStatus.PUBLISHED)


def _moment(raw: str) -> dt.datetime:
    found = DATE_PARAM.match(raw.strip())
    if not found or found.group(1) not in (None, "eq"):
        raise BadRequest("date は 2026-12-24T23:00:00+09:00 の形で指定してください")
    return _parse(found.group(2))


def _parse(value: str) -> dt.datetime:
    try:
        moment = (
            dt.datetime.fromisoformat(value)
            if "T" in value
            else dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
        )
    except ValueError:
        raise BadRequest(f"日時が読めません: {value[:40]}") from None
    if not 2000 <= moment.year <= 2100:
        raise BadRequest("日時は2000年〜2100年の範囲で指定してください")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _code(raw: str, prefix: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.removeprefix(prefix))
    except ValueError:
        raise BadRequest(f"{prefix.rstrip('/') or 'id'} が読めません") from None


def _iso(moment: dt.datetime) -> str:
    return timezone.localtime(moment).isoformat()


def schedule_resource(rota: Rota, horizon: tuple[dt.date, dt.date] | None) -> Schedule:
    body: dict[str, Any] = {
        "id": str(rota.code),
        "active": True,
        "serviceType": [
            {
                "coding": [
                    {
                        "system": SYSTEM_ROTA_KIND,
                        "code": rota.kind,
                        "display": rota.get_kind_display(),
                    }
                ],
                "text": rota.get_kind_display(),
            }
        ],
        "actor": [
            {
                "identifier": {"system": SYSTEM_ORGANIZATION, "value": str(rota.organizer.code)},
                "display": rota.organizer.name,
            }
        ],
        "comment": f"{rota.name}（{rota.area_label()}）",
    }
    if horizon is not None:
        body["planningHorizon"] = {"start": horizon[0].isoformat(), "end": horizon[1].isoformat()}
    return Schedule.model_validate(body)


def slot_resource(shift: Shift) -> Slot:
    member = shift.member
    label = f"{shift.label}{f'（{shift.holiday_name}）' if shift.holiday_name else ''}"
    return Slot.model_validate(
        {
            "id": str(shift.code),
            "schedule": {"reference": f"Schedule/{shift.rota.code}"},
            "status": "busy" if member else "free",
            "start": _iso(shift.starts_at),
            "end": _iso(shift.ends_at),
            "serviceType": [
                {
                    "coding": [
                        {
                            "system": SYSTEM_DAY_TYPE,
                            "code": shift.day_type,
                            "display": shift.get_day_type_display(),
                        }
                    ],
                    "text": label,
                }
            ],
            "comment": f"当番: {member}" if member else "空き枠（当番が決まっていません）",
        }
    )


def role_resource(shift: Shift) -> PractitionerRole:
    member = shift.member
    assert member is not None
    body: dict[str, Any] = {
        "id": str(shift.code),
        "active": True,
        "period": {"start": _iso(shift.starts_at), "end": _iso(shift.ends_at)},
        "organization": {
            "identifier": {"system": SYSTEM_ORGANIZATION, "value": str(member.organization.code)},
            "display": member.organization.name,
        },
        "code": [{"text": f"{shift.rota.get_kind_display()}（{shift.rota.name} {shift.label}）"}],
        "telecom": [{"system": "phone", "value": member.phone, "use": "work"}],
    }
    if member.doctor:
        body["practitioner"] = {"display": member.doctor}
    return PractitionerRole.model_validate(body)


# Views --------------------------------------------------------------------------------------


@_for_members
def schedules(request: HttpRequest, m: Membership) -> HttpResponse:
    count, offset = _paging(request.GET)
    qs = _rotas(m).select_related("organizer", "area").prefetch_related("municipalities")
    if request.GET.get("_id"):
        qs = qs.filter(code=_code(request.GET["_id"], ""))
    qs = qs.filter(months__status=MonthStatus.PUBLISHED).distinct().order_by("name", "pk")
    total = qs.count()
    page = list(qs[offset : offset + count]) if count else []
    return _fhir(
        _bundle(
            request,
            "Schedule",
            [schedule_resource(r, _horizon(r)) for r in page],
            total,
            offset,
            count,
        )
    )


def _horizon(rota: Rota) -> tuple[dt.date, dt.date] | None:
    months = sorted(
        rota.months.filter(status=MonthStatus.PUBLISHED).values_list("month", flat=True)
    )
    if not months:
        return None
    last = months[-1]
    end = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return months[0], end


@_for_members
def schedule(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    try:
        code = uuid.UUID(id)
    except ValueError:
        code = None
    rota = _rotas(m).select_related("organizer", "area").filter(code=code).first() if code else None
    if rota is None or (horizon := _horizon(rota)) is None:
        return _outcome(f"Schedule/{id[:40]} は見つかりません", "not-found", 404)
    return _fhir(schedule_resource(rota, horizon))


@_for_members
def slots(request: HttpRequest, m: Membership) -> HttpResponse:
    count, offset = _paging(request.GET)
    qs = _published().filter(rota__in=_rotas(m))
    if request.GET.get("schedule"):
        qs = qs.filter(rota__code=_code(request.GET["schedule"], "Schedule/"))
    for raw in request.GET.getlist("start"):
        found = DATE_PARAM.match(raw.strip())
        if not found:
            raise BadRequest("start は ge2026-12-01 のように指定してください")
        op, moment = found.group(1) or "eq", _parse(found.group(2))
        lookups = {"eq": "starts_at", "ge": "starts_at__gte", "gt": "starts_at__gt"}
        lookups |= {"le": "starts_at__lte", "lt": "starts_at__lt"}
        qs = qs.filter(**{lookups[op]: moment})
    status = request.GET.get("status")
    if status:
        if status not in ("busy", "free"):
            raise BadRequest("status は busy か free です")
        qs = qs.filter(member__isnull=status == "free")
    qs = qs.order_by("starts_at", "pk")
    total = qs.count()
    page = (
        list(qs.select_related("rota", "member__organization")[offset : offset + count])
        if count
        else []
    )
    return _fhir(_bundle(request, "Slot", [slot_resource(s) for s in page], total, offset, count))


def _one_shift(m: Membership, kind: str, id: str, **filters: object) -> Shift | HttpResponse:
    """One published shift of a rota the member takes part in, by its code; else an outcome."""
    try:
        code = uuid.UUID(id)
    except ValueError:
        return _outcome(f"{kind}/{id[:40]} は見つかりません", "not-found", 404)
    shift = (
        _published()
        .filter(rota__in=_rotas(m), code=code, **filters)
        .select_related("rota", "member__organization")
        .first()
    )
    if shift is None:
        return _outcome(f"{kind}/{id[:40]} は見つかりません", "not-found", 404)
    return shift


@_for_members
def slot(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    shift = _one_shift(m, "Slot", id)
    return shift if isinstance(shift, HttpResponse) else _fhir(slot_resource(shift))


@_for_members
def roles(request: HttpRequest, m: Membership) -> HttpResponse:
    """Who is on duty at `date` (now by default): one PractitionerRole per published shift."""
    count, offset = _paging(request.GET)
    moment = _moment(request.GET["date"]) if request.GET.get("date") else timezone.now()
    raw = (request.GET.get("municipality") or "").strip()
    if raw:
        if not re.fullmatch(r"\d{6}", raw):
            raise BadRequest("municipality は6桁の市区町村コードです")
        muni = Municipality.objects.filter(code=raw).first()
        if muni is None:
            raise BadRequest("市区町村が見つかりません")
        rotas: QuerySet[Rota] = Rota.objects.covering(muni)
    else:
        rotas = _rotas(m)
    qs = (
        _published()
        .filter(rota__in=rotas, member__isnull=False, starts_at__lte=moment, ends_at__gt=moment)
        .order_by("rota__name", "starts_at", "pk")
    )
    total = qs.count()
    page = (
        list(qs.select_related("rota", "member__organization")[offset : offset + count])
        if count
        else []
    )
    return _fhir(
        _bundle(request, "PractitionerRole", [role_resource(s) for s in page], total, offset, count)
    )


@_for_members
def role(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    shift = _one_shift(m, "PractitionerRole", id, member__isnull=False)
    return shift if isinstance(shift, HttpResponse) else _fhir(role_resource(shift))


app_name = "oncall_fhir"
urlpatterns = [
    path("Schedule", schedules, name="schedules"),
    path("Schedule/<str:id>", schedule, name="schedule"),
    path("Slot", slots, name="slots"),
    path("Slot/<str:id>", slot, name="slot"),
    path("PractitionerRole", roles, name="roles"),
    path("PractitionerRole/<str:id>", role, name="role"),
]
