"""The team timeline: posts, replies, mentions, reply requests and read receipts.

Post text is 要配慮個人情報, sealed like the patient's identity; search within one patient's
timeline therefore runs over the decrypted posts of that patient only (tens to a few thousand).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Self

from django.db import connections, models, router
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from renkei.accounts.menu import SQLCount
from renkei.accounts.models import Membership, User
from renkei.care.models.patients import (
    CARE_ROLES,
    MemberStatus,
    Patient,
    TeamRole,
    team_patient_ids,
)
from renkei.lib.fields import EncryptedTextField


class Category(models.TextChoices):
    DAILY = "daily", "日々の様子"
    VITALS = "vitals", "バイタル"
    PRESCRIPTION = "prescription", "処方変更"
    CONTACT = "contact", "連絡"
    REQUEST = "request", "依頼"
    VISIT = "visit", "訪問記録"


class PostQuerySet(models.QuerySet["Post"]):
    def unread_by(self, user: User) -> Self:
        read = PostRead.objects.filter(post=OuterRef("pk"), user=user)
        return self.exclude(author__user=user).exclude(Exists(read))


class Post(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="posts")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    category = models.CharField("分類", max_length=20, choices=Category.choices)
    body = EncryptedTextField("本文", max_length=4000)
    mentioned_users = models.ManyToManyField(User, blank=True, related_name="+")
    mentioned_roles = models.JSONField(default=list, blank=True)
    reply_due = models.DateField("返信の期限", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # 在宅医療情報連携加算: what a visit note must carry.
    next_visit = models.DateField("次回の訪問予定日", null=True, blank=True)
    plan_changed = models.BooleanField("診療・ケア方針の変更", default=False)
    plan_summary = EncryptedTextField("変更の概要", max_length=1000, blank=True, default="")
    care_points = EncryptedTextField("療養上の留意点", max_length=1000, blank=True, default="")
    end_of_life = EncryptedTextField(
        "人生の最終段階に関する情報", max_length=1000, blank=True, default=""
    )

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = "タイムラインの投稿"
        verbose_name_plural = "タイムラインの投稿"
        indexes = [models.Index(fields=["patient", "-created_at"], name="care_post_patient_idx")]

    def __str__(self) -> str:
        return f"投稿 {str(self.code)[:8]}"

    def role_labels(self) -> list[str]:
        return [TeamRole(r).label for r in self.mentioned_roles if r in TeamRole.values]


class PostRead(models.Model):
    """Who has seen a post, and when (the read receipts)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="care_read_once")]
        # The unread counts ask "which of these posts has this user read": an anti-join
        # through (user, post) reads only that user's receipts, not the whole table.
        indexes = [models.Index(fields=["user", "post"], name="care_read_user_post_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.read_at:%Y-%m-%d %H:%M}"


class _ListedOnce(Subquery):
    """`IN (subquery)` whose rows PostgreSQL computes once, as an array, before planning the
    outer query around it: `IN (SELECT unnest(ARRAY(subquery)))`. Given the plain subquery,
    the planner probed the team rows once per post (a nested loop over thousands of posts,
    38–59 ms); with the patients as a list it counts each patient's posts and anti-joins the
    receipts by hash (3 ms), and this gives it that list without a statement of its own."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="(SELECT unnest(ARRAY(%(subquery)s)))", **extra
        )


def unread_posts(m: Membership) -> models.QuerySet[Post]:
    """The posts `m` has not read on the patients whose team `m` is on: one statement."""
    read = PostRead.objects.filter(post=OuterRef("pk"), user_id=m.user_id)
    return (
        Post.objects.filter(patient_id__in=_ListedOnce(team_patient_ids(m)))
        .exclude(author__user_id=m.user_id)
        .exclude(Exists(read))
        .order_by()
    )


# The menu's badge (every member page): `unread_posts(m).count()` written out. Building and
# compiling that QuerySet (four nested subqueries) cost ~3 ms of CPU a page, more than the
# statement itself; this is the same rule as `team_patient_ids` and `unread_posts`, pinned
# to them by care/tests/test_unread_badge.py (ADR 0060). On PostgreSQL the patients are listed
# once as an array, as `_ListedOnce` does.
_UNREAD_BADGE = """SELECT COUNT(*) FROM care_post p
JOIN accounts_membership a ON a.id = p.author_id
WHERE p.patient_id IN ({patients})
AND a.user_id <> %s
AND NOT EXISTS (SELECT 1 FROM care_postread r WHERE r.post_id = p.id AND r.user_id = %s)"""
_TEAM_PATIENTS = """SELECT t.patient_id FROM care_careteammember t
JOIN care_patient tp ON tp.id = t.patient_id
WHERE t.membership_id = %s AND t.status = %s AND t.start_date <= %s
AND (t.end_date IS NULL OR t.end_date >= %s)
AND (tp.owner_id = %s
  OR t.patient_id IN (SELECT c.patient_id FROM care_consent c
    WHERE c.revoked_at IS NULL AND c.valid_from <= %s
    AND (c.valid_until IS NULL OR c.valid_until >= %s)
    AND (c.scope = %s
      OR (c.scope = %s AND EXISTS (SELECT 1 FROM care_consent_organizations co
        WHERE co.consent_id = c.id AND co.organization_id = %s))
      OR (c.scope = %s AND EXISTS (SELECT 1 FROM care_consent_people cp
        WHERE cp.consent_id = c.id AND cp.user_id = %s))))
  OR t.patient_id IN (SELECT g.patient_id FROM care_breakglassgrant g
    WHERE g.membership_id = %s AND g.expires_at > %s))"""


def unread_badge_sql(m: Membership, *, now: dt.datetime | None = None) -> SQLCount | int:
    """`unread_posts(m).count()` as the menu's `SQLCount` (0 for a role outside care)."""
    if m.role not in CARE_ROLES:
        return 0
    from renkei.care.models.consent import ConsentScope

    using = router.db_for_read(Post)  # where the QuerySet would have counted
    ops = connections[using].ops
    now = now or timezone.now()
    today = ops.adapt_datefield_value(timezone.localdate(now))
    patients = (
        f"SELECT unnest(ARRAY({_TEAM_PATIENTS}))"
        if connections[using].vendor == "postgresql"
        else _TEAM_PATIENTS
    )
    params = (
        *(m.pk, MemberStatus.ACTIVE.value, today, today, m.organization_id),
        *(today, today, ConsentScope.ALL.value, ConsentScope.ORGANIZATIONS.value),
        *(m.organization_id, ConsentScope.PEOPLE.value, m.user_id),
        *(m.pk, ops.adapt_datetimefield_value(now)),
        *(m.user_id, m.user_id),
    )
    return SQLCount(_UNREAD_BADGE.format(patients=patients), params, using)


def unread_counts(m: Membership) -> dict[int, int]:
    """Unread posts per patient id, over the patients whose team `m` is on (one statement)."""
    rows = unread_posts(m).values_list("patient_id").annotate(n=models.Count("pk"))
    return dict(rows)


def unread_total(m: Membership) -> int:
    return unread_posts(m).count()
