"""Who can take this patient? Candidates for a case, and hospitals for an admission.

The hard conditions run in SQL so that a 300,000-facility directory costs one indexed query:
the destination kinds and the grid cells around the residence bound the rows (the
(geo_cell, kind) and (municipality, kind) indexes), and each condition becomes a 0/1 column
whose sum is the number of conditions a facility fails. Facilities failing none are
candidates; those failing one or two are near-misses shown with what is missing
(「不足: 人工呼吸器」) so that staff can still ask. Only a bounded set (CANDIDATE_LIMIT rows)
reaches Python, where each row gets its reasons and a ranking score; the facility history
behind the ranking is one aggregate query over those rows.

Place: residential care and hospitals qualify within the case's radius of the residence or in
a desired municipality (near-misses up to OUTER_RADIUS_FACTOR × the radius); home-visiting
providers must serve the residence (its municipality, their declared service area, or their
visiting radius, scanned up to the 16 km that home visits are normally limited to).

Unknown is not no. Most directory rows come from open data that says nothing about acceptance
conditions, so a NULL (care-level range, dementia, infection, cost) passes the hard condition
and is listed under 「要確認」 with a small score penalty; only an explicit refusal fails it.
Where the facility leaves the care-level floor empty, the statutory floor of its kind applies
(特養 要介護3, 老健・介護医療院 要介護1, GH 要支援2). A case whose care level is 申請中 passes
every care-level floor and is flagged 要確認.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
)
from django.utils import timezone

from renkei.directory import facility_sql as fsql
from renkei.directory.facility_sql import SQL
from renkei.directory.models import (
    Capability,
    CareLevel,
    Facility,
    FacilityKind,
    SexAccepted,
    VacancyStatus,
    Ward,
    WardKind,
)
from renkei.lib import prepared
from renkei.lib.dates import ago_ja
from renkei.lib.geo import distance_km
from renkei.referrals import facility_rows
from renkei.referrals.facility_rows import FacilityRow
from renkei.referrals.models import (
    POST_ACUTE_WARDS,
    Answer,
    CaseDementiaLevel,
    Destination,
    PlacementCase,
    PlacementRequest,
    RequestStatus,
)
from renkei.regions.models import Municipality

# Rows that reach Python, best first by (failed conditions, vacancy, distance); the score then
# reorders them. 120 keeps every facility with a vacancy near the residence in the running.
CANDIDATE_LIMIT = 120
# Labels looked up once: Model.get_FOO_display() re-hashes the choices on every call.
KIND_LABELS = dict(FacilityKind.choices)
SEX_LABELS = dict(SexAccepted.choices)
VACANCY_LABELS = dict(VacancyStatus.choices)
WARD_LABELS = dict(WardKind.choices)
# Home-visiting providers farther than this are found only through their declared service
# area or the residence's municipality: scanning every clinic within 30 km of a city centre
# for the few that visit that far is the most expensive part of a search.
HOME_SCAN_KM = 16.0
VACANCY_POINTS: dict[str, float] = {
    VacancyStatus.AVAILABLE: 30.0,
    VacancyStatus.FEW: 20.0,
    VacancyStatus.UNKNOWN: 5.0,
    VacancyStatus.NONE: -20.0,
}
MAX_NEAR_MISS_FAILURES = 2
# Near-misses by distance: up to this multiple of the requested radius.
OUTER_RADIUS_FACTOR = 1.25
HOME_KINDS = [FacilityKind.VISITING_NURSE, FacilityKind.CLINIC]

# Statutory floors of 要介護度 by kind, used when the facility has not set its own.
KIND_CARE_FLOOR: dict[str, int] = {
    FacilityKind.TOKUYO: CareLevel.CARE_3,
    FacilityKind.ROKEN: CareLevel.CARE_1,
    FacilityKind.KAIGO_IRYOIN: CareLevel.CARE_1,
    FacilityKind.GROUP_HOME: CareLevel.SUPPORT_2,
}


@dataclass
class History:
    """How a facility treated earlier requests (all hospitals), for the ranking."""

    due: int = 0
    answered: int = 0
    positive: int = 0

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.due if self.due else None

    @property
    def acceptance_rate(self) -> float | None:
        return self.positive / self.answered if self.answered else None

    def smoothed(self) -> tuple[float, float]:
        # Laplace smoothing: one request answered once does not make a 100 % facility.
        return (self.answered + 1) / (self.due + 2), (self.positive + 1) / (self.answered + 2)


@dataclass
class Candidate:
    facility: FacilityRow
    distance_km: float | None
    reasons: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    to_confirm: list[str] = field(default_factory=list)
    score: float = 0.0
    history: History = field(default_factory=History)
    requested_status: str | None = None

    @property
    def is_match(self) -> bool:
        return not self.missing

    @property
    def municipality_name(self) -> str:
        """Fetched with the candidate row, so listing candidates costs no query per facility."""
        return self.facility.municipality_name

    @property
    def in_network(self) -> bool:
        """Only facilities with an organisation on the platform can receive a request."""
        return self.facility.organization_id is not None

    @property
    def can_request(self) -> bool:
        return self.in_network and self.requested_status is None


@dataclass
class MatchResult:
    matches: list[Candidate]
    near_misses: list[Candidate]
    point: tuple[float, float] | None
    truncated: bool = False

    def all(self) -> list[Candidate]:
        return self.matches + self.near_misses


@dataclass
class Criteria:
    """A case's hard conditions, resolved once (capability bits, places, point)."""

    capabilities: list[Capability]
    care_level: int | None
    dementia: str
    infections: list[str]
    sex: str
    destinations: list[str]
    residence: Municipality
    local_ids: list[int]
    residence_ids: list[int]
    radius_km: float
    budget: int | None
    point: tuple[float, float] | None

    @classmethod
    def of(cls, case: PlacementCase) -> Criteria:
        """From a case fetched with its residence and its two many-to-many relations."""
        desired_ids = [m.pk for m in case.desired_municipalities.all()]
        desired_wards = list(
            Municipality.objects.filter(parent_id__in=desired_ids).values_list("pk", flat=True)
        )
        return cls.build(case, list(case.required_capabilities.all()), desired_ids, desired_wards)

    @classmethod
    def build(
        cls,
        case: PlacementCase,
        capabilities: list[Capability],
        desired_ids: list[int],
        desired_ward_ids: list[int],
    ) -> Criteria:
        """From what was read of a case: access.own_case_to_match reads all of it at once."""
        residence = case.residence
        residence_ids = [residence.pk] + ([residence.parent_id] if residence.parent_id else [])
        # A ward resident is local to the whole city for wards' sake only through its own ward.
        return cls(
            capabilities=capabilities,
            care_level=case.care_level,
            dementia=case.dementia,
            infections=list(case.infections),
            sex=case.sex,
            destinations=list(case.destinations) or [d.value for d in Destination],
            residence=residence,
            local_ids=sorted({residence.pk, *desired_ids, *desired_ward_ids}),
            residence_ids=residence_ids,
            radius_km=float(case.radius_km),
            budget=case.budget_monthly,
            point=residence.point(),
        )


