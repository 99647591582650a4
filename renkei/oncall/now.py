"""「いまの当番」 for an area (issue 14 §1, ADR 0016): the published rotas covering a municipality
with the shift on now and the next one, for the phone page and /api/v1/oncall/now alike.

A fixed number of statements whatever the number of rotas: the municipality with its 二次医療圏
(one, then kept), the covering rotas (one), the shifts now and next of all of them (one,
`actions.on_duty`). The page's municipality selector lists a prefecture's municipalities, which
change a few times a year: each process keeps the list, and the municipalities looked up, for
CHOICES_SECONDS, as the directory's search form does.

The shifts' statement is written as SQL (ADR 0056): built through the ORM, its nested correlated
subqueries cost more CPU to compile than the database takes to run them, on every request."""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.db import connections, router
from django.db.models import QuerySet
from django.utils.safestring import SafeString

from renkei.accounts.models import Organization
from renkei.directory.search_html import OptionList
from renkei.lib import rows
from renkei.oncall.models import MonthStatus, Rota, RotaMember, RotaMonth, Shift
from renkei.regions.models import Municipality

CHOICES_SECONDS = 60.0
_choices: dict[int | None, tuple[float, list[Municipality]]] = {}
# Japan has about 1,900 municipalities and wards: a bound the cache never reaches in use.
MUNICIPALITIES_KEPT = 4_000
_municipalities: dict[str | int, tuple[float, Municipality]] = {}


# The selector's options as HTML, per list of choices (ADR 0056): the template's loop over a
# prefecture's 58 municipalities was a fifth of the page's CPU.
_options: dict[int, tuple[list[Municipality], OptionList]] = {}


def forget_choices() -> None:
    """Drop the selector's lists and the municipalities kept (tests; a changed area)."""
    _choices.clear()
    _municipalities.clear()
    _options.clear()


def municipality_choices(prefecture_id: int | None) -> list[Municipality]:
    """The selector's municipalities (code and name) of one prefecture: the chosen
    municipality's, else the member organisation's, else HOME_PREFECTURE (never the nation's
    1,900 on a phone)."""
    cached = _choices.get(prefecture_id)
    if cached is not None and time.monotonic() - cached[0] < CHOICES_SECONDS:
        return cached[1]
    qs = Municipality.objects.selectable().only("pk", "code", "name").order_by("code")
    if prefecture_id:
        qs = qs.filter(prefecture_id=prefecture_id)
    else:
        qs = qs.filter(prefecture__code=settings.HOME_PREFECTURE)
    found = list(qs)
    _choices[prefecture_id] = (time.monotonic(), found)
    return found


def selector_options(choices: list[Municipality], chosen: Municipality | None) -> SafeString:
    """The selector's `<option>`s (code, name; the chosen one selected), escaped once per list."""
    kept = _options.get(id(choices))
    if kept is None or kept[0] is not choices:
        if len(_options) >= 64:  # lists replaced after CHOICES_SECONDS: drop the old ones
            _options.clear()
        kept = (choices, OptionList.select((m.code, m.name) for m in choices))
        _options[id(choices)] = kept
    return kept[1].render({chosen.code} if chosen else ())


def find_municipality(code: str = "", pk: int | None = None) -> Municipality | None:
    """The municipality by its code (or id), with what `Rota.objects.covering` reads of it.

    Kept per process for CHOICES_SECONDS, like the selector's list: municipalities and their
    二次医療圏 change a few times a year, and this lookup was a statement and a tenth of the
    request's CPU. Only found ones are kept (a code typed in the address bar adds nothing)."""
    if not (code.isdigit() or (pk and not code)):
        return None
    key: str | int = code or pk or 0
    cached = _municipalities.get(key)
    if cached is not None and time.monotonic() - cached[0] < CHOICES_SECONDS:
        return cached[1]
    qs = Municipality.objects.select_related("secondary_area", "parent__secondary_area")
    found = qs.filter(**({"code": code} if code else {"pk": pk})).first()
    if found is not None:
        if len(_municipalities) >= MUNICIPALITIES_KEPT:
            _municipalities.clear()
        _municipalities[key] = (time.monotonic(), found)
    return found


