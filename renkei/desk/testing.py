"""Deterministic builders for the consultation desk, shared by tests and the demo seed.

Every person here is synthetic and marked （仮名）.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.desk import actions
from renkei.desk.models import Consultation, Desk, FollowUp, Topic
from renkei.desk.vocabulary import DEFAULT_TOPICS
from renkei.directory.models import Facility
from renkei.regions.models import Municipality
from renkei.testing import make_member, make_org


def ensure_default_topics() -> None:
    """Put the shared topics back after a transactional test flushed the migration's rows."""
    for i, name in enumerate(DEFAULT_TOPICS, start=1):
        Topic.objects.get_or_create(desk=None, name=name, defaults={"sort_order": i * 10})


def make_desk(
    name: str = "えびな在宅医療相談室",
    *,
    organization: Organization | None = None,
    municipality_codes: Iterable[str] = ("142158",),
    contractors: Iterable[Organization] = (),
) -> Desk:
    codes = list(municipality_codes)
    if organization is None:
        organization = make_org(
            f"{name}（運営）",
            OrgKind.COORDINATION_CENTER,
            municipality_code=codes[0] if codes else None,
        )
    desk = Desk.objects.create(organization=organization, name=name)
    desk.municipalities.set(Municipality.objects.filter(code__in=codes))
    desk.contractors.set(list(contractors))
    return desk


def make_desk_member(
    desk: Desk,
    role: str = Role.COUNSELOR,
    *,
    username: str | None = None,
    display_name: str = "",
    is_org_admin: bool = False,
) -> Membership:
    return make_member(
        desk.organization,
        role,
        username=username or f"desk{desk.pk}-{role}",
        display_name=display_name,
        is_org_admin=is_org_admin,
    )


def topics(desk: Desk, *names: str) -> list[Topic]:
    found = {t.name: t for t in desk.topics().filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise LookupError(f"unknown topics: {missing}")
    return [found[n] for n in names]


def make_consultation(
    desk: Desk,
    by: Membership,
    *,
    received_at: dt.datetime | None = None,
    channel: str = "phone",
    asker_type: str = "family",
    topic_names: Sequence[str] = ("訪問看護",),
    scene: str = "daily",
    programme_item: str = "o",
    subject_name: str = "",
    subject_kana: str = "",
    subject_age: int | None = None,
    subject_municipality_code: str | None = None,
    consent: str = "not_asked",
    consent_date: dt.date | None = None,
    summary: str = "訪問看護を利用したいが、どこに相談すればよいか。",
    actions_taken: str = "",
    status: str = "open",
    facilities: Iterable[Facility] = (),
    followup: dict[str, Any] | None = None,
    confirm: bool = False,
) -> Consultation:
    fields: dict[str, Any] = {
        "received_at": received_at or timezone.now(),
        "channel": channel,
        "asker_type": asker_type,
        "asker_detail": "",
        "programme_item": programme_item,
        "scene": scene,
        "subject_name": subject_name,
        "subject_kana": subject_kana,
        "subject_age": subject_age,
        "subject_municipality": (
            Municipality.objects.get(code=subject_municipality_code)
            if subject_municipality_code
            else None
        ),
        "consent": consent,
        "consent_date": consent_date,
        "summary": summary,
        "actions_taken": actions_taken,
        "status": status,
    }
    return actions.create_consultation(
        desk,
        by=by,
        fields=fields,
        topics=topics(desk, *topic_names),
        facilities=facilities,
        followup=followup,
        confirm=confirm,
    )


def make_followup(
    consultation: Consultation,
    by: Membership,
    *,
    due_date: dt.date,
    note: str = "ケアマネジャーに状況を確認する",
) -> FollowUp:
    return actions.add_followup(consultation, by=by, due_date=due_date, note=note)