def _in(column: str, values: Iterable[Any]) -> SQL:
    return fsql.among(column, values, fsql.facility_connection())


def _fail(condition: SQL) -> SQL:
    return SQL(f"CASE WHEN {condition.text} THEN 0 ELSE 1 END", condition.params)


def _kind_refinement(destinations: Iterable[str]) -> SQL:
    """Conditions beyond the kind itself: which hospitals and clinics a destination means.

    Written as "not this kind, or …" so that PostgreSQL keeps them as a row filter and picks the
    facilities through the (geo_cell, kind) index of the place branches.
    """
    dests = set(destinations)
    refine = SQL("1 = 1")
    hospital_ok: SQL | None = None
    if Destination.RECOVERY_HOSPITAL in dests:
        post_acute = _in("w.kind", [str(k) for k in POST_ACUTE_WARDS])
        hospital_ok = SQL(
            "EXISTS (SELECT 1 FROM directory_ward w WHERE w.facility_id = f.id "
            f"AND {post_acute.text}) "
            "OR NOT EXISTS (SELECT 1 FROM directory_ward w2 WHERE w2.facility_id = f.id)",
            post_acute.params,
        )
    if Destination.HOME in dests:
        home_ok = SQL("f.is_home_care_support")
        hospital_ok = home_ok if hospital_ok is None else hospital_ok | home_ok
        refine = refine & (SQL("f.kind <> %s", [FacilityKind.CLINIC.value]) | home_ok)
    if hospital_ok is not None:
        refine = refine & (SQL("f.kind <> %s", [FacilityKind.HOSPITAL.value]) | hospital_ok)
    return refine


