from __future__ import annotations

import math
import re
import time
from collections import defaultdict
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, RenkeiRequest, member_required
from renkei.accounts.models import AuditEntry
from renkei.directory import actions
from renkei.directory.forms import ConfirmForm, FacilityCreateForm, FacilityForm, VacancyForm
from renkei.directory.models import Capability, Facility, FacilityKind, VacancyStatus, vocabulary
from renkei.directory.search import SORTS, FacilitySearch, SearchError, total_label
from renkei.directory.search_html import ROW_COLUMNS, OptionList, pager, result_rows
from renkei.lib import exports
from renkei.lib.actions import ActionError
from renkei.lib.dates import ago_ja
from renkei.lib.forms import input_from_form, show_error
from renkei.lib.ratelimit import by_user_or_ip, rate_limited
from renkei.regions.models import Municipality, Prefecture, SecondaryArea

EXPORT_LIMIT = 20_000
MAP_LIMIT = 5_000


# The search form's option lists change a few times a year (an administrator's 二次医療圏 upload,
# a new capability) and were read on every view: each process keeps them for
# FILTER_CHOICES_SECONDS (ADR 0040); the area upload drops this process's copy at once.
FILTER_CHOICES_SECONDS = 60.0
_filter_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def forget_filter_choices() -> None:
    _filter_cache.clear()


def _filter_choices(prefecture: str = "") -> dict[str, Any]:
    """The search form's option lists; the 二次医療圏 and municipalities are the chosen
    prefecture's (HOME_PREFECTURE until one is chosen), so the directory serves the nation.
    Each list is escaped once here (search_html.OptionList); a view marks its chosen options
    with chosen_options()."""
    home = prefecture or settings.HOME_PREFECTURE
    cached = _filter_cache.get(home)
    if cached is not None and time.monotonic() - cached[0] < FILTER_CHOICES_SECONDS:
        return cached[1]
    prefectures = list(Prefecture.objects.values_list("code", "name"))
    choices = {
        "kinds": OptionList.checkboxes("kind", FacilityKind.choices),
        "capabilities": OptionList.checkboxes(
            "capability", [(c.code, c.name) for c in vocabulary().ordered]
        ),
        "prefectures": OptionList.select(prefectures),
        "place_prefecture": home,
        "place_prefecture_name": dict(prefectures).get(home, ""),
        "areas": OptionList.select(
            SecondaryArea.objects.filter(prefecture__code=home).values_list("pk", "name")
        ),
        "municipalities": OptionList.select(
            Municipality.objects.selectable()
            .filter(prefecture__code=home)
            .order_by("code")
            .values_list("code", "name")
        ),
        "sorts": OptionList.select(SORTS.items()),
    }
    _filter_cache[home] = (time.monotonic(), choices)
    return choices


def chosen_options(
    choices: dict[str, Any], search: FacilitySearch | None, prefecture: str
) -> dict[str, Any]:
    """The option lists as HTML with this request's choices marked (none for a search the
    page refused: the form then starts over, as it did when the template marked them)."""
    area = str(search.area) if search is not None and search.area is not None else ""
    return {
        "place_prefecture_name": choices["place_prefecture_name"],
        "kind_options": choices["kinds"].render(search.kinds if search else ()),
        "capability_options": choices["capabilities"].render(search.capabilities if search else ()),
        "prefecture_options": choices["prefectures"].render((prefecture,)),
        "area_options": choices["areas"].render((area,)),
        "municipality_options": choices["municipalities"].render(
            search.municipalities if search else ()
        ),
        "sort_options": choices["sorts"].render((search.sort,) if search else ()),
    }


def _valid_prefecture(raw: str) -> str:
    return raw if re.fullmatch(r"[0-9]{2}", raw) and 1 <= int(raw) <= 47 else ""


def _form_values(request: RenkeiRequest) -> defaultdict[str, str]:
    """The query's last value for each name, and "" for a name it lacks. The form looks up
    seven names a dozen times; the template engine tries a name missing from a QueryDict
    three ways, each through an exception: ~30 µs a name against ~2 µs (ADR 0079)."""
    return defaultdict(str, ((key, values[-1]) for key, values in request.GET.lists() if values))


def _querystring(request: RenkeiRequest) -> str:
    params = [
        (key, value)
        for key, values in request.GET.lists()
        if key != "page"
        for value in values
        if value != ""
    ]
    return urlencode(params) + ("&" if params else "")


