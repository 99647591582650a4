"""The team timeline: posts and replies, @-mentions, reply requests, read receipts.

Mails of mentions and requests carry a link only (renkei.lib.mail: no patient data in a body).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Annotated

from django.core.paginator import Page, Paginator
from django.db import models, transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from pydantic import Field, model_validator

from renkei.accounts.models import AuditEntry, Membership, Organization, User
from renkei.care.actions.patients import audit_read, require_on_team
from renkei.care.models import CareTeamMember, Category, Patient, Post, PostRead, TeamRole
from renkei.lib import mail
from renkei.lib.actions import ActionError, notify
from renkei.lib.inputs import CalendarDate, Input, required
from renkei.lib.text import normalize_search

PER_PAGE = 30
NEXT_VISIT_REQUIRED = "訪問記録には次回の訪問予定日を入力してください"
PLAN_SUMMARY_REQUIRED = "方針の変更がある場合は、変更の概要を入力してください"
_MENTION = re.compile(r"[@＠]([^\s@＠、。,]+)")


class PostInput(Input):
    category: Category = Category.DAILY
    body: Annotated[str, Field(min_length=1, max_length=4000), required("本文を入力してください")]
    reply_due: CalendarDate | None = Field(None, description="返信を依頼する期限")
    parent: uuid.UUID | None = Field(None, description="返信先の投稿のID")
    next_visit: CalendarDate | None = None
    plan_changed: bool = False
    plan_summary: str = Field("", max_length=1000)
    care_points: str = Field("", max_length=1000)
    end_of_life: str = Field("", max_length=1000)

    @model_validator(mode="after")
    def _visit_items(self) -> PostInput:
        if self.category == Category.VISIT and self.next_visit is None:
            raise ValueError(NEXT_VISIT_REQUIRED)
        if self.plan_changed and not self.plan_summary.strip():
            raise ValueError(PLAN_SUMMARY_REQUIRED)
        return self


class TimelineQuery(Input):
    q: str = Field("", max_length=100)
    page: int = Field(1, ge=1, le=10_000)


ROLE_BY_LABEL = {TeamRole(r).label: r for r in TeamRole.values}


def mentions(body: str, team: list[CareTeamMember]) -> tuple[list[Membership], list[str]]:
    """@login-id names a person on the team; @主治医, @訪問看護 … a team role (its members)."""
    people: dict[int, Membership] = {}
    roles: list[str] = []
    for token in _MENTION.findall(body):
        role = ROLE_BY_LABEL.get(token) or (token if token in TeamRole.values else None)
        if role:
            if role not in roles:
                roles.append(role)
            for r in team:
                if r.team_role == role:
                    people[r.membership_id] = r.membership
            continue
        for r in team:
            if r.membership.user.username == token:
                people[r.membership_id] = r.membership
    return list(people.values()), roles


@transaction.atomic
def create_post(
    patient: Patient, *, by: Membership, data: PostInput, request: HttpRequest | None = None
) -> Post:
    require_on_team(patient, by)
    parent = None
    if data.parent is not None:
        parent = Post.objects.filter(patient=patient, code=data.parent).first()
        if parent is None:
            raise ActionError("返信先の投稿が見つかりません", field="parent")
        parent = parent.parent or parent  # one level of replies
    team = list(patient.current_team())
    people, roles = mentions(data.body, team)
    post = Post.objects.create(
        patient=patient,
        parent=parent,
        author=by,
        category=data.category,
        body=data.body,
        mentioned_roles=roles,
        reply_due=data.reply_due,
        next_visit=data.next_visit,
        plan_changed=data.plan_changed,
        plan_summary=data.plan_summary,
        care_points=data.care_points,
        end_of_life=data.end_of_life,
    )
    post.mentioned_users.set([m.user for m in people])
    PostRead.objects.create(post=post, user=by.user)
    AuditEntry.record(
        "care.post_created",
        request=request,
        by=by,
        target=patient,
        detail={"post": str(post.code), "category": data.category.value},
    )
    to_tell = [m for m in people if m.pk != by.pk]
    if data.reply_due and not to_tell:
        to_tell = [r.membership for r in team if r.membership_id != by.pk]
    if to_tell:
        notify(
            to=[m.user.email for m in to_tell if m.user.email],
            subject="返信の依頼が届いています"
            if data.reply_due
            else "タイムラインでメンションされました",
            template="care_mention.txt",
            context={
                "author": by.user,
                "organization": by.organization,
                "due": data.reply_due,
                "url": mail.site_url(reverse("care:patient", args=[patient.code])),
            },
        )
    return post


def _unshown(model: type[models.Model], prefix: str, shown: set[str]) -> list[str]:
    return [f"{prefix}{f.name}" for f in model._meta.concrete_fields if f.name not in shown]


# Of a post's author the pages and the API show the name and the organisation's name: the
# rest of the member, user and organisation rows (a password hash, settings, addresses) is
# left in the database. Fewer columns fetched and set on each of the ~100 objects a page of
# posts builds (issue 13 §7).
_AUTHOR_UNSHOWN = [
    *_unshown(Membership, "author__", {"id", "user", "organization"}),
    *_unshown(User, "author__user__", {"id", "username", "display_name"}),
    *_unshown(Organization, "author__organization__", {"id", "name"}),
]


def timeline(
    patient: Patient,
    *,
    by: Membership,
    query: TimelineQuery,
    request: HttpRequest | None = None,
    mark_read: bool = True,
    on_team: bool | None = None,
) -> Page[Post]:
    """One page of threads (newest first, replies under their post), searched in Python over
    the decrypted text; what is shown is read by `by` (the receipts), and audited.

    One query per kind of data, whatever the page holds: the count, the threads, their
    replies, the receipts of all of them (with the readers); then the audit row and one
    insert of the new receipts. Only the shown posts are decrypted."""
    threads = (
        Post.objects.filter(patient=patient, parent__isnull=True)
        .select_related("author__user", "author__organization")
        .defer(*_AUTHOR_UNSHOWN)
        .order_by("-created_at", "-pk")
    )
    if query.q:
        q = normalize_search(query.q)
        hits = {
            parent_id or pk
            for pk, parent_id, body in _texts(patient)
            if q in normalize_search(body)
        }
        threads = threads.filter(pk__in=hits)
    page = Paginator(threads, PER_PAGE).get_page(query.page)
    posts = list(page.object_list)
    replies = (
        Post.objects.filter(parent__in=posts)
        .select_related("author__user", "author__organization")
        .defer(*_AUTHOR_UNSHOWN)
        .order_by("created_at", "pk")
    )
    by_parent: dict[int, list[Post]] = {}
    for r in replies:
        by_parent.setdefault(r.parent_id or 0, []).append(r)
    shown = posts + [r for rs in by_parent.values() for r in rs]
    # Of each reader only what the page and the API show (their name), as tuples: a receipt
    # per member per post is most of the rows a page loads, and a model object (receipt and
    # user) for each cost more than the rest of the fetch (issue 13 §7).
    reads: dict[int, list[tuple[int, str, str]]] = {}
    receipts = (
        PostRead.objects.filter(post__in=shown)
        .order_by("read_at", "pk")  # who read it first, first
        .values_list("post_id", "user_id", "user__username", "user__display_name")
    )
    for post_id, user_id, username, display_name in receipts:
        reads.setdefault(post_id, []).append((user_id, username, display_name))
    for p in shown:
        rs = reads.get(p.pk, [])
        p.thread = by_parent.get(p.pk, [])  # type: ignore[attr-defined]
        p.read_by = [username for _, username, _ in rs]  # type: ignore[attr-defined]
        # Joined here, not by a loop of template nodes per reader (`str(User)`: the display
        # name, else the username).
        p.reader_names = "、".join(name or username for _, username, name in rs)  # type: ignore[attr-defined]
        p.unread = all(user_id != by.user_id for user_id, _, _ in rs)  # type: ignore[attr-defined]
    unread_ids = [p.pk for p in shown if p.unread]  # type: ignore[attr-defined]
    page.object_list = posts
    audit_read(patient, by=by, what="timeline", request=request, on_team=on_team)
    if mark_read and unread_ids:
        PostRead.objects.bulk_create(
            [PostRead(post_id=pk, user=by.user) for pk in unread_ids], ignore_conflicts=True
        )
    return page


def _texts(patient: Patient) -> list[tuple[int, int | None, str]]:
    return [
        (p.pk, p.parent_id, p.body)
        for p in Post.objects.filter(patient=patient).only("pk", "parent_id", "body")
    ]


@transaction.atomic
def mark_read(post: Post, *, by: Membership, request: HttpRequest | None = None) -> Post:
    PostRead.objects.get_or_create(post=post, user=by.user)
    return post


# What changed since my last visit ------------------------------------------------------

SINCE_LIMIT = 200


@dataclass
class Changes:
    """What others recorded about the patient since the member's own last post."""

    since: dt.datetime | None
    posts: list[Post]
    sheet_updated: bool
    acp_versions: int
    forms_received: int
    truncated: bool


