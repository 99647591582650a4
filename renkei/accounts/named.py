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
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from renkei.lib.actions import Forbidden

if TYPE_CHECKING:
    from renkei.accounts.models import Membership


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


NAMED_REFUSAL = (
    "この組織の設定では、あなたの職種は氏名入りの記録（申込者・申込書など）を閲覧できません。"
    "閲覧できる職種は組織の管理者が設定します。"
)


class NamedReadRefused(Forbidden, PermissionDenied):
    """A member of the organisation holding the records, in a role its setting does not let
    read named records (ADR 0043): 403 on both doors (the API's ActionError handler, and
    Django's 403 page on a screen)."""


def require_named_reader(m: Membership | None) -> None:
    """Refuse a list, an export or a write of named records to a member outside the
    organisation's named-read roles (its administrators always read)."""
    if m is None or not m.reads_named_records:
        raise NamedReadRefused(NAMED_REFUSAL)