@rate_limited("search", key=by_user_or_ip)
@require_GET
def search(request: RenkeiRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "querystring_base": _querystring(request),
        "params": _form_values(request),
    }
    status = 200
    s: FacilitySearch | None = None
    try:
        s = FacilitySearch.from_querydict(request.GET)
        items, total = s.rows(ROW_COLUMNS)
        # Past SEARCH_COUNT_LIMIT matches the pages stop there (deep pages of the whole
        # directory would read every row before them; ADR 0040).
        paged = total if s.total_exact else min(total, settings.SEARCH_COUNT_LIMIT)
        paginator = Paginator(range(paged), s.per_page)
        if total and s.page > paginator.num_pages:
            if not s.total_exact:
                raise SearchError(
                    f"表示できるのは{paginator.num_pages}ページまでです。条件を加えて絞り込んでください"
                )
            raise SearchError(f"ページ{s.page}はありません（全{paginator.num_pages}ページ）")
        page = paginator.get_page(s.page) if total else None
        context.update(
            search=s,
            items=items,
            rows=result_rows(items, s.capabilities),
            total=total,
            total_label=total_label(total, exact=s.total_exact, estimated=s.total_estimated),
            page=page,
            pager=pager(page, context["querystring_base"]),
            described=s.describe(),
            error=None,  # looked up on every page: a missing name costs an exception
        )
    except SearchError as e:
        context.update(error=str(e), items=[], total=0)
        status = 400
        s = None
    template = "directory/search.html#results" if request.htmx else "directory/search.html"
    if not request.htmx:
        prefecture = request.GET.get("prefecture", "")
        choices = _filter_choices(_valid_prefecture(prefecture))
        context.update(chosen_options(choices, s, prefecture))
    return render(request, template, context, status=status)


@require_GET
def place_fields(request: RenkeiRequest) -> HttpResponse:
    """The 二次医療圏 and municipality selects for the prefecture just chosen (htmx); the
    header asks the search form to run again, now without the other prefecture's choices."""
    choices = _filter_choices(_valid_prefecture(request.GET.get("prefecture", "")))
    context = chosen_options(choices, None, "")
    context.update(search=None, params={})
    response = render(request, "directory/search.html#places", context)
    response["HX-Trigger-After-Swap"] = "places-changed"
    return response


@rate_limited("search", key=by_user_or_ip)
@require_GET
def points(request: RenkeiRequest) -> HttpResponse:
    """All matching facilities as compact points for the clustered map."""
    try:
        s = FacilitySearch.from_querydict(request.GET)
    except SearchError as e:
        return JsonResponse({"detail": str(e)}, status=400)
    rows = list(
        s.queryset()
        .filter(lat__isnull=False)
        .values_list("code", "name", "kind", "lat", "lng", "vacancy_status")[:MAP_LIMIT]
    )
    kinds = dict(FacilityKind.choices)
    vac = dict(VacancyStatus.choices)
    return JsonResponse(
        {
            "truncated": len(rows) == MAP_LIMIT,
            "points": [
                {
                    "code": str(c),
                    "name": n,
                    "kind": kinds.get(k, k),
                    "lat": la,
                    "lng": ln,
                    "vacancy": vac.get(v, v),
                    "v": v,
                }
                for c, n, k, la, ln, v in rows
            ],
            "center": list(s.point) if s.point else None,
            "radius_km": s.radius_km,
        }
    )


@require_GET
def detail(request: RenkeiRequest, code: str) -> HttpResponse:
    facility = get_object_or_404(
        Facility.objects.public()
        .select_related(
            "municipality",
            "municipality__parent",
            "municipality__secondary_area",
            "vacancy_confirmed_by",
            "organization",
        )
        .prefetch_related(
            "capabilities", "services", "specialties", "wards", "service_municipalities"
        ),
        code=code,
    )
    can_edit = bool(
        request.organization
        and Facility.objects.curated_by(request.organization).filter(pk=facility.pk).exists()
    )
    return render(
        request,
        "directory/detail.html",
        {
            "f": facility,
            "can_edit": can_edit,
            "is_member": request.membership is not None,
            "vacancy_ago": ago_ja(facility.vacancy_confirmed_at),
            "info_ago": ago_ja(facility.info_updated_at),
            "stale": facility.vacancy_is_stale(),
            "staleness": facility.staleness_notes(),
        },
    )


@member_required
@require_GET
def mine(request: MemberRequest) -> HttpResponse:
    qs = (
        Facility.objects.curated_by(request.organization)
        .select_related("municipality")
        .order_by("kana", "name")
    )
    q = request.GET.get("q", "").strip()
    if q:
        from renkei.lib.text import normalize_search

        qs = qs.filter(search_text__contains=normalize_search(q))
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "directory/mine.html",
        {"page": page, "q": q, "querystring_base": _querystring(request)},
    )


def _editable(request: MemberRequest, code: str) -> Facility:
    return get_object_or_404(
        Facility.objects.curated_by(request.organization).select_related("municipality"), code=code
    )


