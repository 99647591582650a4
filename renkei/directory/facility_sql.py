"""The facility query, written once: SQL fragments over the facility table.

Three features ask the same questions of the directory — within this radius, serving that
municipality, with all of these capabilities, sorted by distance — and each used to write them
out itself (ADR 0024). They are written here once, as functions that return a fragment of SQL
with its parameters for a given alias of the facility table:

- the directory search (search.py) runs them in its hand-written page statement, and through
  FacilityCondition in the ORM queryset that the exports, map, HSDS and FHIR feeds chain;
- the placement matching (referrals/matching.py) composes its candidate statement from them;
- the reverse search (matching.find_hospitals) filters and sorts its ORM queryset with them.

Plain SQL that PostgreSQL and SQLite both run. On PostgreSQL a list of values is one array
parameter (`= ANY(%s)`), so that a statement's text does not change with the number of values
and a prepared statement serves every radius search (ADR 0011).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Func

from renkei.lib.geo import KM_PER_DEG_LAT, cells_covering, lng_scale

FACILITY = "directory_facility"
MUNICIPALITY = "regions_municipality"
PREFECTURE = "regions_prefecture"
SERVICE_AREA = "directory_facility_service_municipalities"
# Statuses spelled as constants, not parameters: a prepared statement's generic plan then
# still reads them from the index (facility_search_idx).
VACANT_STATUSES = ("available", "few")


class SQL:
    """A fragment of SQL with its parameters; combining keeps placeholders and values in step."""

    __slots__ = ("params", "text")

    def __init__(self, text: str = "", params: Sequence[Any] = ()) -> None:
        self.text, self.params = text, list(params)

    def __and__(self, other: SQL) -> SQL:
        return SQL(f"({self.text}) AND ({other.text})", self.params + other.params)

    def __or__(self, other: SQL) -> SQL:
        return SQL(f"({self.text}) OR ({other.text})", self.params + other.params)

    def __invert__(self) -> SQL:
        return SQL(f"NOT ({self.text})", self.params)

    def __repr__(self) -> str:
        return f"SQL({self.text!r}, {self.params!r})"

    @staticmethod
    def all(parts: Iterable[SQL]) -> SQL:
        """The parts joined by AND, flat (no nesting): the search's WHERE clause."""
        parts = list(parts)
        return SQL(" AND ".join(p.text for p in parts), [v for p in parts for v in p.params])


def facility_connection() -> BaseDatabaseWrapper:
    """The connection the facility table is read through."""
    from renkei.directory.models import Facility

    return connections[Facility.objects.db]


def among(column: str, values: Iterable[Any], connection: BaseDatabaseWrapper) -> SQL:
    """`column IN values`: one array parameter on PostgreSQL (the statement's text is the same
    for any number of values), a list of placeholders elsewhere; no values, no rows."""
    values = list(values)
    if connection.vendor == "postgresql":
        return SQL(f"{column} = ANY(%s)", [values])
    if not values:
        return SQL("1 = 0")
    return SQL(f"{column} IN ({', '.join(['%s'] * len(values))})", values)


def squared_distance(t: str, point: tuple[float, float]) -> SQL:
    """The squared distance in km² of facility `t` from `point`: equirectangular
    (renkei.lib.geo), arithmetic only, the same on SQLite and PostgreSQL."""
    lat0, lng0 = point
    ky, kx = KM_PER_DEG_LAT, lng_scale(lat0)
    return SQL(
        f"(({t}.lat - %s) * ({t}.lat - %s) * %s + ({t}.lng - %s) * ({t}.lng - %s) * %s)",
        [lat0, lat0, ky * ky, lng0, lng0, kx * kx],
    )


def within(
    t: str, point: tuple[float, float], radius_km: float, connection: BaseDatabaseWrapper
) -> SQL:
    """Facilities within `radius_km` of `point`: the grid cells covering the circle bound the
    rows through an index, the distance cuts the corners."""
    cells = among(f"{t}.geo_cell", cells_covering(*point, radius_km), connection)
    dist = squared_distance(t, point)
    return cells & SQL(f"{dist.text} <= %s", [*dist.params, radius_km * radius_km])


def within_service_radius(t: str, point: tuple[float, float]) -> SQL:
    """Home-visiting providers whose declared visiting radius reaches `point`."""
    dist = squared_distance(t, point)
    return SQL(
        f"{t}.service_radius_km IS NOT NULL"
        f" AND {dist.text} <= {t}.service_radius_km * {t}.service_radius_km",
        dist.params,
    )


