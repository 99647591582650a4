"""Builders for programme records, shared by the tests and the demo seed (through the actions,
so both make records the same way)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.programmes import actions
from renkei.programmes.models import (
    FundingSource,
    Issue,
    Meeting,
    MeetingBody,
    ProgrammeLine,
    ProgrammeTable,
)
from renkei.testing import make_member, make_org


def make_city_office(
    name: str = "横須賀市 地域医療推進課", municipality_code: str = "142018", *, username: str
) -> Membership:
    org = make_org(name, OrgKind.MUNICIPALITY, municipality_code=municipality_code)
    return make_member(org, Role.MUNICIPAL_OFFICER, username=username)


def make_prefecture_office(
    name: str = "神奈川県 在宅医療担当", prefecture_code: str = "14", *, username: str
) -> Membership:
    org = make_org(name, OrgKind.PREFECTURE, prefecture_code=prefecture_code)
    return make_member(org, Role.PREFECTURAL_OFFICER, username=username)


def source(name: str) -> FundingSource:
    return FundingSource.objects.get(name=name)


def make_table(
    by: Membership,
    fiscal_year: int,
    title: str = "在宅医療・介護連携推進事業一覧",
    *,
    lines: Iterable[dict[str, Any]] = (),
    results_as_of: dt.date | None = None,
) -> ProgrammeTable:
    """`lines`: LineInput fields; `budget` as (財源の名前, 千円[, 摘要]) tuples."""
    table = actions.save_table(
        by=by,
        data=actions.TableInput(fiscal_year=fiscal_year, title=title, results_as_of=results_as_of),
    )
    for line in lines:
        add_line(by, table, **line)
    return table


def add_line(
    by: Membership,
    table: ProgrammeTable,
    *,
    budget: Sequence[tuple[Any, ...]] = (),
    **fields: Any,
) -> ProgrammeLine:
    budgets = [
        actions.BudgetInput(
            source_id=source(b[0]).pk, amount=b[1], label=b[2] if len(b) > 2 else ""
        )
        for b in budget
    ]
    return actions.save_line(table, by=by, data=actions.LineInput(**fields, budget=budgets or None))


def make_body(by: Membership, name: str, kind: str, **fields: Any) -> MeetingBody:
    return actions.save_body(by=by, data=actions.BodyInput(name=name, kind=kind, **fields))


def make_meeting(
    body: MeetingBody, by: Membership, held_on: dt.date, number: int, **fields: Any
) -> Meeting:
    from renkei.lib.dates import fiscal_year

    return actions.save_meeting(
        body,
        by=by,
        data=actions.MeetingInput(
            fiscal_year=fiscal_year(held_on), number=number, held_on=held_on, **fields
        ),
    )


def make_issue(by: Membership, title: str, raised_on: dt.date, **fields: Any) -> Issue:
    fields.setdefault("source", "desk")
    return actions.save_issue(
        by=by, data=actions.IssueInput(title=title, raised_on=raised_on, **fields)
    )