def _served_ids(c: Criteria) -> list[int]:
    """Home-care providers that list the residence in their service area (bounded, indexed)."""
    if Destination.HOME not in c.destinations:
        return []
    through = Facility.service_municipalities.through
    return list(
        through.objects.filter(
            municipality_id__in=c.residence_ids,
            facility__kind__in=[*HOME_KINDS, FacilityKind.HOSPITAL],
            facility__is_active=True,
        ).values_list("facility_id", flat=True)[:5000]
    )


def _scope_kinds(destinations: Iterable[str]) -> tuple[list[str], list[str]]:
    """The facility kinds a case's destinations can be, split into home-visiting and the rest."""
    kinds: set[str] = set()
    for d in destinations:
        if d == Destination.RECOVERY_HOSPITAL:
            kinds.add(FacilityKind.HOSPITAL)
        elif d == Destination.HOME:
            kinds |= {FacilityKind.VISITING_NURSE, FacilityKind.CLINIC, FacilityKind.HOSPITAL}
        elif d in FacilityKind.values:
            kinds.add(d)
    home = sorted(str(k) for k in kinds if k in HOME_KINDS)
    return home, sorted(str(k) for k in kinds - set(home))


def candidate_sql(c: Criteria, served_ids: list[int], limit: int) -> SQL:
    """The candidate query: facilities in scope with `fails` (conditions not met) and `dist2`.

    Hand-written rather than composed with the ORM, because compiling some forty nested
    expressions cost more than PostgreSQL took to run them. It is plain SQL that SQLite runs too.
    Every branch of the place condition names its kinds so that PostgreSQL answers each from a
    composite index ((geo_cell, kind) or (municipality, kind)) and ORs the bitmaps.
    """
    home_kinds, other_kinds = _scope_kinds(c.destinations)
    all_kinds = home_kinds + other_kinds
    local_ids = sorted({*c.local_ids, *c.residence_ids})
    served = _in("f.id", served_ids) | _in("f.municipality_id", c.residence_ids)
    local = _in("f.municipality_id", c.local_ids)
    home_kind = _in("f.kind", [str(k) for k in HOME_KINDS])
    scope = _in("f.id", served_ids) | (
        _in("f.municipality_id", local_ids) & _in("f.kind", all_kinds)
    )
    if c.point is not None:
        connection = fsql.facility_connection()
        dist2 = fsql.squared_distance("f", c.point)
        outer = c.radius_km * OUTER_RADIUS_FACTOR
        if other_kinds:
            scope = scope | (
                _in("f.kind", other_kinds) & fsql.within("f", c.point, outer, connection)
            )
        if home_kinds:
            reach = min(outer, HOME_SCAN_KM)
            scope = scope | (
                _in("f.kind", home_kinds) & fsql.within("f", c.point, reach, connection)
            )
        within = SQL(f"{dist2.text} <= %s", [*dist2.params, c.radius_km**2])
        in_home_radius = fsql.within_service_radius("f", c.point)
        place_ok = (home_kind & (served | in_home_radius)) | (
            ~home_kind & (within | local | served)
        )
    else:
        dist2 = SQL("NULL")
        place_ok = (home_kind & served) | (~home_kind & (local | served))

    fails = [_fail(place_ok)]
    for cap in c.capabilities:
        fails.append(_fail(fsql.with_capability("f", cap.bit)))
    if c.care_level is not None:
        floors = " ".join(f"WHEN f.kind = %s THEN {int(v)}" for v in KIND_CARE_FLOOR.values())
        fails.append(
            _fail(
                SQL(
                    f"COALESCE(f.care_level_min, CASE {floors} ELSE 0 END) <= %s "
                    "AND (f.care_level_max IS NULL OR f.care_level_max >= %s)",
                    [*[str(k) for k in KIND_CARE_FLOOR], c.care_level, c.care_level],
                )
            )
        )
    if c.dementia in CaseDementiaLevel.needs_acceptance():
        fails.append(_fail(SQL("f.accepts_dementia IS NOT FALSE")))
    elif c.dementia == CaseDementiaLevel.NONE:
        fails.append(_fail(SQL("f.kind <> %s", [FacilityKind.GROUP_HOME.value])))
    if c.infections:
        fails.append(_fail(SQL("f.accepts_infection IS NOT FALSE")))
    fails.append(_fail(SQL("f.sex_accepted IN (%s, %s)", [SexAccepted.ANY.value, c.sex])))
    if c.budget is not None:
        fails.append(_fail(SQL("f.cost_min IS NULL OR f.cost_min <= %s", [c.budget])))
    total = SQL(" + ".join(f.text for f in fails), [p for f in fails for p in f.params])

    columns = ", ".join(f"f.{name}" for name in facility_rows.COLUMNS)
    where = fsql.active("f") & scope & _kind_refinement(c.destinations)
    text = (
        f"SELECT * FROM (SELECT {columns}, m.name AS municipality_name, "
        f"{dist2.text} AS dist2, {total.text} AS fails, "
        "CASE f.vacancy_status WHEN 'available' THEN 0 WHEN 'few' THEN 1 "
        "WHEN 'unknown' THEN 2 ELSE 3 END AS vac "
        f"FROM {fsql.FACILITY} f JOIN {fsql.MUNICIPALITY} m ON m.id = f.municipality_id "
        f"WHERE {where.text}) AS candidate "
        "WHERE fails <= %s ORDER BY fails, vac, dist2 NULLS LAST, id LIMIT %s"
    )
    return SQL(
        text,
        [*dist2.params, *total.params, *where.params, MAX_NEAR_MISS_FAILURES, limit],
    )


