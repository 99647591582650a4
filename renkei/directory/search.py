"""Facility search shared by the HTML views, the JSON API, exports and the HSDS feed."""

from __future__ import annotations

import contextlib
import functools
import json
import math
import operator
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import prefetch_related_objects
from django.db.models.expressions import Col
from django.http import QueryDict

from renkei.directory import facility_sql as fsql
from renkei.directory.facility_sql import SQL
from renkei.directory.models import (
    Facility,
    FacilityKind,
    vocabulary,
)
from renkei.lib import inputs
from renkei.lib.text import normalize_search
from renkei.regions.models import Municipality, Prefecture, SecondaryArea

MAX_RADIUS_KM = 200.0
# Past MAX_PAGE no search has rows (the whole country is ~250,000 facilities); beyond it the
# offset itself overflowed the database's 64-bit integer (HSDS with page=9e17 was a 500).
# The bounds are the API's own (lib.inputs), so the schema states them too.
MAX_PAGE, MAX_PER_PAGE = inputs.MAX_PAGE, inputs.MAX_PER_PAGE
SORTS = {"distance": "距離が近い順", "name": "名称順", "fresh": "更新が新しい順"}
# Choices' `values` builds its list on every read: once here, not once a search.
KIND_VALUES = frozenset(FacilityKind.values)
JAPAN_LAT, JAPAN_LNG = (20.0, 46.0), (122.0, 154.0)


class SearchError(ValueError):
    """A malformed search; the message is shown to the user as is."""


# A common word's candidates are walked in id order when that reads fewer rows than its bigram
# bitmap holds matches (ADR 0040, "A common word's page"): when estimated matches² > WALK_COST
# × (SEARCH_COUNT_LIMIT + 1) × active facilities. WALK_COST is a row read and checked in the
# walk against a match in the bitmap (bench/pages_bench.py, docs/benchmarks.md session 7).
WALK_COST = 2.0
# The estimate of the whole directory is kept per process for this long: it changes with
# imports, not between two searches, and asking for it was a round trip on every empty page
# and name search (under load each round trip waits for a CPU; docs/benchmarks.md session 7).
ESTIMATE_SECONDS = 60.0
_active_estimates: dict[str, tuple[float, int]] = {}


def _estimated_active_facilities(cursor: Any) -> int:
    """The active facilities as the planner estimates them (its statistics, kept by ANALYZE
    and autovacuum): what the empty search shows as 「約25万件」 instead of counting every row."""
    connection = fsql.facility_connection()
    if connection.vendor != "postgresql":
        cursor.execute(f"SELECT COUNT(*) FROM {fsql.FACILITY} f WHERE f.is_active")
        return int(cursor.fetchone()[0])
    now = time.monotonic()
    cached = _active_estimates.get(connection.alias)
    if cached is not None and now - cached[0] < ESTIMATE_SECONDS:
        return cached[1]
    estimate = _estimated_rows(cursor, fsql.active("f"))
    _active_estimates[connection.alias] = (now, estimate)
    return estimate


def _estimated_rows(cursor: Any, where: SQL) -> int:
    """The facilities matching `where` (over alias f) as PostgreSQL's planner estimates them."""
    cursor.execute(
        f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {fsql.FACILITY} f WHERE {where.text}", where.params
    )
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def total_label(total: int, *, exact: bool, estimated: bool) -> str:
    """「123件」, 「約25万件」 (two significant figures) or 「1,000件以上」."""
    if exact:
        return f"{total:,}件"
    if not estimated:
        return f"{total:,}件以上"
    digits = len(str(total)) - 2
    rounded = round(total, -digits) if digits > 0 else total
    if rounded >= 10_000:
        man = rounded / 10_000
        return f"約{man:,.0f}万件" if man >= 10 or man == int(man) else f"約{man:.1f}万件"
    return f"約{rounded:,}件"