def active(t: str) -> SQL:
    return SQL(f"{t}.is_active")


def bigrams(text: str) -> list[str]:
    """The distinct two-character substrings of `text`, as the database's renkei_bigrams()."""
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def name_contains(
    t: str,
    needle: str,
    connection: BaseDatabaseWrapper,
    *,
    how: str = "indexed",
    kinds: Sequence[str] = (),
) -> SQL:
    """`needle` (already normalize_search()ed) anywhere in the facility's search text.

    On PostgreSQL a needle of two characters or more also asks for its bigrams, which the GIN
    index facility_name_bigram_idx answers (ADR 0040): the rows that hold every bigram are the
    candidates, the LIKE checks them. Without it the search read every row of the table.
    `kinds`: the search's kinds (of_kinds() still states the condition), asked of the same
    index as terms "#<kind>" (ADR 0072), so that the candidates are those of these kinds only:
    a common word with a rare kind read most of the table's pages to keep 2 % of its rows.
    how="like": the LIKE alone, whose selectivity the planner estimates from the column's
    statistics. how="filter": the same test as strpos() (PostgreSQL), a filter on rows read in
    another index's order (a common word's walk, ADR 0040), cheaper per row than LIKE."""
    if connection.vendor == "postgresql" and how == "filter":
        return SQL(f"strpos({t}.search_text, %s) > 0", [needle])
    like = connection.operators["contains"]  # type: ignore[attr-defined]
    contains = SQL(f"{t}.search_text {like}", [f"%{connection.ops.prep_for_like_query(needle)}%"])
    if connection.vendor != "postgresql" or len(needle) < 2 or how != "indexed":
        return contains
    terms = f"renkei_name_terms({t}.search_text, {t}.kind)"
    kind_terms = sorted({f"#{k}" for k in kinds})
    if len(kind_terms) == 1:
        # One kind: a term the row must hold, like the bigrams.
        grams = SQL(f"{terms} @> %s::text[]", [bigrams(needle) + kind_terms])
    elif kind_terms:
        grams = SQL(
            f"{terms} @> %s::text[] AND {terms} && %s::text[]", [bigrams(needle), kind_terms]
        )
    else:
        grams = SQL(f"{terms} @> %s::text[]", [bigrams(needle)])
    return SQL(f"{grams.text} AND {contains.text}", grams.params + contains.params)


def of_kinds(t: str, kinds: Iterable[str], connection: BaseDatabaseWrapper) -> SQL:
    return among(f"{t}.kind", [str(k) for k in kinds], connection)


def with_all_capabilities(t: str, mask: int) -> SQL:
    return SQL(f"({t}.capability_mask & %s) = %s", [mask, mask])


def with_capability(t: str, bit: int) -> SQL:
    return SQL(f"({t}.capability_mask & %s) <> 0", [1 << bit])


def with_vacancy(t: str) -> SQL:
    statuses = ", ".join(f"'{s}'" for s in VACANT_STATUSES)
    return SQL(f"{t}.vacancy_status IN ({statuses})")


def in_municipalities(t: str, codes: Sequence[str], connection: BaseDatabaseWrapper) -> SQL:
    """Located in one of the municipalities (by code), a designated city's wards included."""
    mine = among("m.code", codes, connection)
    parents = among("p.code", codes, connection)
    return SQL(
        f"{t}.municipality_id IN (SELECT m.id FROM {MUNICIPALITY} m LEFT JOIN {MUNICIPALITY} p"
        f" ON p.id = m.parent_id WHERE {mine.text} OR {parents.text})",
        mine.params + parents.params,
    )


def in_prefecture(t: str, code: str) -> SQL:
    """Located in the prefecture (by its two-digit code); wards carry their prefecture too."""
    return SQL(
        f"{t}.municipality_id IN (SELECT m.id FROM {MUNICIPALITY} m INNER JOIN {PREFECTURE} p"
        " ON p.id = m.prefecture_id WHERE p.code = %s)",
        [code],
    )


def in_secondary_area(t: str, area_id: int) -> SQL:
    return SQL(
        f"{t}.municipality_id IN (SELECT m.id FROM {MUNICIPALITY} m LEFT JOIN {MUNICIPALITY} p"
        " ON p.id = m.parent_id WHERE m.secondary_area_id = %s OR p.secondary_area_id = %s)",
        [area_id, area_id],
    )