OVERWRITE_HINT = (
    "入力内容はそのまま残しています。確認のうえもう一度保存すると、この内容で上書きします。"
)


def _rebased(form_class: Any, request: MemberRequest, current: Facility, **kwargs: Any) -> Any:
    """The user's input again, now based on the version someone else just saved.

    Without this the stale version would stay in the hidden field and every further
    save would fail with 409 until the page was reloaded, losing the input.
    """
    data = request.POST.copy()
    data["version"] = str(current.version)
    if form_class is FacilityForm:
        form = form_class(data, instance=current, **kwargs)
    else:
        form = form_class(data)
    form.is_valid()
    return form


def _vacancy_form(facility: Facility) -> VacancyForm:
    return VacancyForm(
        initial={
            "status": facility.vacancy_status
            if facility.vacancy_status != VacancyStatus.UNKNOWN
            else None,
            "count": facility.vacancy_count,
            "note": facility.vacancy_note,
            "version": facility.version,
        }
    )


@member_required
@require_http_methods(["GET", "POST"])
def edit(request: MemberRequest, code: str) -> HttpResponse:
    facility = _editable(request, code)
    curator = request.organization.is_government
    form = FacilityForm(request.POST or None, instance=facility, curator=curator)
    vform = _vacancy_form(facility)
    status = 200
    if request.method == "POST":
        model = actions.CuratorInput if curator else actions.ProfileInput
        data = input_from_form(form, model, form.codes()) if form.is_valid() else None
        status = 400
        if data is not None:
            try:
                actions.update_facility(
                    Facility.objects.get(pk=facility.pk),
                    by=request.membership,
                    data=data,
                    request=request,
                )
            except actions.StaleVersion as e:
                form = _rebased(FacilityForm, request, cast(Facility, e.current), curator=curator)
                form.add_error(None, f"{e} {OVERWRITE_HINT}")
                status = 409
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(request, "施設情報を保存しました。")
                return redirect("directory:detail", code=facility.code)
    return render(
        request, "directory/edit.html", {"f": facility, "form": form, "vform": vform}, status=status
    )


@member_required
@require_http_methods(["GET", "POST"])
def new(request: MemberRequest) -> HttpResponse:
    if not request.organization.is_government:
        raise Http404
    munis = request.organization.curated_municipalities().filter(is_designated_city=False)
    form = FacilityCreateForm(request.POST or None, municipalities=munis)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "capabilities"}
        facility = actions.create_facility(
            by=request.membership,
            fields=fields,
            capabilities=form.cleaned_data["capabilities"],
            request=request,
        )
        messages.success(request, "施設を登録しました。")
        return redirect(facility.get_absolute_url())
    return render(request, "directory/new.html", {"form": form}, status=400 if form.errors else 200)


@member_required
@require_POST
def vacancy(request: MemberRequest, code: str) -> HttpResponse:
    facility = _editable(request, code)
    form = VacancyForm(request.POST)
    status = 200
    data = input_from_form(form, actions.VacancyInput)
    if data is None:
        status = 400
    else:
        try:
            actions.update_vacancy(facility, by=request.membership, data=data, request=request)
        except actions.StaleVersion as e:
            facility = cast(Facility, e.current)
            form = _rebased(VacancyForm, request, facility)
            form.add_error(
                None,
                f"{e} 最新の空き状況: {facility.get_vacancy_status_display()}"
                f"（{ago_ja(facility.vacancy_confirmed_at)}に更新）。{OVERWRITE_HINT}",
            )
            status = 409
        except ActionError as e:
            show_error(form, e)
            status = e.status
        else:
            if not request.htmx:
                messages.success(request, "空き状況を更新しました。")
                return redirect("directory:detail", code=facility.code)
            form = VacancyForm(
                initial={
                    "status": facility.vacancy_status,
                    "count": facility.vacancy_count,
                    "note": facility.vacancy_note,
                    "version": facility.version,
                }
            )
            form.saved = True  # type: ignore[attr-defined]
    template = "directory/edit.html#vacancy-form" if request.htmx else "directory/edit.html"
    ctx = {"f": facility, "vform": form}
    if not request.htmx:
        ctx["form"] = FacilityForm(instance=facility, curator=request.organization.is_government)
    return render(request, template, ctx, status=status)