def candidate_rows(
    c: Criteria, served_ids: list[int], limit: int = CANDIDATE_LIMIT
) -> list[FacilityRow]:
    """Facility rows (only the columns matching needs) with dist2, fails and municipality_name,
    as tuples (ADR 0075)."""
    q = candidate_sql(c, served_ids, limit)
    return facility_rows.read(q.text, q.params)


def history_queryset(
    facility_ids: list[int], now: dt.datetime, case: PlacementCase | None = None
) -> Any:
    """The definition `history_for` runs as written SQL: per facility, the requests that were
    due an answer (answered, expired, or unanswered past the deadline), those answered, those
    answered positively, and the status of this case's request (at most one per facility).
    Kept as the reference the SQL is tested against (test_history_sql)."""
    return (
        PlacementRequest.objects.filter(facility_id__in=facility_ids)
        .values("facility_id")
        .annotate(
            due=Count(
                "id",
                filter=Q(answered_at__isnull=False)
                | Q(status=RequestStatus.EXPIRED)
                | Q(status__in=RequestStatus.unanswered(), deadline__lt=now),
            ),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            positive=Count("id", filter=Q(answer__in=Answer.positive())),
            # At most one request per (case, facility): Max picks it.
            this_case=Max("status", filter=Q(case_id=case.pk if case else None)),
        )
        .order_by()
    )


def history_sql(
    facility_ids: list[int], now: dt.datetime, case_id: int | None, connection: Any
) -> SQL:
    """`history_queryset` written out: compiling that aggregate through the ORM cost several
    times what the database takes to run it (ADR 0070). COUNT(CASE …) is what Django sends for
    a filtered Count where FILTER is missing, so both backends run the same text."""
    ids = fsql.among("facility_id", facility_ids, connection)
    unanswered = fsql.among("status", RequestStatus.unanswered(), connection)
    positive = fsql.among("answer", Answer.positive(), connection)
    return SQL(
        "SELECT facility_id, "
        "COUNT(CASE WHEN answered_at IS NOT NULL OR status = %s "
        f"OR ({unanswered.text} AND deadline < %s) THEN 1 END), "
        "COUNT(answered_at), "
        f"COUNT(CASE WHEN {positive.text} THEN 1 END), "
        "MAX(CASE WHEN case_id = %s THEN status END) "
        f"FROM {PlacementRequest._meta.db_table} WHERE {ids.text} GROUP BY facility_id",
        [
            RequestStatus.EXPIRED.value,
            *unanswered.params,
            connection.ops.adapt_datetimefield_value(now),
            *positive.params,
            case_id,
            *ids.params,
        ],
    )


