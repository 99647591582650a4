"""Consultation workflows: transactional, audited, optimistic-locked, versioned once confirmed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, User
from renkei.desk.models import (
    Consultation,
    ConsultationVersion,
    Desk,
    FollowUp,
    Topic,
    diff,
)
from renkei.directory.models import Facility


class StaleVersion(Exception):
    """Someone saved the consultation after this form was loaded (security R22)."""

    def __init__(self, current: Consultation) -> None:
        super().__init__(
            "他の方が先にこの相談記録を更新しました。最新の内容を確認してから、もう一度保存してください。"
        )
        self.current = current


class DeskError(ValueError):
    """A refused operation; the message is shown to the user as is."""


# Content fields a form or API may set; the many-to-many sets travel separately.
EDITABLE_FIELDS = (
    "received_at",
    "channel",
    "asker_type",
    "asker_detail",
    "programme_item",
    "scene",
    "subject_name",
    "subject_kana",
    "subject_age",
    "subject_municipality",
    "consent",
    "consent_date",
    "summary",
    "actions_taken",
    "status",
)


def _require_member(desk: Desk, by: Membership) -> None:
    if not desk.is_member(by):
        raise PermissionDenied("この相談窓口の職員ではありません")


def _check_topics(desk: Desk, topics: Sequence[Topic]) -> None:
    if not topics:
        raise ValidationError({"topics": "相談内容の分類を1つ以上選んでください"})
    allowed = set(desk.topics().values_list("pk", flat=True))
    if any(t.pk not in allowed for t in topics):
        raise ValidationError({"topics": "この窓口で使えない分類が含まれています"})


@transaction.atomic
def create_consultation(
    desk: Desk,
    *,
    by: Membership,
    fields: dict[str, Any],
    topics: Iterable[Topic],
    facilities: Iterable[Facility] = (),
    followup: dict[str, Any] | None = None,
    confirm: bool = False,
    request: HttpRequest | None = None,
) -> Consultation:
    """Record a consultation, optionally with a first follow-up and confirmed at once."""
    _require_member(desk, by)
    topic_list = list(topics)
    _check_topics(desk, topic_list)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    c = Consultation(desk=desk, entered_by=by.user, **fields)
    c.full_clean(exclude=["topics", "referred_facilities", "entered_by"])
    if followup is not None:
        _validate_followup(desk, followup)
    c.save()
    c.topics.set(topic_list)
    c.referred_facilities.set(list(facilities))
    AuditEntry.record(
        "desk.consultation_created",
        request=request,
        actor=by.user,
        membership=by,
        target=c,
        detail={"desk": str(desk.code), "named": c.is_named},
    )
    if followup is not None:
        add_followup(c, by=by, request=request, **followup)
    if confirm:
        c = confirm_consultation(c, by=by, request=request)
    return c


def _bump_version(c: Consultation, expected: int | None) -> None:
    qs = Consultation.objects.filter(pk=c.pk)
    if expected is not None:
        qs = qs.filter(version=expected)
    if qs.update(version=F("version") + 1) != 1:
        raise StaleVersion(Consultation.objects.get(pk=c.pk))
    c.refresh_from_db(fields=["version"])


@transaction.atomic
def update_consultation(
    c: Consultation,
    *,
    by: Membership,
    fields: dict[str, Any],
    topics: Iterable[Topic] | None = None,
    facilities: Iterable[Facility] | None = None,
    expected_version: int | None,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Consultation:
    """Apply an edit. A draft is overwritten; a confirmed record gets a new version (R12).

    ``expected_version`` is the version the editor loaded: a different current version
    means someone saved in between, and the edit is refused (R22) rather than lost.
    """
    c = Consultation.objects.select_for_update().get(pk=c.pk)
    _require_member(c.desk, by)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    if expected_version is not None and c.version != expected_version:
        raise StaleVersion(c)
    reason = reason.strip()
    if c.is_confirmed and not reason:
        raise ValidationError(
            {"reason": "確定済みの記録を修正するときは、修正理由を入力してください"}
        )
    before = c.snapshot()
    for name, value in fields.items():
        setattr(c, name, value)
    topic_list = list(topics) if topics is not None else None
    if topic_list is not None:
        _check_topics(c.desk, topic_list)
    c.full_clean(exclude=["topics", "referred_facilities", "entered_by"])
    _bump_version(c, c.version)
    c._revising = True  # type: ignore[attr-defined]
    try:
        c.save()
    finally:
        c._revising = False  # type: ignore[attr-defined]
    if topic_list is not None:
        c.topics.set(topic_list)
    if facilities is not None:
        c.referred_facilities.set(list(facilities))
    after = c.snapshot()
    changes = diff(before, after)
    if c.is_confirmed:
        if not changes:
            raise ValidationError("変更された項目がありません")
        _write_version(c, by=by.user, changes=changes, reason=reason)
    AuditEntry.record(
        "desk.consultation_revised" if c.is_confirmed else "desk.consultation_updated",
        request=request,
        actor=by.user,
        membership=by,
        target=c,
        detail={"fields": sorted(changes), "reason": reason, "version": c.version},
    )
    return c


def _write_version(
    c: Consultation, *, by: User, changes: dict[str, Any], reason: str
) -> ConsultationVersion:
    last = c.versions.order_by("-number").first()
    v = ConsultationVersion(
        consultation=c,
        number=(last.number + 1) if last else 1,
        data=c.snapshot(),
        changes=changes,
        reason=reason,
        created_by=by,
        created_at=timezone.now(),
    )
    v.digest = v.compute_digest(last.digest if last else "")
    v.save()
    return v


@transaction.atomic
def confirm_consultation(
    c: Consultation,
    *,
    by: Membership,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Consultation:
    """確定: record the confirmer and time, and freeze the content as version 1."""
    c = Consultation.objects.select_for_update().select_related("desk").get(pk=c.pk)
    if not c.desk.is_member(by):
        raise PermissionDenied("この相談窓口の職員ではありません")
    if not c.desk.can_confirm(by):
        raise PermissionDenied(
            "記録を確定できるのは、相談員・看護師・医師・MSW・行政担当または組織管理者です"
        )
    if c.is_confirmed:
        raise DeskError("この相談記録は既に確定されています")
    if expected_version is not None and c.version != expected_version:
        raise StaleVersion(c)
    _bump_version(c, c.version)
    c.confirmed_by = by.user
    c.confirmed_at = timezone.now()
    c.save(update_fields=["confirmed_by", "confirmed_at", "updated_at"])
    _write_version(c, by=by.user, changes={}, reason="確定")
    AuditEntry.record(
        "desk.consultation_confirmed",
        request=request,
        actor=by.user,
        membership=by,
        target=c,
        detail={"version": c.version},
    )
    return c


def _validate_followup(desk: Desk, data: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    due = data.get("due_date")
    if not isinstance(due, dt.date):
        errors["due_date"] = "期日を入力してください"
    elif due < dt.date(2000, 1, 1) or due > timezone.localdate() + dt.timedelta(days=3 * 366):
        errors["due_date"] = "期日は2000年以降、3年以内の日付を入力してください"
    if not (data.get("note") or "").strip():
        errors["note"] = "フォローアップの内容を入力してください"
    assignee = data.get("assignee")
    if (
        assignee is not None
        and not Membership.objects.filter(
            user=assignee, organization_id=desk.organization_id, is_active=True
        ).exists()
    ):
        errors["assignee"] = "担当者はこの窓口の職員から選んでください"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def add_followup(
    c: Consultation,
    *,
    by: Membership,
    due_date: dt.date,
    note: str,
    assignee: User | None = None,
    request: HttpRequest | None = None,
) -> FollowUp:
    _require_member(c.desk, by)
    data = {"due_date": due_date, "note": note, "assignee": assignee}
    _validate_followup(c.desk, data)
    f = FollowUp.objects.create(
        consultation=c, due_date=due_date, note=note.strip(), assignee=assignee, created_by=by.user
    )
    AuditEntry.record(
        "desk.followup_added",
        request=request,
        actor=by.user,
        membership=by,
        target=c,
        detail={"followup": f.pk, "due": due_date.isoformat()},
    )
    return f


@transaction.atomic
def complete_followup(
    f: FollowUp, *, by: Membership, request: HttpRequest | None = None
) -> FollowUp:
    f = FollowUp.objects.select_for_update().select_related("consultation__desk").get(pk=f.pk)
    _require_member(f.consultation.desk, by)
    if f.done_at is not None:
        raise DeskError("このフォローアップは既に完了しています")
    f.done_at = timezone.now()
    f.done_by = by.user
    f.save(update_fields=["done_at", "done_by"])
    AuditEntry.record(
        "desk.followup_done",
        request=request,
        actor=by.user,
        membership=by,
        target=f.consultation,
        detail={"followup": f.pk},
    )
    return f


@transaction.atomic
def add_topic(
    desk: Desk, *, by: Membership, name: str, request: HttpRequest | None = None
) -> Topic:
    _require_member(desk, by)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "分類名を入力してください"})
    if len(name) > 40:
        raise ValidationError({"name": "分類名は40文字以内で入力してください"})
    if desk.topics().filter(name=name).exists():
        raise ValidationError({"name": f"「{name}」は既にあります"})
    topic = Topic.objects.create(desk=desk, name=name, sort_order=500)
    AuditEntry.record(
        "desk.topic_added",
        request=request,
        actor=by.user,
        membership=by,
        target=desk,
        detail={"topic": name},
    )
    return topic


def audit_read(
    request: HttpRequest | None,
    *,
    by: Membership,
    consultations: Sequence[Consultation],
    action: str,
    desk: Desk | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """R08: one entry per read, listing every consultation id shown.

    A single record is the entry's target; a list or export names all ids in the detail
    so that a breach-scope query finds every record a user saw.
    """
    if not consultations:
        return None
    target: Any = consultations[0] if len(consultations) == 1 and desk is None else desk
    user = getattr(request, "user", None)
    return AuditEntry.record(
        action,
        request=request,
        actor=user if user is not None and user.pk == by.user_id else by.user,
        membership=by,
        target=target,
        detail={
            "ids": [str(c.code) for c in consultations],
            "named": [str(c.code) for c in consultations if c.is_named],
            **(extra or {}),
        },
    )