@member_required
@require_POST
def confirm_vacancy(request: MemberRequest, code: str) -> HttpResponse:
    """「変わりなし」 in one tap, from the list of one's facilities or the edit page: back to
    that page with what was confirmed; a refusal shows on the edit page, nothing changed."""
    facility = _editable(request, code)
    form = ConfirmForm(request.POST)
    data = input_from_form(form, actions.VacancyConfirmInput)
    try:
        if data is None:
            raise ActionError("確認する版の指定が正しくありません。ページを読み込み直してください")
        actions.confirm_vacancy(facility, by=request.membership, data=data, request=request)
    except ActionError as e:
        messages.error(request, str(e))
        current = Facility.objects.get(pk=facility.pk)
        ctx = {
            "f": current,
            "vform": _vacancy_form(current),
            "form": FacilityForm(instance=current, curator=request.organization.is_government),
        }
        return render(request, "directory/edit.html", ctx, status=e.status)
    messages.success(
        request,
        f"{facility.name}の空き状況「{facility.get_vacancy_status_display()}」を"
        "変わりなしとして確認しました。",
    )
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("directory:detail", code=facility.code)


EXPORT_COLUMNS = [
    "名称",
    "ふりがな",
    "種別",
    "市区町村",
    "所在地",
    "電話番号",
    "FAX番号",
    "対応できる処置",
    "空き状況",
    "空き状況の確認日時",
    "距離(km)",
    "医療機関ID",
    "介護事業所番号",
]


def _export_rows(s: FacilitySearch) -> list[list[Any]]:
    qs = (
        s.queryset()
        .select_related("municipality")
        .prefetch_related(Prefetch("capabilities", queryset=Capability.objects.only("name")))
    )
    rows = []
    for f in qs[:EXPORT_LIMIT]:
        d2 = getattr(f, "dist2", None)
        rows.append(
            [
                f.name,
                f.kana,
                f.get_kind_display(),
                f.municipality.name,
                f.address,
                f.phone,
                f.fax,
                "、".join(c.name for c in f.capabilities.all()),
                f.get_vacancy_status_display(),
                f.vacancy_confirmed_at,
                round(math.sqrt(d2), 1) if d2 is not None else "",
                f.medical_id or "",
                f.care_office_number or "",
            ]
        )
    return rows


@rate_limited("search", key=by_user_or_ip)
@require_GET
def export(request: RenkeiRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    try:
        s = FacilitySearch.from_querydict(request.GET)
    except SearchError as e:
        return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")
    rows = _export_rows(s)
    AuditEntry.record(
        "directory.exported",
        request=request,
        detail={"format": fmt, "rows": len(rows), "query": request.GET.urlencode()},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    widths = [36, 24, 22, 14, 36, 14, 14, 40, 12, 18, 10, 16, 14]
    sheet = exports.Sheet("施設一覧", EXPORT_COLUMNS, rows, widths=widths)
    return exports.response(fmt, f"renkei-facilities-{stamp}", sheet)


PRINT_LIMIT = 3_000


def _print_page(
    request: RenkeiRequest, s: FacilitySearch, title: str, described: list[str]
) -> HttpResponse:
    """The search's facilities as a print layout grouped by kind (在宅医療介護福祉ハンドブック):
    exactly what the filters selected, up to PRINT_LIMIT."""
    facilities = list(
        s.queryset()
        .select_related("municipality")
        .prefetch_related("capabilities")
        .order_by("kind", "kana", "name", "id")[: PRINT_LIMIT + 1]
    )
    truncated = len(facilities) > PRINT_LIMIT
    groups: dict[str, list[Facility]] = {}
    for f in facilities[:PRINT_LIMIT]:
        groups.setdefault(f.get_kind_display(), []).append(f)
    order = [label for _, label in FacilityKind.choices]
    grouped = sorted(groups.items(), key=lambda kv: order.index(kv[0]))
    return render(
        request,
        "directory/handbook.html",
        {
            "title": title,
            "described": described,
            "groups": grouped,
            "truncated": truncated,
            "limit": PRINT_LIMIT,
            "back": f"{reverse('directory:search')}?{_querystring(request)}",
            "now": timezone.localtime(),
        },
    )


@rate_limited("search", key=by_user_or_ip)
@require_GET
def print_list(request: RenkeiRequest) -> HttpResponse:
    """印刷用一覧 of the search as filtered on the search page."""
    try:
        s = FacilitySearch.from_querydict(request.GET)
    except SearchError as e:
        return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")
    described = s.describe()
    title = "在宅医療・介護資源一覧"
    if len(s.municipalities) == 1 and described == [_muni_name(s.municipalities[0])]:
        title = f"{described[0]} 在宅医療・介護福祉ハンドブック"
    return _print_page(request, s, title, described)


def _muni_name(code: str) -> str:
    return Municipality.objects.filter(code=code).values_list("name", flat=True).first() or code


@require_GET
def handbook(request: RenkeiRequest, code: str) -> HttpResponse:
    """One municipality's handbook (its wards included): the print layout of that search."""
    muni = get_object_or_404(Municipality, code=code)
    s = FacilitySearch(municipalities=[code])
    s.validate()
    return _print_page(request, s, f"{muni.name} 在宅医療・介護福祉ハンドブック", [muni.name])