def history_for(
    facility_ids: list[int], now: dt.datetime | None = None, case: PlacementCase | None = None
) -> tuple[dict[int, History], dict[int, str]]:
    """Answer and acceptance counts per facility (all hospitals), and the status of this case's
    request to each facility, in one aggregate statement."""
    if not facility_ids:
        return {}, {}
    connection = connections[PlacementRequest.objects.db]
    q = history_sql(facility_ids, now or timezone.now(), case.pk if case else None, connection)
    with prepared.cursor(connection) as cursor:
        cursor.execute(q.text, q.params)
        rows = cursor.fetchall()
    history, requested = {}, {}
    for facility_id, due, answered, positive, this_case in rows:
        history[facility_id] = History(due=due, answered=answered, positive=positive)
        if this_case:
            requested[facility_id] = this_case
    return history, requested


def _yen(v: int) -> str:
    return f"{v / 10000:g}万円"


def _evaluate(
    cand: Candidate, c: Criteria, served: set[int], care_labels: dict[int, str], now: dt.datetime
) -> None:
    """Reasons, missing conditions and unknowns for one facility; mirrors candidate_queryset."""
    f = cand.facility
    home_kind = f.kind in HOME_KINDS
    d = cand.distance_km
    in_served = f.pk in served or f.municipality_id in c.residence_ids
    if home_kind:
        in_radius = f.service_radius_km is not None and d is not None and d <= f.service_radius_km
        if in_served:
            cand.reasons.append(f"訪問エリア内（{c.residence.name}）")
        elif in_radius:
            cand.reasons.append(f"訪問範囲{f.service_radius_km:g}km以内")
        else:
            where = f"約{d:.1f}km" if d is not None else "距離不明"
            cand.missing.append(f"訪問エリア外: {where}")
    elif f.municipality_id in c.local_ids:
        if f.municipality_id == c.residence.pk or f.municipality_id in c.residence_ids:
            cand.reasons.append(f"居住地と同じ市区町村（{c.residence.name}）")
        else:
            cand.reasons.append(f"希望地域内（{cand.municipality_name}）")
        if d is not None and d <= c.radius_km:
            cand.reasons.append(f"居住地から約{d:.1f}km")
    elif d is not None and d <= c.radius_km:
        cand.reasons.append(f"居住地から約{d:.1f}km")
    elif in_served:
        cand.reasons.append(f"{c.residence.name}に対応")
    else:
        where = f"約{d:.1f}km" if d is not None else "距離不明"
        cand.missing.append(f"範囲外: {where}（希望{c.radius_km:g}km以内）")

    covered = []
    for cap in c.capabilities:
        if f.capability_mask & (1 << cap.bit):
            covered.append(cap.name)
        else:
            cand.missing.append(f"不足: {cap.name}")
    if covered:
        cand.reasons.append(f"処置: {'・'.join(covered)} 対応可")

    if c.care_level is None:
        cand.to_confirm.append("要確認: 要介護度（申請中）")
    else:
        floor = (
            f.care_level_min
            if f.care_level_min is not None
            else KIND_CARE_FLOOR.get(f.kind, CareLevel.INDEPENDENT)
        )
        ceiling = f.care_level_max
        level = care_labels.get(c.care_level, "")
        if floor > c.care_level:
            cand.missing.append(f"要介護度: {care_labels.get(floor, '')}以上が対象（本人 {level}）")
        elif ceiling is not None and ceiling < c.care_level:
            cand.missing.append(
                f"要介護度: {care_labels.get(ceiling, '')}までが対象（本人 {level}）"
            )
        elif f.care_level_min is None and f.care_level_max is None:
            if f.kind in KIND_CARE_FLOOR:
                cand.reasons.append(f"{level}（{KIND_LABELS.get(f.kind, f.kind)}の対象）")
            elif f.kind in FacilityKind.residential():
                cand.to_confirm.append("要確認: 受入れ要介護度（未登録）")
        else:
            cand.reasons.append(f"{level} 受入れ範囲内")

    if c.dementia in CaseDementiaLevel.needs_acceptance():
        if f.accepts_dementia is False:
            cand.missing.append("認知症の方の受入れ不可")
        elif f.accepts_dementia is None:
            cand.to_confirm.append("要確認: 認知症の受入れ（未登録）")
        else:
            cand.reasons.append("認知症の受入れ可")
    elif c.dementia == CaseDementiaLevel.NONE and f.kind == FacilityKind.GROUP_HOME:
        cand.missing.append("認知症グループホームは認知症の方が対象")

    if c.infections:
        if f.accepts_infection is False:
            cand.missing.append("感染症の方の受入れ不可")
        elif f.accepts_infection is None:
            cand.to_confirm.append("要確認: 感染症の受入れ（未登録）")
        else:
            cand.reasons.append("感染症の受入れ可")

    if f.sex_accepted not in (SexAccepted.ANY, c.sex):
        cand.missing.append(f"性別: {SEX_LABELS.get(f.sex_accepted, f.sex_accepted)}")

    if c.budget is not None:
        if f.cost_min is None:
            if f.kind not in (FacilityKind.HOSPITAL, *HOME_KINDS):
                cand.to_confirm.append("要確認: 月額費用（未登録）")
        elif f.cost_min > c.budget:
            cand.missing.append(f"費用: 月{_yen(f.cost_min)}〜（予算{_yen(c.budget)}）")
        else:
            cand.reasons.append(f"費用: 月{_yen(f.cost_min)}〜（予算内）")

    if f.vacancy_status != VacancyStatus.UNKNOWN:
        count = f" {f.vacancy_count}" if f.vacancy_count else ""
        cand.reasons.append(
            f"{VACANCY_LABELS.get(f.vacancy_status, '')}{count}（{ago_ja(f.vacancy_confirmed_at, now)}確認）"
        )
    if f.is_backup_hospital:
        cand.reasons.append("在宅療養後方支援病院")
    h = cand.history
    if h.due:
        rate = h.answer_rate or 0.0
        acc = h.acceptance_rate
        acc_text = f"・受入率{acc:.0%}" if acc is not None else ""
        cand.reasons.append(f"過去の回答率{rate:.0%}{acc_text}（{h.due}件）")


