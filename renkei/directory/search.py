"""Facility search shared by the HTML views, the JSON API, exports and the HSDS feed."""

from __future__ import annotations

import functools
import math
import operator
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.db import connections, models
from django.db.models import F, FloatField, Func, Q
from django.db.models.expressions import Col
from django.http import QueryDict

from renkei.directory.models import (
    Capability,
    Facility,
    FacilityKind,
    VacancyStatus,
    vocabulary,
)
from renkei.lib.geo import KM_PER_DEG_LAT, cells_covering, lng_scale
from renkei.lib.text import normalize_search
from renkei.regions.models import Municipality, SecondaryArea

MAX_RADIUS_KM = 200.0
MAX_PER_PAGE = 100
SORTS = {"distance": "距離が近い順", "name": "名称順", "fresh": "更新が新しい順"}


def squared_distance_sql(lat: str, lng: str, lat0: float, lng0: float) -> tuple[str, list[Any]]:
    """SQL for the squared distance in km² of columns (lat, lng) from (lat0, lng0):
    equirectangular (renkei.lib.geo), arithmetic only, the same on SQLite and PostgreSQL."""
    ky, kx = KM_PER_DEG_LAT, lng_scale(lat0)
    sql = f"(({lat} - %s) * ({lat} - %s) * %s + ({lng} - %s) * ({lng} - %s) * %s)"
    return sql, [lat0, lat0, ky * ky, lng0, lng0, kx * kx]


class SquaredDistance(Func):
    """squared_distance_sql() as an ORM expression.

    One expression node instead of the eleven that F() arithmetic builds: a search resolves
    and compiles it in its SELECT, WHERE and ORDER BY.
    """

    output_field = FloatField()

    def __init__(self, lat0: float, lng0: float) -> None:
        super().__init__(F("lat"), F("lng"))
        self.point = (lat0, lng0)

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        # Columns compile without parameters.
        lat, _ = compiler.compile(self.source_expressions[0])
        lng, _ = compiler.compile(self.source_expressions[1])
        return squared_distance_sql(lat, lng, *self.point)

    @property
    def identity(self) -> tuple[Any, ...]:
        return (type(self), self.point)


class SearchError(ValueError):
    """A malformed search; the message is shown to the user as is."""


