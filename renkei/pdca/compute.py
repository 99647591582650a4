"""Indicators computed from the platform's own records, set-based (ADR 0028).

One GROUP BY (municipality, fiscal year[, dimension]) statement per source, over the fiscal
years' date range, never one query per municipality; the incremental form adds the one
municipality to each statement's WHERE. The values are then replaced in one transaction,
zeros included (no consultation in a year is a figure, not a gap): on PostgreSQL one INSERT …
ON CONFLICT over arrays that rewrites only the figures that changed (ADR 0049), on SQLite the
scope's rows deleted and inserted again.

Fiscal years are Japan time's April–March. Timestamps are stored in UTC, so the year is
taken from the time shifted to Japan and back three months; the WHERE uses the UTC bounds
of the years, which the indexes on the timestamp columns serve.

Facility counts are a snapshot of the directory: they are computed for the current fiscal
year only, and a past year keeps the snapshot taken while it was current.
"""

# ruff: noqa: S608 - table names come from the models' Meta, every value is a bound parameter

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from renkei.accounts.models import Organization
from renkei.care.models import ADMISSION_INFO_DAYS, FormKind, SharedForm
from renkei.desk.models import Consultation, Desk
from renkei.directory.models import Facility
from renkei.events.models import Applicant, Event
from renkei.lib.dates import fiscal_year, fiscal_year_range
from renkei.mentoring.models import Match, TraineeApplication, TrainingProgram
from renkei.oncall.models import (
    BackupBedUse,
    BedOutcome,
    MonthStatus,
    Rota,
    RotaMonth,
    Shift,
)
from renkei.pdca.catalogue import (
    COMPUTED_CODES,
    FACILITY_GROUPS,
    POPULATION_65,
    PUBLIC_KINDS,
    TRAINING_KINDS,
    ensure_indicators,
)
from renkei.pdca.models import IndicatorValue
from renkei.referrals.models import CaseStatus, PlacementCase, PlacementRequest
from renkei.regions.models import Municipality

Key = tuple[str, int, int]
JST = ZoneInfo("Asia/Tokyo")  # indicator code, municipality id, fiscal year


@dataclass
class Tally:
    """numerator and denominator sums per (code, municipality, fiscal year)."""

    num: dict[Key, float] = field(default_factory=lambda: defaultdict(float))
    den: dict[Key, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, code: str, muni: int | None, fy: int | None, n: float, d: float = 0) -> None:
        if muni is None or fy is None:
            return
        self.num[(code, muni, int(fy))] += n
        if d:
            self.den[(code, muni, int(fy))] += d


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]


def _fy(column: str) -> str:
    """The Japanese fiscal year of a UTC timestamp column, in SQL."""
    if connection.vendor == "postgresql":
        return (
            f"CAST(EXTRACT(YEAR FROM (({column} AT TIME ZONE 'Asia/Tokyo') "
            f"- INTERVAL '3 months')) AS integer)"
        )
    return f"CAST(strftime('%%Y', {column}, '+9 hours', '-3 months') AS integer)"