@dataclass
class FacilitySearch:
    q: str = ""
    kinds: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
    prefecture: str = ""
    area: int | None = None
    vacancy: bool = False
    serves: str = ""
    lat: float | None = None
    lng: float | None = None
    postal: str = ""
    near: str = ""
    radius_km: float | None = None
    sort: str = ""
    page: int = 1
    per_page: int = 20

    # Resolved during validation.
    point: tuple[float, float] | None = None
    point_label: str = ""
    serves_municipality: Municipality | None = None
    capability_mask: int = 0
    # Set by the search: whether the total is exact, or a lower bound (more than
    # SEARCH_COUNT_LIMIT matched), or the planner's estimate for the whole directory (ADR 0040).
    total_exact: bool = True
    total_estimated: bool = False
    # Set by the search: a name search's candidates are the first matches in id order, read
    # through the primary key with the name as a filter, not the bigram index's (a common word).
    walk_by_id: bool = False

    @classmethod
    def from_querydict(cls, data: QueryDict) -> FacilitySearch:
        def one(name: str) -> str:
            return (data.get(name) or "").strip()

        def many(name: str) -> list[str]:
            values: list[str] = []
            for v in data.getlist(name):
                values.extend(p.strip() for p in v.split(",") if p.strip())
            return values

        def num(name: str, label: str) -> float | None:
            raw = one(name)
            if not raw:
                return None
            try:
                value = float(raw)
            except ValueError:
                raise SearchError(f"{label}は数値で指定してください（{raw}）") from None
            if not math.isfinite(value):
                raise SearchError(f"{label}は数値で指定してください（{raw}）")
            return value

        def whole(raw: str) -> int | None:
            # "10" and "10.0" (how some clients write a JSON Schema integer) alike.
            if raw.isdigit():
                return int(raw)
            if re.fullmatch(r"\d{1,18}\.0*", raw):
                return int(raw.split(".")[0])
            return None

        def integer(name: str, label: str, default: int) -> int:
            raw = one(name)
            if not raw:
                return default
            value = whole(raw)
            if value is None:
                raise SearchError(f"{label}は1以上の整数で指定してください（{raw}）")
            return value

        area_raw = one("area")
        area = whole(area_raw) if area_raw else None
        if area_raw and area is None:
            raise SearchError(f"二次医療圏の指定が正しくありません（{area_raw}）")
        search = cls(
            q=one("q")[:100],
            kinds=many("kind"),
            capabilities=many("capability"),
            municipalities=many("municipality"),
            prefecture=one("prefecture"),
            area=area,
            vacancy=one("vacancy") in ("1", "true", "on", "yes"),
            serves=one("serves"),
            lat=num("lat", "緯度"),
            lng=num("lng", "経度"),
            postal=one("postal"),
            near=one("near"),
            radius_km=num("radius_km", "半径"),
            sort=one("sort"),
            page=integer("page", "ページ", 1),
            per_page=integer("per_page", "1ページの件数", 20),
        )
        search.validate()
        return search

    def validate(self) -> None:
        bad = [k for k in self.kinds if k not in KIND_VALUES]
        if bad:
            raise SearchError(f"施設の種別が正しくありません: {', '.join(bad)}")
        if self.capabilities:
            known = vocabulary(codes=self.capabilities).by_code
            unknown = [c for c in self.capabilities if c not in known]
            if unknown:
                raise SearchError(f"処置項目が見つかりません: {', '.join(unknown)}")
            self.capability_mask = 0
            for code in self.capabilities:
                self.capability_mask |= 1 << known[code].bit
        for code in self.municipalities:
            if not re.fullmatch(r"\d{6}", code):
                raise SearchError(f"市区町村コードは6桁の数字です（{code}）")
        if self.prefecture and not (
            re.fullmatch(r"[0-9]{2}", self.prefecture) and 1 <= int(self.prefecture) <= 47
        ):
            raise SearchError(f"都道府県コードは01〜47の2桁の数字です（{self.prefecture}）")
        if self.area is not None:
            area = SecondaryArea.objects.filter(pk=self.area).select_related("prefecture").first()
            if area is None:
                raise SearchError("指定された二次医療圏が見つかりません")
            # An area left selected after the prefecture changed would silently match nothing.
            if self.prefecture and area.prefecture.code != self.prefecture:
                raise SearchError(
                    f"二次医療圏「{area.name}」は{area.prefecture.name}の医療圏です。都道府県と合わせて指定してください"
                )
        if not 1 <= self.page <= MAX_PAGE:
            raise SearchError(f"ページは1〜{MAX_PAGE}で指定してください")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise SearchError(f"1ページの件数は1〜{MAX_PER_PAGE}で指定してください")
        if self.sort and self.sort not in SORTS:
            raise SearchError(f"並び順が正しくありません（{self.sort}）")
        if self.radius_km is not None and not 0 < self.radius_km <= MAX_RADIUS_KM:
            raise SearchError(f"半径は0より大きく{int(MAX_RADIUS_KM)}km以下で指定してください")
        self._resolve_point()
        if self.radius_km is not None and self.point is None:
            raise SearchError(
                "半径で絞り込むには、地点（緯度経度・郵便番号・基準施設）を指定してください"
            )
        if self.sort == "distance" and self.point is None:
            raise SearchError("距離順に並べるには、地点を指定してください")
        if self.serves:
            self.serves_municipality = resolve_place(self.serves)
            if self.serves_municipality is None:
                raise SearchError(
                    f"「{self.serves}」から市区町村を特定できませんでした。郵便番号または市区町村名から入力してください"
                )

    def _resolve_point(self) -> None:
        if (self.lat is None) != (self.lng is None):
            raise SearchError("緯度と経度は両方指定してください")
        if self.lat is not None and self.lng is not None:
            if not (
                JAPAN_LAT[0] <= self.lat <= JAPAN_LAT[1]
                and JAPAN_LNG[0] <= self.lng <= JAPAN_LNG[1]
            ):
                raise SearchError("緯度経度が日本の範囲外です")
            self.point, self.point_label = (self.lat, self.lng), "指定した地点"
        elif self.postal:
            muni = municipality_for_postal(self.postal)
            point = muni.point() if muni else None
            if point is None:
                raise SearchError(f"郵便番号「{self.postal}」の地点がわかりませんでした")
            self.point, self.point_label = point, f"〒{self.postal}（{muni}）"
        elif self.near:
            try:
                code = uuid.UUID(self.near)
            except ValueError:
                raise SearchError("基準施設の指定が正しくありません") from None
            f = Facility.objects.public().filter(code=code).only("lat", "lng", "name").first()
            if f is None or f.lat is None or f.lng is None:
                raise SearchError("基準施設が見つからないか、位置情報がありません")
            self.point, self.point_label = (f.lat, f.lng), f.name

    # Query ---------------------------------------------------------------
    def conditions(self, t: str, connection: BaseDatabaseWrapper, *, name: str = "indexed") -> SQL:
        """The filters as SQL over alias `t` of the facility table (facility_sql): the one
        WHERE clause of the page statement and of queryset(). `name`: how the name is asked
        for (facility_sql.name_contains)."""
        parts = [fsql.active(t)]
        if self.q and (needle := normalize_search(self.q)):
            parts.append(fsql.name_contains(t, needle, connection, how=name, kinds=self.kinds))
        if self.kinds:
            parts.append(fsql.of_kinds(t, self.kinds, connection))
        if self.capability_mask:
            parts.append(fsql.with_all_capabilities(t, self.capability_mask))
        if self.municipalities:
            parts.append(fsql.in_municipalities(t, self.municipalities, connection))
        if self.prefecture:
            parts.append(fsql.in_prefecture(t, self.prefecture))
        if self.area is not None:
            parts.append(fsql.in_secondary_area(t, self.area))
        if self.vacancy:
            parts.append(fsql.with_vacancy(t))
        if self.serves_municipality is not None:
            parts.append(fsql.serving(t, self.serves_municipality, connection))
        if self.point is not None and self.radius_km is not None:
            parts.append(fsql.within(t, self.point, self.radius_km, connection))
        return SQL.all(parts)

    def ordering(self) -> tuple[fsql.Key, ...]:
        return fsql.ORDERINGS[self.sort or ("distance" if self.point is not None else "name")]

    def queryset(self) -> models.QuerySet[Facility]:
        """The search as a queryset, for the exports, the map and the HSDS/FHIR feeds to chain:
        the page statement's conditions and ordering, as ORM expressions."""
        key = ("search", repr(sorted(self.as_params().items())))
        qs = Facility.objects.filter(fsql.condition(self.conditions, key))
        if self.point is not None:
            qs = qs.annotate(dist2=fsql.SquaredDistance(*self.point))
        return qs.order_by(*fsql.order_by(self.ordering()))

    def keys_sql(self) -> tuple[str, list[Any]]:
        """The statement for the requested page's keys: rows of (_k id, _d dist² or NULL,
        _t total or NULL), in order: queryset()'s conditions and ordering, as one statement.

        Run as SQL, not compiled from queryset(), because the JSON API answers hundreds of
        searches a second and building and compiling the queryset was a third of a request's
        CPU time (docs/benchmarks.md). test_search_sql holds the two to the same results over
        every filter.

        A radius search reads only columns of facility_search_idx, so PostgreSQL ranks the
        candidates from the index alone (index-only scan). The circle bounds the candidates and
        the sort reads them all anyway, so there the total rides along as a window count: one
        scan instead of two.
        """
        where = self.conditions("f", fsql.facility_connection())
        point = self.point
        dist = fsql.squared_distance("f", point) if point is not None else SQL("NULL")
        capped = self.candidates_capped()
        total = "COUNT(*) OVER ()" if self.radius_km is not None or capped else "NULL"
        start = (self.page - 1) * self.per_page
        source = SQL(f"{fsql.FACILITY} f")
        if capped:
            # A name search sorts its candidates, and no index gives them in order: more than
            # SEARCH_COUNT_LIMIT of them are cut to that many first (the total, counted over
            # them in the same statement, says so), so that a common word does not sort a
            # share of the whole table (ADR 0040). A common word's candidates are the first
            # matches in id order, walked with the name as a filter (index: ADR 0059):
            # rows read in proportion to the limit over the word's share of the table, not to
            # its matches, which the bigram bitmap collects in full (walk_by_id).
            columns = "f.id, f.kana, f.name, f.vacancy_confirmed_at, f.lat, f.lng"
            if self.walk_by_id:
                # The walk takes ids only, so that facility_name_walk_idx ((id) INCLUDE
                # (is_active, search_text), ADR 0059) answers it without reading the table;
                # only the candidates' rows are read, by their keys.
                where = self.conditions("w", fsql.facility_connection(), name="filter")
                source = SQL(
                    f"(SELECT {columns} FROM (SELECT w.id FROM {fsql.FACILITY} w"
                    f" WHERE {where.text} ORDER BY w.id LIMIT %s) c"
                    f" INNER JOIN {fsql.FACILITY} f ON f.id = c.id) f",
                    [*where.params, settings.SEARCH_COUNT_LIMIT + 1],
                )
            else:
                source = SQL(
                    f"(SELECT {columns} FROM {fsql.FACILITY} f WHERE {where.text} LIMIT %s) f",
                    [*where.params, settings.SEARCH_COUNT_LIMIT + 1],
                )
            where = SQL("TRUE")
        sql = (
            f"SELECT f.id AS _k, {dist.text} AS _d, {total} AS _t FROM {source.text}"
            f" WHERE {where.text} ORDER BY {fsql.order_sql(self.ordering(), 'f', '_d')}"
            " LIMIT %s OFFSET %s"
        )
        # The extra candidate only tells that there are more; the page stops at the limit.
        size = min(self.per_page, settings.SEARCH_COUNT_LIMIT - start) if capped else self.per_page
        return sql, [*dist.params, *source.params, *where.params, max(size, 0), start]

    def count_sql(self) -> tuple[str, list[Any]]:
        where = self.conditions("f", fsql.facility_connection())
        return f"SELECT COUNT(*) FROM {fsql.FACILITY} f WHERE {where.text}", where.params

    def capped_count_sql(self, limit: int) -> tuple[str, list[Any]]:
        """The matches counted up to limit + 1: the count stops there, whatever the table's
        size (an exact COUNT(*) of the empty search read every row)."""
        where = self.conditions("f", fsql.facility_connection())
        return (
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {fsql.FACILITY} f WHERE {where.text} LIMIT %s) c",
            [*where.params, limit + 1],
        )

    def candidates_capped(self) -> bool:
        """Whether the page is sorted from at most SEARCH_COUNT_LIMIT candidates: a name
        search without a radius (the radius bounds the candidates by itself)."""
        return self.radius_km is None and bool(self.q and normalize_search(self.q))

    def unfiltered(self) -> bool:
        """The whole directory: no condition but the facility being active."""
        return not (
            (self.q and normalize_search(self.q))
            or self.kinds
            or self.capability_mask
            or self.municipalities
            or self.area is not None
            or self.vacancy
            or self.serves_municipality is not None
            or self.radius_km is not None
        )

    def page_keys(self) -> tuple[list[tuple[Any, ...]], int]:
        """The requested page's keys, (id, dist² or None, total or None), and the total."""
        with self._name_search_memory(), fsql.facility_connection().cursor() as cursor:
            total, past_end = self._count_first(cursor)
            if past_end:
                return [], total or 0
            self._choose_candidates(cursor)
            with self._statement_cursor(cursor) as run:
                run.execute(*self.keys_sql())
                keys = [tuple(k) for k in run.fetchall()]
        return keys, self._total(keys, total)

    def _choose_candidates(self, cursor: Any) -> None:
        """Whether a name search takes its candidates from the bigram index or walks the table
        in id order (walk_by_id), from the planner's estimates (PostgreSQL; ADR 0040).

        The bitmap of the bigram index holds every match before the first is read, so a
        common word (さくら: one facility in twelve) paid in proportion to the table. The walk
        reads about (SEARCH_COUNT_LIMIT + 1) × rows / matches rows: for a word with a share
        of the table, the same at any size; for a rare word, most of the table. Each takes
        the cheaper side by the estimated matches (the LIKE's selectivity, which PostgreSQL
        reads from search_text's histogram) and the estimated active facilities."""
        self.walk_by_id = False
        connection = fsql.facility_connection()
        needle = normalize_search(self.q) if self.q else ""
        if not self.candidates_capped() or connection.vendor != "postgresql" or len(needle) < 2:
            return
        matches = _estimated_rows(cursor, self.conditions("f", connection, name="like"))
        walked = (
            WALK_COST * (settings.SEARCH_COUNT_LIMIT + 1) * _estimated_active_facilities(cursor)
        )
        self.walk_by_id = matches * matches > walked

    @contextlib.contextmanager
    def _name_search_memory(self) -> Iterator[None]:
        """A name search on PostgreSQL runs in a transaction with more work_mem: the bitmap of
        a common word's candidates then stays exact (with the default 4 MB it turned lossy on
        a large table, and every row of every page it touched was checked again)."""
        connection = fsql.facility_connection()
        if not self.candidates_capped() or connection.vendor != "postgresql":
            yield
            return
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '32MB'")
            yield

    def _statement_cursor(self, cursor: Any) -> Any:
        """The cursor for the page's statement: a preparing one for a radius search on
        PostgreSQL (parsed and planned once per connection; ADR 0011), else `cursor` (closing
        it twice is harmless)."""
        connection = fsql.facility_connection()
        if (
            self.radius_km is None
            or connection.vendor != "postgresql"
            or not settings.DB_PREPARED_SEARCH
        ):
            return cursor
        # Wrapped as Django wraps its own cursors: the query log, thread checks, errors.
        connection.validate_thread_sharing()
        raw = _preparing_cursor_class()(connection.connection)
        if connection.queries_logged:
            return connection.make_debug_cursor(raw)
        return connection.make_cursor(raw)

    def results(self) -> tuple[list[Facility], int]:
        """The requested page as Facility objects (municipality and capabilities loaded) and
        the total count: for the HTML pages, which link and format through the model."""
        keys, total = self.page_keys()
        if not keys:
            return [], total
        # No ORDER BY: the keys carry the order.
        wanted = Facility.objects.filter(pk__in=[k[0] for k in keys]).order_by()
        by_pk = {f.pk: f for f in wanted.select_related("municipality")}
        page = []
        for pk, dist2, _ in keys:
            f = by_pk[pk]
            if dist2 is not None:
                f.dist2 = dist2  # type: ignore[attr-defined]
            f.distance_km = math.sqrt(dist2) if dist2 is not None else None  # type: ignore[attr-defined]
            page.append(f)
        # The tags from capability_mask and the shared vocabulary, as the API decodes them:
        # no query and no related manager per row (the HTML page's result loop; ADR 0040).
        vocab = vocabulary(
            mask=functools.reduce(operator.or_, (f.capability_mask for f in page), 0)
        )
        for f in page:
            f.capability_tags = vocab.of(f.capability_mask)  # type: ignore[attr-defined]
        return page, total

    def _count_first(self, cursor: Any) -> tuple[int | None, bool]:
        """Without a radius the total is counted on its own (the window would defeat an
        index-ordered LIMIT): (that total, whether the page lies past the end). With a radius,
        (None, False): the total rides along with the keys."""
        limit = settings.SEARCH_COUNT_LIMIT
        start = (self.page - 1) * self.per_page
        if self.radius_km is not None:
            return None, False
        if self.candidates_capped() and start < limit:
            return None, False  # counted over the candidates, in the page's statement
        cursor.execute(*self.capped_count_sql(limit))
        total = int(cursor.fetchone()[0])
        if total <= limit:
            return total, start >= total
        self.total_exact = False
        total = limit
        if self.unfiltered():
            estimate = _estimated_active_facilities(cursor)
            if estimate > limit:
                total, self.total_estimated = estimate, True
        # Past the cut of a name search's candidates there is nothing; other searches go on
        # past the counted limit (the API pages through a whole municipality).
        return total, self.candidates_capped() and start >= limit

    def _total(self, keys: list[tuple[Any, ...]], total: int | None) -> int:
        if total is not None:
            return total
        if keys:
            counted = int(keys[0][2])
        elif self.page == 1:
            counted = 0
        else:
            # Past the last page: the window had no row to ride on.
            with fsql.facility_connection().cursor() as cursor:
                if self.candidates_capped():
                    cursor.execute(*self.capped_count_sql(settings.SEARCH_COUNT_LIMIT))
                else:
                    cursor.execute(*self.count_sql())
                counted = int(cursor.fetchone()[0])
        if self.candidates_capped() and counted > settings.SEARCH_COUNT_LIMIT:
            self.total_exact = False
            return settings.SEARCH_COUNT_LIMIT
        return counted

    def rows(self, columns: Sequence[str]) -> tuple[list[dict[str, Any]], int]:
        """The requested page as plain dicts and the total count: for the JSON API.

        Same keys, order and total as results(), in one statement (the keys joined to the
        rows they pick) and without model instances: the API renders twenty rows per request
        at hundreds of requests a second, and the ORM round trips, instances and related
        managers were half of its CPU time (docs/benchmarks.md). Each dict has the Facility
        `columns` (values as the ORM gives them), municipality_code, municipality_name,
        distance_km and capability_codes (decoded from capability_mask).
        """
        connection = fsql.facility_connection()
        with self._name_search_memory(), connection.cursor() as cursor:
            total, past_end = self._count_first(cursor)
            if past_end:
                return [], total or 0
            self._choose_candidates(cursor)
            keys_sql, params = self.keys_sql()
            fixed = "k._k, k._d, k._t, r.capability_mask, m.code, m.name"
            select, compiler, converters = _row_columns(connection.alias, tuple(columns), 6)
            with self._statement_cursor(cursor) as run:
                run.execute(
                    f"SELECT {fixed}, {select} FROM ({keys_sql}) k"
                    f" INNER JOIN {Facility._meta.db_table} r ON r.id = k._k"
                    f" INNER JOIN {Municipality._meta.db_table} m ON m.id = r.municipality_id"
                    f" ORDER BY {fsql.order_sql(self.ordering(), 'r', 'k._d')}",
                    params,
                )
                raw = run.fetchall()
        if converters:
            raw = list(compiler.apply_converters(raw, converters))
        if not raw:
            return [], self._total([], total)
        vocab = vocabulary(mask=functools.reduce(operator.or_, (r[3] for r in raw), 0))
        out = []
        for r in raw:
            row = dict(zip(columns, r[6:], strict=True))
            row["municipality_code"] = r[4]
            row["municipality_name"] = r[5]
            row["distance_km"] = math.sqrt(r[1]) if r[1] is not None else None
            row["capability_codes"] = vocab.codes_of(r[3])
            out.append(row)
        return out, self._total([tuple(raw[0][:3])], total)

    def describe(self) -> list[str]:
        """The active filters in words, for the page to show what the results are of
        (「訪問看護ステーション」「吸引」「空きあり」 …); the sort order is not a filter."""
        out: list[str] = []
        if self.q:
            out.append(f"「{self.q}」")
        kinds = dict(FacilityKind.choices)
        out += [str(kinds[k]) for k in self.kinds if k in kinds]
        if self.capabilities:
            by_code = vocabulary(codes=self.capabilities).by_code
            out += [by_code[c].name for c in self.capabilities if c in by_code]
        if self.vacancy:
            out.append("空きあり")
        if self.prefecture:
            pref = Prefecture.objects.filter(code=self.prefecture).first()
            if pref is not None:
                out.append(pref.name)
        if self.area is not None:
            area = SecondaryArea.objects.filter(pk=self.area).first()
            if area is not None:
                out.append(f"{area.name}医療圏")
        if self.municipalities:
            names = dict(
                Municipality.objects.filter(code__in=self.municipalities).values_list(
                    "code", "name"
                )
            )
            out += [names.get(code, code) for code in self.municipalities]
        if self.serves_municipality is not None:
            out.append(f"{self.serves_municipality.name}に訪問・対応")
        if self.point is not None and self.radius_km is not None:
            out.append(f"{self.point_label}から{self.radius_km:g}km以内")
        return out

    def as_params(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "kind": self.kinds,
            "capability": self.capabilities,
            "municipality": self.municipalities,
            "prefecture": self.prefecture,
            "area": self.area,
            "vacancy": "1" if self.vacancy else "",
            "serves": self.serves,
            "lat": self.lat,
            "lng": self.lng,
            "postal": self.postal,
            "near": self.near,
            "radius_km": self.radius_km,
            "sort": self.sort,
        }