def covering(municipality: Municipality) -> QuerySet[Rota]:
    return Rota.objects.covering(municipality).select_related("organizer", "area")


# Per rota `r`, the id of its earliest published shift covering the moment (one that started
# after `earliest`, LONGEST_SHIFT before it); {shift} is the shift's alias.
_CURRENT = (
    "SELECT {shift}.id FROM {shifts} {shift} JOIN {months} {month} ON {month}.id = {shift}.month_id"
    " WHERE {shift}.rota_id = r.id AND {month}.status = %s AND {shift}.starts_at > %s"
    " AND {shift}.starts_at <= %s AND {shift}.ends_at > %s"
    " ORDER BY {shift}.starts_at, {shift}.id LIMIT 1"
)
_NOW_AND_NEXT = """SELECT {columns} FROM {shifts} s
LEFT JOIN {members} m ON m.id = s.member_id
LEFT JOIN {organizations} o ON o.id = m.organization_id
WHERE s.id IN (SELECT ({current}) FROM {rotas} r WHERE r.id IN ({ids}))
OR s.id IN (SELECT (
  SELECT f.id FROM {shifts} f JOIN {months} fm ON fm.id = f.month_id
  WHERE f.rota_id = r.id AND fm.status = %s
  AND f.starts_at >= COALESCE(({current_row}), %s)
  ORDER BY f.starts_at, f.id LIMIT 1
) FROM {rotas} r WHERE r.id IN ({ids}))"""


def shifts_now_and_next(
    rota_ids: list[int], moment: dt.datetime, longest: dt.timedelta
) -> list[Shift]:
    """The shifts of `actions.on_duty` with their member and the member's organisation, in one
    statement: per rota, the current one and the next one (see there)."""
    db = router.db_for_read(Shift)
    connection = connections[db]
    qn = connection.ops.quote_name
    current = _CURRENT.format(
        shift="c", month="cm", shifts=qn(Shift._meta.db_table), months=qn(RotaMonth._meta.db_table)
    )
    ids = ", ".join(["%s"] * len(rota_ids))
    sql = _NOW_AND_NEXT.format(
        columns=", ".join(
            rows.columns(a, m) for a, m in (("s", Shift), ("m", RotaMember), ("o", Organization))
        ),
        shifts=qn(Shift._meta.db_table),
        months=qn(RotaMonth._meta.db_table),
        members=qn(RotaMember._meta.db_table),
        organizations=qn(Organization._meta.db_table),
        rotas=qn(Rota._meta.db_table),
        current=current,
        current_row=current.replace("SELECT c.id", "SELECT c.ends_at"),
        ids=ids,
    )
    at = connection.ops.adapt_datetimefield_value(moment)
    earliest = connection.ops.adapt_datetimefield_value(moment - longest)
    covering_params = [MonthStatus.PUBLISHED.value, earliest, at, at]
    params = [
        *covering_params,
        *rota_ids,
        MonthStatus.PUBLISHED.value,
        *covering_params,
        at,
        *rota_ids,
    ]
    shift_reader, member_reader, org_reader = (
        rows.reader(m, connection.vendor) for m in (Shift, RotaMember, Organization)
    )
    n_shift, n_member = len(shift_reader.names), len(member_reader.names)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    found = []
    for row in fetched:
        shift = shift_reader.build(db, row[:n_shift], connection)
        member_values = row[n_shift : n_shift + n_member]
        if member_values[0] is None:  # a gap: nobody assigned
            shift.member = None
        else:
            member = member_reader.build(db, member_values, connection)
            member.organization = org_reader.build(db, row[n_shift + n_member :], connection)
            shift.member = member
        found.append(shift)
    return found