def _days(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0"
    return f"(julianday({later}) - julianday({earlier}))"


def _fy_date(column: str) -> str:
    """The fiscal year of a DATE column (no time zone: the date is already Japan's)."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM ({column} - INTERVAL '3 months')) AS integer)"
    return f"CAST(strftime('%%Y', {column}, '-3 months') AS integer)"


def _local_date_minus(stamp: str, day: str) -> str:
    """Whole days from a DATE column to the Japan date of a UTC timestamp column."""
    if connection.vendor == "postgresql":
        return f"(CAST(({stamp} AT TIME ZONE 'Asia/Tokyo') AS date) - {day})"
    return f"CAST(julianday(date({stamp}, '+9 hours')) - julianday({day}) AS integer)"


def _date_bounds(years: list[int]) -> list[object]:
    return [fiscal_year_range(min(years))[0], fiscal_year_range(max(years))[1]]


def _bounds(years: list[int]) -> tuple[object, object]:
    """The UTC instants where the first year starts and the last one ends, as the column's
    stored form (raw SQL gets no adaptation of aware datetimes from the ORM)."""
    start = fiscal_year_range(min(years))[0]
    end = fiscal_year_range(max(years))[1] + dt.timedelta(days=1)
    return (
        connection.ops.adapt_datetimefield_value(dt.datetime.combine(start, dt.time(), JST)),
        connection.ops.adapt_datetimefield_value(dt.datetime.combine(end, dt.time(), JST)),
    )


def _only(
    muni: int | None, column: str, where: str, params: list[object]
) -> tuple[str, list[object]]:
    """The WHERE narrowed to one municipality for the incremental form."""
    if muni is None:
        return where, params
    return f"{where} AND {column} = %s", [*params, muni]


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _in(values: Iterable[str]) -> tuple[str, list[object]]:
    vals = list(values)
    return ", ".join(["%s"] * len(vals)), list(vals)


# ---- the sources: each one statement (or two) for all municipalities -------------------------


def consultations(t: Tally, years: list[int], muni: int | None) -> None:
    c, d, o = _t(Consultation), _t(Desk), _t(Organization)
    where, params = "c.received_at >= %s AND c.received_at < %s", list(_bounds(years))
    if muni is not None:
        where += (
            " AND (c.subject_municipality_id = %s"
            " OR (c.subject_municipality_id IS NULL AND o.municipality_id = %s))"
        )
        params += [muni, muni]
    sql = (
        f"SELECT COALESCE(c.subject_municipality_id, o.municipality_id), "
        f"{_fy('c.received_at')}, c.scene, COUNT(*) "
        f"FROM {c} c JOIN {d} d ON d.id = c.desk_id JOIN {o} o ON o.id = d.organization_id "
        f"WHERE {where} GROUP BY 1, 2, 3"
    )
    for m, fy, scene, n in _rows(sql, params):
        t.add("desk.consultations", m, fy, n)
        t.add(f"desk.consultations.{scene}", m, fy, n)


def _event_where(years: list[int], muni: int | None) -> tuple[str, list[object]]:
    where, params = "e.starts_at >= %s AND e.starts_at < %s", list(_bounds(years))
    if muni is not None:
        where += " AND (e.municipality_id = %s OR (e.municipality_id IS NULL AND o.municipality_id = %s))"
        params += [muni, muni]
    return where, params


def events(t: Tally, years: list[int], muni: int | None) -> None:
    e, o = _t(Event), _t(Organization)
    where, params = _event_where(years, muni)
    training, tparams = _in(TRAINING_KINDS)
    public, pparams = _in(PUBLIC_KINDS)
    sql = (
        f"SELECT COALESCE(e.municipality_id, o.municipality_id), {_fy('e.starts_at')}, "
        f"SUM(CASE WHEN e.kind IN ({training}) THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN e.kind IN ({public}) THEN 1 ELSE 0 END) "
        f"FROM {e} e JOIN {o} o ON o.id = e.organization_id WHERE {where} GROUP BY 1, 2"
    )
    for m, fy, trainings, lectures in _rows(sql, tparams + pparams + params):
        t.add("events.trainings", m, fy, trainings or 0)
        t.add("events.public", m, fy, lectures or 0)


def attendance(t: Tally, years: list[int], muni: int | None) -> None:
    a, e, o = _t(Applicant), _t(Event), _t(Organization)
    where, params = _event_where(years, muni)
    training, tparams = _in(TRAINING_KINDS)
    sql = (
        f"SELECT COALESCE(e.municipality_id, o.municipality_id), {_fy('e.starts_at')}, "
        f"a.occupation, COUNT(*) "
        f"FROM {a} a JOIN {e} e ON e.id = a.event_id JOIN {o} o ON o.id = e.organization_id "
        f"WHERE a.attended AND e.kind IN ({training}) AND {where} GROUP BY 1, 2, 3"
    )
    for m, fy, occupation, n in _rows(sql, tparams + params):
        t.add("events.attended", m, fy, n)
        t.add(f"events.attended.{occupation}", m, fy, n)


def placements(t: Tally, years: list[int], muni: int | None) -> None:
    p, r = _t(PlacementCase), _t(PlacementRequest)
    where = "p.status = %s AND p.decided_at >= %s AND p.decided_at < %s"
    params: list[object] = [CaseStatus.DECIDED, *_bounds(years)]
    where, params = _only(muni, "p.residence_id", where, params)
    days = _days("p.decided_at", "COALESCE(p.registered_at, p.created_at)")
    sql = (
        f"SELECT p.residence_id, {_fy('p.decided_at')}, COUNT(*), SUM({days}) "
        f"FROM {p} p WHERE {where} GROUP BY 1, 2"
    )
    for m, fy, n, total_days in _rows(sql, params):
        t.add("referrals.placements", m, fy, n)
        t.add("referrals.days", m, fy, float(total_days or 0), n)
        # Every placement counts in the ratio's denominator, with or without requests.
        t.add("referrals.requests_per_placement", m, fy, 0, n)
    sql = (
        f"SELECT p.residence_id, {_fy('p.decided_at')}, COUNT(*) "
        f"FROM {p} p JOIN {r} r ON r.case_id = p.id WHERE {where} GROUP BY 1, 2"
    )
    for m, fy, n in _rows(sql, params):
        t.add("referrals.requests_per_placement", m, fy, n)


def mentoring(t: Tally, years: list[int], muni: int | None) -> None:
    mt, a, tp, o = _t(Match), _t(TraineeApplication), _t(TrainingProgram), _t(Organization)
    marks = ", ".join(["%s"] * len(years))
    params: list[object] = list(years)
    where = f"tp.fiscal_year IN ({marks}) AND a.cancelled_at IS NULL"
    where += " AND (mt.mentor_report_at IS NOT NULL OR mt.trainee_report_at IS NOT NULL)"
    where, params = _only(muni, "o.municipality_id", where, params)
    sql = (
        f"SELECT o.municipality_id, tp.fiscal_year, COUNT(*) FROM {mt} mt "
        f"JOIN {a} a ON a.id = mt.application_id JOIN {tp} tp ON tp.id = a.program_id "
        f"JOIN {o} o ON o.id = tp.organizer_id WHERE {where} GROUP BY 1, 2"
    )
    for m, fy, n in _rows(sql, params):
        t.add("mentoring.done", m, fy, n)


def facilities(t: Tally, years: list[int], muni: int | None) -> None:
    current = fiscal_year(timezone.localdate())
    if current not in years:
        return
    f = _t(Facility)
    cases = " ".join(
        f"WHEN f.kind IN ({_in(kinds)[0]}) THEN '{key}'"
        for key, (_label, kinds) in FACILITY_GROUPS.items()
    )
    params: list[object] = [k for _label, kinds in FACILITY_GROUPS.values() for k in kinds]
    where = "f.is_active"
    where, params = _only(muni, "f.municipality_id", where, params)
    sql = (
        f"SELECT f.municipality_id, CASE {cases} ELSE '' END, COUNT(*) FROM {f} f "
        f"WHERE {where} GROUP BY 1, 2"
    )
    for m, key, n in _rows(sql, params):
        if key:
            t.add(f"directory.{key}.per65", m, current, n)


def rota_gaps(t: Tally, years: list[int], muni: int | None) -> None:
    """Published night and holiday shifts with nobody on duty, of the rotas an organisation
    of the municipality organises (the 医師会's or the city's)."""
    s, mo, r, o = _t(Shift), _t(RotaMonth), _t(Rota), _t(Organization)
    where = "mo.status = %s AND s.starts_at >= %s AND s.starts_at < %s"
    params: list[object] = [MonthStatus.PUBLISHED, *_bounds(years)]
    where, params = _only(muni, "o.municipality_id", where, params)
    sql = (
        f"SELECT o.municipality_id, {_fy('s.starts_at')}, COUNT(*), "
        f"SUM(CASE WHEN s.member_id IS NULL THEN 1 ELSE 0 END) FROM {s} s "
        f"JOIN {mo} mo ON mo.id = s.month_id JOIN {r} r ON r.id = s.rota_id "
        f"JOIN {o} o ON o.id = r.organizer_id WHERE {where} GROUP BY 1, 2"
    )
    for m, fy, shifts, gaps in _rows(sql, params):
        t.add("oncall.gaps", m, fy, gaps or 0, shifts)


def admission_forms(t: Tally, years: list[int], muni: int | None) -> None:
    """入院時情報提供書 sent, by the year of admission and the sender's municipality (the care
    manager's office): how many were first sent on the day of admission, and within
    ADMISSION_INFO_DAYS days (what `SharedForm.sent_within` says of one form)."""
    f, o = _t(SharedForm), _t(Organization)
    where = (
        "f.kind = %s AND f.first_sent_at IS NOT NULL "
        "AND f.admission_date >= %s AND f.admission_date <= %s"
    )
    params: list[object] = [FormKind.ADMISSION, *_date_bounds(years)]
    where, params = _only(muni, "o.municipality_id", where, params)
    days = _local_date_minus("f.first_sent_at", "f.admission_date")
    sql = (
        f"SELECT o.municipality_id, {_fy_date('f.admission_date')}, COUNT(*), "
        f"SUM(CASE WHEN {days} = 0 THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {days} BETWEEN 0 AND %s THEN 1 ELSE 0 END) "
        f"FROM {f} f JOIN {o} o ON o.id = f.sender_id WHERE {where} GROUP BY 1, 2"
    )
    for m, fy, sent, same_day, within in _rows(sql, [ADMISSION_INFO_DAYS, *params]):
        t.add("care.admission_info.same_day", m, fy, same_day or 0, sent)
        t.add("care.admission_info.within", m, fy, within or 0, sent)


def bed_uses(t: Tally, years: list[int], muni: int | None) -> None:
    """Uses of backup beds by the fiscal year of admission, in the municipality of the
    patient's 主治医 (oncall's own count), with those back home among the uses that ended."""
    uses = BackupBedUse.objects.filter(admitted_on__range=_date_bounds(years))
    if muni is not None:
        uses = uses.filter(registration__clinic__municipality_id=muni)
    for row in uses.per_municipality_year(years).annotate(
        home=Count("pk", filter=Q(outcome=BedOutcome.HOME)),
        ended=Count("pk", filter=~Q(outcome=BedOutcome.STAYING)),
    ):
        m, fy = row["municipality"], row["fiscal_year"]
        t.add("oncall.bed_uses", m, fy, row["uses"])
        t.add("oncall.bed_uses.home", m, fy, row["home"], row["ended"])


SOURCES: list[Callable[[Tally, list[int], int | None], None]] = [
    consultations,
    events,
    attendance,
    placements,
    mentoring,
    facilities,
    rota_gaps,
    admission_forms,
    bed_uses,
]


# ---- writing -----------------------------------------------------------------------------------


def _populations(years: list[int], muni: int | None) -> dict[tuple[int, int], float]:
    """65+ population per (municipality, year), a year without a figure taking the latest
    earlier one (the census is not redone every April)."""
    qs = IndicatorValue.objects.filter(
        indicator__code=POPULATION_65, fiscal_year__lte=max(years)
    ).order_by("fiscal_year")
    if muni is not None:
        qs = qs.filter(municipality_id=muni)
    latest: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for m, fy, n in qs.values_list("municipality_id", "fiscal_year", "numerator"):
        latest[m].append((fy, n))
    out: dict[tuple[int, int], float] = {}
    for m, rows in latest.items():
        for y in years:
            known = [n for fy, n in rows if fy <= y]
            if known:
                out[(m, y)] = known[-1]
    return out


Row = tuple[int, int, int, float, float | None, float | None]


def _replace(old: QuerySet[IndicatorValue], rows: list[Row], now: dt.datetime) -> None:
    """SQLite (the tests' database): the scope's values deleted and the new ones inserted."""
    old.delete()
    IndicatorValue.objects.bulk_create(
        [
            IndicatorValue(
                indicator_id=i,
                municipality_id=m,
                fiscal_year=y,
                numerator=num,
                denominator=den,
                value=value,
                computed_at=now,
            )
            for i, m, y, num, den, value in rows
        ],
        batch_size=2000,
    )


def _upsert(rows: list[Row], now: dt.datetime) -> None:
    """PostgreSQL: one INSERT over arrays (a national run writes some 125,000 values; model
    instances and multi-row VALUES took most of the run's time), and a value already there is
    rewritten only when its figures changed. A nightly run changes few of them: the others
    cost an index probe, not a deleted and a new row with its index entries and foreign-key
    checks. `computed_at` is therefore when the figure last changed."""
    table = _t(IndicatorValue)
    columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] or [[]] * 6
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} AS old (indicator_id, municipality_id, fiscal_year, "
            "numerator, denominator, value, computed_at) SELECT i, m, y, n, d, v, %s FROM unnest("
            "%s::bigint[], %s::bigint[], %s::integer[], %s::float8[], %s::float8[], "
            "%s::float8[]) AS u(i, m, y, n, d, v) "
            "ON CONFLICT (indicator_id, municipality_id, fiscal_year) DO UPDATE SET "
            "numerator = EXCLUDED.numerator, denominator = EXCLUDED.denominator, "
            "value = EXCLUDED.value, computed_at = EXCLUDED.computed_at "
            "WHERE (old.numerator, old.denominator, old.value) IS DISTINCT FROM "
            "(EXCLUDED.numerator, EXCLUDED.denominator, EXCLUDED.value)",
            [now, *columns],
        )


def compute(
    years: Iterable[int],
    *,
    municipality_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute every computed indicator for `years` (all municipalities, or one); returns
    the number of values written."""
    years = sorted(set(years))
    if not years:
        return 0
    indicators = ensure_indicators()
    t = Tally()
    steps = len(SOURCES) + 1
    for i, source in enumerate(SOURCES, start=1):
        source(t, years, municipality_id)
        if progress:
            progress(i, steps)

    munis = Municipality.objects.all()
    if municipality_id is not None:
        munis = munis.filter(pk=municipality_id)
    muni_ids = list(munis.values_list("pk", flat=True))
    population = _populations(years, municipality_id)
    current = fiscal_year(timezone.localdate())
    now = timezone.now()
    rows: list[Row] = []
    codes = [c for c in COMPUTED_CODES if c in indicators]
    for code in codes:
        ind = indicators[code]
        per65 = code.startswith("directory.")
        for y in years:
            if per65 and y != current:
                continue
            for m in muni_ids:
                num = t.num.get((code, m, y), 0.0)
                den: float | None
                if per65:
                    den = population.get((m, y))
                elif ind.denominator:
                    den = t.den.get((code, m, y), 0.0)
                else:
                    den = None
                rows.append((ind.pk, m, y, num, den, ind.rate(num, den)))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Every (indicator, municipality, year) of the scope is among the rows: what is
            # there is overwritten, nothing is left over to delete.
            _upsert(rows, now)
        else:
            old = IndicatorValue.objects.filter(indicator__code__in=codes, fiscal_year__in=years)
            if municipality_id is not None:
                old = old.filter(municipality_id=municipality_id)
            # A past year's facility snapshot stays: only the years being written lose theirs.
            kept = [y for y in years if y != current]
            _replace(
                old.exclude(indicator__code__startswith="directory.", fiscal_year__in=kept),
                rows,
                now,
            )
    if progress:
        progress(steps, steps)
    return len(rows)
