"""The candidate query's facilities as tuples, not model instances (ADR 0075).

Matching reads up to 121 facility rows a candidates page and the API; building a Facility
for each through `Facility.objects.raw` (its __init__, its signals, the raw query's column
mapping) was about a third of the page's CPU. A row here is a NamedTuple of the columns the
candidate query selects, with the ORM's own converters applied (SQLite returns UUIDs, dates
and booleans as text and numbers), so each value is what the Facility field would hold, and
the few Facility methods that matching, the rows and the API call.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

from django.db import connections, models
from django.db.models.expressions import Col
from django.utils import timezone

from renkei.directory.models import Facility, FacilityKind, VacancyStatus

KIND_LABELS: dict[str, str] = {str(k): str(v) for k, v in FacilityKind.choices}
VACANCY_LABELS: dict[str, str] = {str(k): str(v) for k, v in VacancyStatus.choices}


class FacilityRow(NamedTuple):
    """A facility as the candidate query reads it: Facility's columns, then the query's own."""

    id: int
    code: uuid.UUID
    kind: str
    name: str
    municipality_id: int
    lat: float | None
    lng: float | None
    capability_mask: int
    care_level_min: int | None
    care_level_max: int | None
    accepts_dementia: bool | None
    accepts_infection: bool | None
    sex_accepted: str
    cost_min: int | None
    cost_max: int | None
    service_radius_km: float | None
    vacancy_status: str
    vacancy_count: int | None
    vacancy_confirmed_at: dt.datetime | None
    is_home_care_support: bool
    is_backup_hospital: bool
    organization_id: int | None
    # Not matching's: the page of facilities outside the network shows it, and a column of
    # ~120 short rows costs less than the statement that fetched it afterwards (ADR 0070).
    phone: str
    # The query's own columns, after Facility's.
    municipality_name: str
    dist2: float | None
    fails: int
    vac: int

    @property
    def pk(self) -> int:
        return self.id

    def get_kind_display(self) -> str:
        # As Model.get_FOO_display: an unknown value shows as itself.
        return KIND_LABELS.get(self.kind, self.kind)

    def get_vacancy_status_display(self) -> str:
        return VACANCY_LABELS.get(self.vacancy_status, self.vacancy_status)

    def vacancy_age_days(self, now: dt.datetime | None = None) -> int | None:
        """As Facility.vacancy_age_days."""
        if self.vacancy_confirmed_at is None:
            return None
        return ((now or timezone.now()) - self.vacancy_confirmed_at).days


# The Facility columns the candidate query selects, in FacilityRow's order.
OWN_COLUMNS = ("municipality_name", "dist2", "fails", "vac")
COLUMNS = FacilityRow._fields[: -len(OWN_COLUMNS)]

Converter = Callable[[Any, Any, Any], Any]


@functools.cache
def _converters(vendor: str) -> tuple[tuple[int, tuple[Converter, ...], Col], ...]:
    """The ORM's conversions of the Facility columns on a backend, worked out once a process:
    (position, converters, column) for each column that has any."""
    connection = next(c for c in connections.all() if c.vendor == vendor)
    out = []
    for i, name in enumerate(COLUMNS):
        f = cast("models.Field[Any, Any]", Facility._meta.get_field(name))
        col = f.cached_col
        fns = tuple(connection.ops.get_db_converters(col) + f.get_db_converters(connection))
        if fns:
            out.append((i, fns, col))
    return tuple(out)


def read(text: str, params: Sequence[Any]) -> list[FacilityRow]:
    """Run a statement selecting COLUMNS then OWN_COLUMNS; its rows as FacilityRows."""
    connection = connections[Facility.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        raw = cursor.fetchall()
    converters = _converters(connection.vendor)
    if not converters:
        return [FacilityRow._make(r) for r in raw]
    out = []
    for r in raw:
        values = list(r)
        for i, fns, col in converters:
            for fn in fns:
                values[i] = fn(values[i], col, connection)
        out.append(FacilityRow._make(values))
    return out