@functools.cache
def _preparing_cursor_class() -> type[Any]:
    """The backend's preparing cursor (renkei.lib.postgresql, ADR 0011): a radius search's
    statement has the same text for any point, radius and number of grid cells (arrays, not
    IN lists), so PostgreSQL parses and plans it once per connection: planning was a fifth of
    the database's work per search (docs/benchmarks.md)."""
    from renkei.lib.postgresql.base import PreparingCursor

    return PreparingCursor


@functools.lru_cache(maxsize=32)
def _row_columns(
    alias: str, columns: tuple[str, ...], skip: int
) -> tuple[str, Any, dict[int, Any]]:
    """For rows(): the SQL of Facility `columns` on alias r, and the ORM's own conversions of
    them read raw (SQLite's text datetimes and integer booleans, …) for rows whose first `skip`
    values are not columns. Worked out once per column set, not per request."""
    fields = [cast("models.Field[Any, Any]", Facility._meta.get_field(c)) for c in columns]
    compiler = Facility.objects.using(alias).none().query.get_compiler(using=alias)
    expressions: list[Col | None] = [None] * skip
    expressions += [Col("r", f) for f in fields]
    select = ", ".join(f"r.{f.column}" for f in fields)
    return select, compiler, compiler.get_converters(expressions)


def attach_capabilities(facilities: list[Facility]) -> None:
    """Load f.capabilities.all() for a page in one query, in the vocabulary's order."""
    prefetch_related_objects(facilities, "capabilities")