def _score(cand: Candidate, c: Criteria, now: dt.datetime) -> float:
    """Higher is better: vacancy and its freshness, nearness, a record of answering and
    accepting, fewer unknowns, and being reachable through the network at all."""
    f = cand.facility
    score = VACANCY_POINTS.get(f.vacancy_status, 0.0)
    if f.vacancy_status != VacancyStatus.UNKNOWN:
        age = f.vacancy_age_days(now)
        if age is None or age > settings.DIRECTORY_STALE_DAYS:
            score -= 5.0
        elif age <= 3:
            score += 10.0
        else:
            score += 5.0
    if cand.distance_km is not None:
        score += max(0.0, 1.0 - cand.distance_km / max(c.radius_km, 1.0)) * 20.0
    answer, accept = cand.history.smoothed()
    score += answer * 10.0 + accept * 20.0
    score -= 3.0 * len(cand.to_confirm)
    if cand.in_network:
        score += 10.0
    return round(score, 2)


def find_candidates(
    case: PlacementCase,
    *,
    limit_matches: int = 50,
    limit_near: int = 30,
    now: dt.datetime | None = None,
    criteria: Criteria | None = None,
) -> MatchResult:
    """`criteria`: the case's, when the caller read them already (Criteria.build)."""
    now = now or timezone.now()
    c = criteria or Criteria.of(case)
    served_ids = _served_ids(c)
    rows = candidate_rows(c, served_ids, CANDIDATE_LIMIT + 1)
    truncated = len(rows) > CANDIDATE_LIMIT
    rows = rows[:CANDIDATE_LIMIT]
    ids = [f.pk for f in rows]
    history, requested = history_for(ids, now, case)
    hospital_ids = [f.pk for f in rows if f.kind == FacilityKind.HOSPITAL]
    # (kind, vacant beds) of each hospital's wards: the reasons show nothing else of them.
    wards: dict[int, list[tuple[str, int | None]]] = {}
    if hospital_ids:
        for facility_id, kind, vacant_beds in Ward.objects.filter(
            facility_id__in=hospital_ids
        ).values_list("facility_id", "kind", "vacant_beds"):
            wards.setdefault(facility_id, []).append((kind, vacant_beds))
    served = set(served_ids)
    care_labels = {int(v): str(label) for v, label in CareLevel.choices}
    matches: list[Candidate] = []
    near: list[Candidate] = []
    for f in rows:
        dist = math.sqrt(f.dist2) if f.dist2 is not None else None
        cand = Candidate(
            facility=f,
            distance_km=dist,
            history=history.get(f.pk, History()),
            requested_status=requested.get(f.pk),
        )
        _evaluate(cand, c, served, care_labels, now)
        for kind, vacant_beds in wards.get(f.pk, []):
            if kind in POST_ACUTE_WARDS:
                vacant = f"空床{vacant_beds}" if vacant_beds is not None else "空床未登録"
                cand.reasons.append(f"{WARD_LABELS.get(kind, kind)}（{vacant}）")
        if f.kind == FacilityKind.HOSPITAL and f.pk not in wards:
            cand.to_confirm.append("要確認: 病棟情報（未登録）")
        cand.score = _score(cand, c, now)
        if not cand.missing:
            matches.append(cand)
        elif len(cand.missing) <= MAX_NEAR_MISS_FAILURES:
            near.append(cand)
    matches.sort(key=lambda x: (-x.score, x.facility.pk))
    near.sort(key=lambda x: (len(x.missing), -x.score, x.facility.pk))
    return MatchResult(
        matches=matches[:limit_matches],
        near_misses=near[:limit_near],
        point=c.point,
        truncated=truncated,
    )


