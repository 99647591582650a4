"""Who reads named personal data, in one place (ADR 0043).

Each feature app registers, in its AppConfig.ready(), the permission through which its screens
and API hand out named records: a filter over memberships built from the same rule its access
code applies (the desk's named-read roles, the events' organiser, care's professions …). The
second factor is then required for every membership one of these matches, so a new named read
cannot be added without 2FA following it: the policy is derived, not listed by hand.

    named.register(named.NamedRead("events.applicants", "研修・講座の申込者",
                                   lambda: Q(organization__events__isnull=False)))

A membership matched by none of them may still be made to use one: an administrator lists its
role in TwoFactorPolicy (which adds, never exempts).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from django.db.models import Q


@dataclass(frozen=True)
class NamedRead:
    code: str
    label: str
    # Memberships this permission lets read named records (a filter on Membership).
    members: Callable[[], Q]
    # Roles it grants the read to whatever the organisation (already inside `members`), so
    # that a policy cannot exempt them before anyone holds one.
    roles: frozenset[str] = frozenset()


_reads: dict[str, NamedRead] = {}


def register(read: NamedRead) -> None:
    _reads[read.code] = read


def reads() -> list[NamedRead]:
    return sorted(_reads.values(), key=lambda r: r.code)


def readers() -> Q:
    """Memberships that read any named record."""
    parts = [r.members() for r in _reads.values()]
    return reduce(operator.or_, parts) if parts else Q(pk__in=[])