@dataclass
class FacilitySearch:
    q: str = ""
    kinds: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
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

        def integer(name: str, label: str, default: int) -> int:
            raw = one(name)
            if not raw:
                return default
            if not raw.isdigit():
                raise SearchError(f"{label}は1以上の整数で指定してください（{raw}）")
            return int(raw)

        area_raw = one("area")
        if area_raw and not area_raw.isdigit():
            raise SearchError(f"二次医療圏の指定が正しくありません（{area_raw}）")
        search = cls(
            q=one("q")[:100],
            kinds=many("kind"),
            capabilities=many("capability"),
            municipalities=many("municipality"),
            area=int(area_raw) if area_raw else None,
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
        valid_kinds = set(FacilityKind.values)
        bad = [k for k in self.kinds if k not in valid_kinds]
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
        if self.area is not None and not SecondaryArea.objects.filter(pk=self.area).exists():
            raise SearchError("指定された二次医療圏が見つかりません")
        if self.page < 1:
            raise SearchError("ページは1以上で指定してください")
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
            if not (20 <= self.lat <= 46 and 122 <= self.lng <= 154):
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
    def queryset(self) -> models.QuerySet[Facility]:
        qs = Facility.objects.public()
        if self.q:
            needle = normalize_search(self.q)
            if needle:
                qs = qs.filter(search_text__contains=needle)
        if self.kinds:
            qs = qs.filter(kind__in=self.kinds)
        if self.capability_mask:
            qs = qs.with_capabilities(self.capability_mask)
        if self.municipalities:
            qs = qs.filter(
                Q(municipality__code__in=self.municipalities)
                | Q(municipality__parent__code__in=self.municipalities)
            )
        if self.area is not None:
            qs = qs.filter(
                Q(municipality__secondary_area_id=self.area)
                | Q(municipality__parent__secondary_area_id=self.area)
            )
        if self.vacancy:
            qs = qs.filter(vacancy_status__in=[VacancyStatus.AVAILABLE, VacancyStatus.FEW])
        if self.serves_municipality is not None:
            qs = qs.filter(serves_q(self.serves_municipality))
        if self.point is not None:
            lat0, lng0 = self.point
            qs = qs.annotate(dist2=SquaredDistance(lat0, lng0))
            if self.radius_km is not None:
                qs = qs.filter(geo_cell__in=cells_covering(lat0, lng0, self.radius_km)).filter(
                    **{"dist2__lte": self.radius_km**2}
                )
        return qs.order_by(*self.ordering())

    def ordering(self) -> list[str]:
        sort = self.sort or ("distance" if self.point is not None else "name")
        if sort == "distance":
            return ["dist2", "id"]
        if sort == "fresh":
            return [F("vacancy_confirmed_at").desc(nulls_last=True), "id"]  # type: ignore[list-item]
        return ["kana", "name", "id"]

    def keys_sql(self) -> tuple[str, list[Any]]:
        """The statement for the requested page's keys: rows of (_k id, _d dist² or NULL,
        _t total or NULL), in order. queryset()'s filters and ordering, written out.

        Written by hand, not compiled from queryset(), because the JSON API answers hundreds
        of searches a second and building and compiling the queryset was a third of a
        request's CPU time (docs/benchmarks.md). test_search_sql holds the two to the same
        results over every filter.

        A radius search reads only columns of facility_search_idx, so PostgreSQL ranks the
        candidates from the index alone (index-only scan). The circle bounds the candidates and
        the sort reads them all anyway, so there the total rides along as a window count: one
        scan instead of two.
        """
        where, params = self._where_sql()
        if self.point is not None:
            dist, dist_params = squared_distance_sql("f.lat", "f.lng", *self.point)
        else:
            dist, dist_params = "NULL", []
        total = "COUNT(*) OVER ()" if self.radius_km is not None else "NULL"
        start = (self.page - 1) * self.per_page
        sql = (
            f"SELECT f.id AS _k, {dist} AS _d, {total} AS _t FROM {Facility._meta.db_table} f"
            f" WHERE {where} ORDER BY {self._order_sql('_d', 'f')} LIMIT %s OFFSET %s"
        )
        return sql, [*dist_params, *params, self.per_page, start]

    def count_sql(self) -> tuple[str, list[Any]]:
        where, params = self._where_sql()
        return f"SELECT COUNT(*) FROM {Facility._meta.db_table} f WHERE {where}", params

    def _where_sql(self) -> tuple[str, list[Any]]:
        connection = connections[Facility.objects.db]
        muni = Municipality._meta.db_table
        served = Facility.service_municipalities.through._meta.db_table
        terms: list[str] = ["f.is_active"]
        params: list[Any] = []

        def add(sql: str, *values: Any) -> None:
            terms.append(sql)
            params.extend(values)

        def among(column: str, values: Sequence[Any]) -> str:
            """`column IN values`, the values appended to params: one array parameter on
            PostgreSQL, so that a statement's text does not change with how many values it
            has and a prepared statement serves every radius search (rows())."""
            if connection.vendor == "postgresql":
                params.append(list(values))
                return f"{column} = ANY(%s)"
            params.extend(values)
            return f"{column} IN ({', '.join(['%s'] * len(values))})"

        if self.q and (needle := normalize_search(self.q)):
            like = connection.operators["contains"]  # type: ignore[attr-defined]
            add(f"f.search_text {like}", f"%{connection.ops.prep_for_like_query(needle)}%")
        if self.kinds:
            terms.append(among("f.kind", self.kinds))
        if self.capability_mask:
            add("(f.capability_mask & %s) = %s", self.capability_mask, self.capability_mask)
        if self.municipalities:
            codes = self.municipalities
            mine = among("m.code", codes)
            parents = among("p.code", codes)
            terms.append(
                f"f.municipality_id IN (SELECT m.id FROM {muni} m LEFT JOIN {muni} p"
                f" ON p.id = m.parent_id WHERE {mine} OR {parents})"
            )
        if self.area is not None:
            add(
                f"f.municipality_id IN (SELECT m.id FROM {muni} m LEFT JOIN {muni} p"
                " ON p.id = m.parent_id WHERE m.secondary_area_id = %s"
                " OR p.secondary_area_id = %s)",
                self.area,
                self.area,
            )
        if self.vacancy:
            # Constants, not parameters: a prepared statement's generic plan then still
            # reads the statuses from the index (facility_search_idx).
            terms.append(
                f"f.vacancy_status IN ('{VacancyStatus.AVAILABLE}', '{VacancyStatus.FEW}')"
            )
        if self.serves_municipality is not None:
            m = self.serves_municipality
            ids = [m.pk] + ([m.parent_id] if m.parent_id else [])
            listed = among("municipality_id", ids)
            located = among("f.municipality_id", ids)
            in_ward = among("parent_id", ids)
            terms.append(
                f"(f.id IN (SELECT facility_id FROM {served} WHERE {listed}) OR {located}"
                f" OR f.municipality_id IN (SELECT id FROM {muni} WHERE {in_ward}))"
            )
        if self.point is not None and self.radius_km is not None:
            cells = cells_covering(*self.point, self.radius_km)
            dist, dist_params = squared_distance_sql("f.lat", "f.lng", *self.point)
            terms.append(among("f.geo_cell", cells))
            add(f"{dist} <= %s", *dist_params, self.radius_km**2)
        return " AND ".join(terms), params

    def _order_sql(self, dist: str, table: str) -> str:
        """ordering() in SQL, over the alias of dist² and that of the facility table."""
        sort = self.sort or ("distance" if self.point is not None else "name")
        if sort == "distance":
            return f"{dist}, {table}.id"
        if sort == "fresh":
            confirmed = f"{table}.vacancy_confirmed_at"
            return f"{confirmed} IS NULL, {confirmed} DESC, {table}.id"
        return f"{table}.kana, {table}.name, {table}.id"

    def page_keys(self) -> tuple[list[tuple[Any, ...]], int]:
        """The requested page's keys, (id, dist² or None, total or None), and the total."""
        with connections[Facility.objects.db].cursor() as cursor:
            total, past_end = self._count_first(cursor)
            if past_end:
                return [], total or 0
            with self._statement_cursor(cursor) as run:
                run.execute(*self.keys_sql())
                keys = [tuple(k) for k in run.fetchall()]
        return keys, self._total(keys, total)

    def _statement_cursor(self, cursor: Any) -> Any:
        """The cursor for the page's statement: a preparing one for a radius search on
        PostgreSQL (parsed and planned once per connection; ADR 0011), else `cursor` (closing
        it twice is harmless)."""
        connection = connections[Facility.objects.db]
        if (
            self.radius_km is None
            or connection.vendor != "postgresql"
            or not settings.DB_PREPARED_SEARCH
        ):
            return cursor
        return connection._prepare_cursor(_preparing_cursor_class()(connection.connection))  # type: ignore[attr-defined]

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
        attach_capabilities(page, self.vocabulary())
        return page, total

    def _count_first(self, cursor: Any) -> tuple[int | None, bool]:
        """Without a radius the total is counted on its own (the window would defeat an
        index-ordered LIMIT): (that total, whether the page lies past the end). With a radius,
        (None, False): the total rides along with the keys."""
        if self.radius_km is not None:
            return None, False
        cursor.execute(*self.count_sql())
        total = int(cursor.fetchone()[0])
        return total, (self.page - 1) * self.per_page >= total

    def _total(self, keys: list[tuple[Any, ...]], total: int | None) -> int:
        if total is not None:
            return total
        if keys:
            return int(keys[0][2])
        # Past the last page of a radius search: the window had no row to ride on.
        if self.page == 1:
            return 0
        with connections[Facility.objects.db].cursor() as cursor:
            cursor.execute(*self.count_sql())
            return int(cursor.fetchone()[0])

    def rows(self, columns: Sequence[str]) -> tuple[list[dict[str, Any]], int]:
        """The requested page as plain dicts and the total count: for the JSON API.

        Same keys, order and total as results(), in one statement (the keys joined to the
        rows they pick) and without model instances: the API renders twenty rows per request
        at hundreds of requests a second, and the ORM round trips, instances and related
        managers were half of its CPU time (docs/benchmarks.md). Each dict has the Facility
        `columns` (values as the ORM gives them), municipality_code, municipality_name,
        distance_km and capability_codes (decoded from capability_mask).
        """
        connection = connections[Facility.objects.db]
        with connection.cursor() as cursor:
            total, past_end = self._count_first(cursor)
            if past_end:
                return [], total or 0
            keys_sql, params = self.keys_sql()
            fixed = "k._k, k._d, k._t, r.capability_mask, m.code, m.name"
            select, compiler, converters = _row_columns(connection.alias, tuple(columns), 6)
            with self._statement_cursor(cursor) as run:
                run.execute(
                    f"SELECT {fixed}, {select} FROM ({keys_sql}) k"
                    f" INNER JOIN {Facility._meta.db_table} r ON r.id = k._k"
                    f" INNER JOIN {Municipality._meta.db_table} m ON m.id = r.municipality_id"
                    f" ORDER BY {self._order_sql('k._d', 'r')}",
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

    def vocabulary(self) -> dict[int, Capability]:
        return vocabulary().by_pk

    def as_params(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "kind": self.kinds,
            "capability": self.capabilities,
            "municipality": self.municipalities,
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
    """Django's server-side-binding cursor for psycopg, preparing every statement it runs.

    Django turns psycopg's automatic preparation off (prepare_threshold None) for the sake of
    connection poolers; this cursor prepares explicitly, and only the radius searches use it.
    A radius search's statement has the same text for any point, radius and number of grid
    cells (arrays, not IN lists), so PostgreSQL parses and plans it once per connection:
    planning was a fifth of the database's work per search (docs/benchmarks.md).
    """
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True)  # type: ignore[misc]

        def _convert_query(self, query: Any, params: Any = None) -> Any:
            # psycopg records the statement it sent (which Django's query log reads) only
            # when it is not prepared; record it either way.
            self._query = converted = super()._convert_query(query, params)  # type: ignore[misc]
            return converted

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


def attach_capabilities(
    facilities: list[Facility], vocabulary: dict[int, Capability] | None = None
) -> None:
    """Load f.capabilities.all() for a page, as prefetch_related("capabilities") would.

    The generic prefetch joins and builds one Capability object per link; a page of twenty
    costs ~5 ms, a third of a search request. The links as flat pairs and shared Capability
    objects (the vocabulary the search already read, if given) do the same in a fraction.
    """
    if not facilities:
        return
    through = Facility.capabilities.through
    links = list(
        through.objects.filter(facility_id__in=[f.pk for f in facilities]).values_list(
            "facility_id", "capability_id"
        )
    )
    caps = dict(vocabulary or {})
    # A capability created since the vocabulary was read is loaded here.
    missing = {cid for _, cid in links} - caps.keys()
    if missing:
        caps.update((c.pk, c) for c in Capability.objects.filter(pk__in=missing))
    owned: dict[int, list[Capability]] = {}
    for fid, cid in links:
        owned.setdefault(fid, []).append(caps[cid])
    for f in facilities:
        qs = f.capabilities.get_queryset()
        # Capability.Meta.ordering, as the prefetch would return them.
        qs._result_cache = sorted(owned.get(f.pk, []), key=lambda c: (c.sort_order, c.code))
        qs._prefetch_done = True  # type: ignore[attr-defined]
        f._prefetched_objects_cache = {"capabilities": qs}  # type: ignore[attr-defined]


def serves_q(muni: Municipality) -> Q:
    """Facilities that serve a municipality: listed in their service area, or located in it."""
    ids = [muni.pk] + ([muni.parent_id] if muni.parent_id else [])
    # A subquery, not a join: a facility listing several of the ids must appear once.
    listed = Facility.service_municipalities.through.objects.filter(municipality_id__in=ids).values(
        "facility_id"
    )
    return Q(pk__in=listed) | Q(municipality_id__in=ids) | Q(municipality__parent_id__in=ids)


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
    from renkei.regions.models import Prefecture

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