# The other direction: a 在宅医, visiting-nurse station or care facility looking for a bed.


@dataclass
class HospitalHit:
    facility: Facility
    distance_km: float | None
    wards: list[Ward]
    reasons: list[str]
    vacant_beds: int


def find_hospitals(
    *,
    point: tuple[float, float] | None,
    municipality: Municipality | None = None,
    ward_kinds: Iterable[str] = (),
    capability_codes: Iterable[str] = (),
    vacant_only: bool = False,
    backup_only: bool = False,
    radius_km: float = 20.0,
    limit: int = 50,
) -> list[HospitalHit]:
    """受入れ病院・後方ベッド: hospitals by ward kind, capabilities, vacant beds and distance."""
    kinds = [k for k in ward_kinds if k in WardKind.values]
    qs = Facility.objects.public().filter(kind=FacilityKind.HOSPITAL)
    mask = Capability.objects.mask_of(list(capability_codes))
    qs = qs.with_capabilities(mask)
    ward_q = Q(facility=OuterRef("pk"))
    if kinds:
        ward_q &= Q(kind__in=kinds)
    if vacant_only:
        ward_q &= Q(vacant_beds__gt=0)
    if kinds or vacant_only:
        qs = qs.filter(Exists(Ward.objects.filter(ward_q)))
    if backup_only:
        qs = qs.filter(is_backup_hospital=True)
    if point is not None:
        qs = qs.annotate(dist2=fsql.SquaredDistance(*point)).filter(
            fsql.within_condition(point, radius_km)
        )
        qs = qs.order_by("-is_backup_hospital", F("dist2").asc(), "id")
    else:
        if municipality is not None:
            ids = fsql.self_and_city(municipality)
            qs = qs.filter(
                fsql.condition(
                    lambda t, connection: fsql.located_in(t, ids, connection), ("in", *ids)
                )
            )
        qs = qs.order_by("-is_backup_hospital", "kana", "id")
    rows = list(
        qs.select_related("municipality").prefetch_related(
            Prefetch("wards", queryset=Ward.objects.order_by("kind"))
        )[:limit]
    )
    hits = []
    for f in rows:
        d2 = getattr(f, "dist2", None)
        dist = math.sqrt(d2) if d2 is not None else None
        if dist is None and point is not None and f.lat is not None and f.lng is not None:
            dist = distance_km(point[0], point[1], f.lat, f.lng)
        all_wards = list(f.wards.all())
        shown = [w for w in all_wards if not kinds or w.kind in kinds]
        reasons = []
        if f.is_backup_hospital:
            reasons.append("在宅療養後方支援病院")
        if f.is_home_care_support:
            reasons.append("在宅療養支援病院")
        for w in shown:
            vacant = f"空床{w.vacant_beds}" if w.vacant_beds is not None else "空床未登録"
            reasons.append(f"{w.get_kind_display()} {w.beds}床（{vacant}）")
        if dist is not None:
            reasons.append(f"約{dist:.1f}km")
        hits.append(
            HospitalHit(
                facility=f,
                distance_km=dist,
                wards=shown,
                reasons=reasons,
                vacant_beds=sum(w.vacant_beds or 0 for w in shown),
            )
        )
    return hits