def located_in(t: str, municipality_ids: Sequence[int], connection: BaseDatabaseWrapper) -> SQL:
    """Located in one of the municipalities (by id) or in one of their wards."""
    located = among(f"{t}.municipality_id", municipality_ids, connection)
    in_ward = among("parent_id", municipality_ids, connection)
    return located | SQL(
        f"{t}.municipality_id IN (SELECT id FROM {MUNICIPALITY} WHERE {in_ward.text})",
        in_ward.params,
    )


def listing_in_service_area(
    t: str, municipality_ids: Sequence[int], connection: BaseDatabaseWrapper
) -> SQL:
    """Facilities that list one of the municipalities in their declared service area.

    A subquery, not a join: a facility listing several of them appears once."""
    listed = among("municipality_id", municipality_ids, connection)
    return SQL(
        f"{t}.id IN (SELECT facility_id FROM {SERVICE_AREA} WHERE {listed.text})", listed.params
    )


def self_and_city(municipality: Any) -> list[int]:
    """A municipality's id and, for a ward, its designated city's."""
    return [municipality.pk] + ([municipality.parent_id] if municipality.parent_id else [])


def serving(t: str, municipality: Any, connection: BaseDatabaseWrapper) -> SQL:
    """Facilities that serve a municipality: listed in their service area, or located in it."""
    ids = self_and_city(municipality)
    return listing_in_service_area(t, ids, connection) | located_in(t, ids, connection)


# Ordering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One sort key: a column of the facility table, or "dist2" (the squared distance)."""

    column: str
    descending: bool = False
    nulls_last: bool = False


DISTANCE = "dist2"
ORDERINGS: dict[str, tuple[Key, ...]] = {
    "distance": (Key(DISTANCE), Key("id")),
    "name": (Key("kana"), Key("name"), Key("id")),
    "fresh": (Key("vacancy_confirmed_at", descending=True, nulls_last=True), Key("id")),
}


def order_sql(keys: Sequence[Key], t: str, dist: str = DISTANCE) -> str:
    """An ORDER BY list over alias `t` of the facility table and `dist` for the distance.
    NULLS LAST as `IS NULL` first: SQLite before 3.30 and PostgreSQL read it alike."""
    out = []
    for k in keys:
        column = dist if k.column == DISTANCE else f"{t}.{k.column}"
        if k.nulls_last:
            out.append(f"{column} IS NULL")
        out.append(f"{column} DESC" if k.descending else column)
    return ", ".join(out)


def order_by(keys: Sequence[Key]) -> list[models.OrderBy]:
    """The same ordering for the ORM (the distance annotated as "dist2")."""
    return [
        F(k.column).desc(nulls_last=k.nulls_last or None)
        if k.descending
        else F(k.column).asc(nulls_last=k.nulls_last or None)
        for k in keys
    ]


# The fragments in the ORM -------------------------------------------------------------------

Builder = Callable[[str, BaseDatabaseWrapper], SQL]


class FacilitySQL(Func):
    """A fragment over the facility table as an ORM expression, for filter(), annotate() and
    order_by(): built at compile time for the alias the query gives the table (its own name,
    or U0 inside a subquery), so the queryset chains and nests like any other.

    `key` identifies the fragment (two expressions with equal keys are the same SQL).
    """

    def __init__(self, build: Builder, key: Hashable, output_field: models.Field[Any, Any]) -> None:
        super().__init__(F("pk"), output_field=output_field)
        self.build, self.key = build, key

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        # The primary key compiles to `<alias>.<column>` without parameters.
        pk, _ = compiler.compile(self.source_expressions[0])
        fragment = self.build(pk.rsplit(".", 1)[0], connection)
        return fragment.text, fragment.params

    @property
    def identity(self) -> tuple[Any, ...]:
        return (type(self), self.key)


def condition(build: Builder, key: Hashable) -> FacilitySQL:
    """A boolean fragment for QuerySet.filter()."""
    return FacilitySQL(build, key, models.BooleanField())


class SquaredDistance(FacilitySQL):
    """squared_distance() as an ORM expression: one node instead of the eleven that F()
    arithmetic builds, resolved and compiled in a search's SELECT, WHERE and ORDER BY."""

    def __init__(self, lat0: float, lng0: float) -> None:
        point = (lat0, lng0)
        super().__init__(
            lambda t, _c: squared_distance(t, point), ("dist2", point), models.FloatField()
        )
        self.point = point


def within_condition(point: tuple[float, float], radius_km: float) -> FacilitySQL:
    return condition(lambda t, c: within(t, point, radius_km, c), ("within", point, radius_km))