def municipality_for_postal(postal: str) -> Municipality | None:
    from renkei.lib.postal import municipality_code5, normalize_postal

    if len(normalize_postal(postal)) != 7:
        raise SearchError(f"郵便番号は7桁で入力してください（{postal}）")
    code5 = municipality_code5(postal)
    if code5 is None:
        return None
    return Municipality.objects.filter(code__startswith=code5).select_related("parent").first()


def resolve_place(text: str) -> Municipality | None:
    """A postal code, or an address/municipality name (「藤沢市鵠沼…」), to a municipality."""
    text = text.strip()
    digits = re.sub(r"[\s\-ー－〒]", "", text)
    if re.fullmatch(r"[0-9０-９]{7}", digits):
        return municipality_for_postal(digits)
    from renkei.lib.text import nfkc

    address = nfkc(text)
    for pref_name in Prefecture.objects.values_list("name", flat=True):
        if address.startswith(pref_name):
            address = address[len(pref_name) :]
            break
    # Longest municipality name that prefixes the address wins (横浜市青葉区 over 横浜市).
    candidates = Municipality.objects.filter(is_designated_city=False).only(
        "name", "code", "parent"
    )
    best: Municipality | None = None
    for m in candidates.filter(name__in=_prefixes(address)):
        if best is None or len(m.name) > len(best.name):
            best = m
    return best


def _prefixes(text: str) -> list[str]:
    return [text[:i] for i in range(2, min(len(text), 12) + 1)]