def changes_since_last_visit(
    patient: Patient,
    *,
    by: Membership,
    request: HttpRequest | None = None,
    on_team: bool | None = None,
) -> Changes:
    """The doctor's view (issue 13 §6): since the member last wrote on this timeline (a visit
    note or any post), what the others wrote, newest first, and whether the emergency sheet,
    the ACP record or forms to the member's organisation changed. The first time, everything
    (up to SINCE_LIMIT posts). Audited as a read; nothing is marked read here."""
    from renkei.care.models import AcpRecord, EmergencySheet, SharedForm

    since = (
        Post.objects.filter(patient=patient, author__user=by.user)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    posts_qs = (
        Post.objects.filter(patient=patient)
        .exclude(author__user=by.user)
        .select_related("author__user", "author__organization")
        .defer(*_AUTHOR_UNSHOWN)
        # Shown: the body and a changed plan's summary; the other visit items stay sealed,
        # and of a reply's parent only its code (not the whole sealed row).
        .defer("care_points", "end_of_life")
        .annotate(parent_code=F("parent__code"))
        .order_by("-created_at", "-pk")
    )
    if since is not None:
        posts_qs = posts_qs.filter(created_at__gt=since)
    posts = list(posts_qs[: SINCE_LIMIT + 1])
    after = {"updated_at__gt": since} if since else {}
    changes = Changes(
        since=since,
        posts=posts[:SINCE_LIMIT],
        sheet_updated=EmergencySheet.objects.filter(patient=patient, **after)
        .exclude(updated_by__user=by.user)
        .exists(),
        acp_versions=AcpRecord.objects.filter(
            patient=patient, **({"recorded_at__gt": since} if since else {})
        )
        .exclude(recorded_by__user=by.user)
        .count(),
        forms_received=SharedForm.objects.filter(
            patient=patient,
            recipient_id=by.organization_id,
            **({"sent_at__gt": since} if since else {"sent_at__isnull": False}),
        ).count(),
        truncated=len(posts) > SINCE_LIMIT,
    )
    audit_read(patient, by=by, what="since_last_visit", request=request, on_team=on_team)
    return changes
