"""Entry points of the demo: create, count and reset the region and the feature demos."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, ProtectedError, RestrictedError
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, Role, User
from renkei.demo.authenticators import ensure_authenticators
from renkei.demo.care import CARE_HINTS, seed_care
from renkei.demo.common import DEFAULT_FACILITIES, DEMO_SOURCE, MAX_FACILITIES, demo_uuid
from renkei.demo.courses import COURSE_LOGINS, seed_courses
from renkei.demo.desk import seed_desk
from renkei.demo.directory import plan_facilities, write_facilities
from renkei.demo.events import seed_events
from renkei.demo.mentoring import seed_mentoring
from renkei.demo.oncall import seed_beds, seed_cover, seed_oncall
from renkei.demo.organizations import (
    DEMO_ORGS,
    create_logins,
    create_orgs,
    create_own_facilities,
    demo_org_codes,
    demo_usernames,
)
from renkei.demo.pdca import seed_pdca
from renkei.demo.places import load_places
from renkei.demo.programmes import PROGRAMME_HINTS, seed_programmes
from renkei.demo.referrals import seed_referrals
from renkei.demo.tokens import seed_token
from renkei.directory.models import Facility
from renkei.testing import DEMO_PASSWORD, make_member


@dataclass
class SeedReport:
    facilities: int
    organizations: int
    users: int
    by_kind: dict[str, int]


class SeedConflict(Exception):
    """The database already holds something the demo would need to create."""


def demo_present() -> bool:
    return Organization.objects.filter(code=demo_uuid("org", "operator"), is_active=True).exists()


def demo_counts() -> SeedReport:
    facilities = Facility.objects.filter(source=DEMO_SOURCE, is_active=True)
    by_kind = dict(
        facilities.order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    return SeedReport(
        facilities=facilities.count(),
        organizations=Organization.objects.filter(code__in=demo_org_codes()).count(),
        users=User.objects.filter(username__in=demo_usernames(), is_active=True).count(),
        by_kind=by_kind,
    )


@transaction.atomic
def seed_demo(
    *, facilities: int = DEFAULT_FACILITIES, now: dt.datetime | None = None
) -> SeedReport:
    """Create the demo region unless it is already there; returns what exists afterwards."""
    if not 0 <= facilities <= MAX_FACILITIES:
        raise ValueError(f"施設数は0〜{MAX_FACILITIES}で指定してください（{facilities}）")
    if demo_present():
        return demo_counts()
    taken = sorted(
        User.objects.filter(username__in=demo_usernames()).values_list("username", flat=True)
    )
    if taken:
        raise SeedConflict(
            f"デモ用のログインIDが既に使われています: {', '.join(taken)}。"
            "別のデータベースを使うか、これらの利用者の名前を変えてから実行してください。"
        )
    now = now or timezone.now()
    places = load_places()
    if not places:
        raise SeedConflict(
            "神奈川県の市区町村データがありません。先に migrate を実行してください。"
        )
    orgs = create_orgs()
    create_logins(orgs)
    create_own_facilities(orgs, {p.municipality.code: p for p in places}, now)
    reserved = [o.name for o in DEMO_ORGS]
    write_facilities(plan_facilities(places, facilities, reserved), now)
    ensure_authenticators(demo_usernames())
    return demo_counts()


@dataclass
class ResetReport:
    deleted: dict[str, int] = field(default_factory=dict)
    retired: dict[str, int] = field(default_factory=dict)


def _delete_or_retire(objs: Iterable[Any], retire: Any, label: str, report: ResetReport) -> None:
    for obj in objs:
        try:
            with transaction.atomic():
                obj.delete()
            report.deleted[label] = report.deleted.get(label, 0) + 1
        except (ProtectedError, RestrictedError):
            retire(obj)
            report.retired[label] = report.retired.get(label, 0) + 1


def _retire_facility(f: Facility) -> None:
    Facility.objects.filter(pk=f.pk).update(
        code=uuid.uuid4(), is_active=False, source=f"{DEMO_SOURCE}-old", medical_id=None,
        care_office_number=None, organization=None,
    )  # fmt: skip


def _retire_user(u: User) -> None:
    # The audit log is append-only and points at the user: keep the row, unusable and renamed.
    u.memberships.all().delete()
    u.username = f"retired-{u.pk}-{u.username}"[:150]
    u.email = ""
    u.is_active = u.is_staff = u.is_superuser = False
    u.set_unusable_password()
    u.save()


def _retire_org(o: Organization) -> None:
    o.memberships.all().delete()
    Organization.objects.filter(pk=o.pk).update(
        code=uuid.uuid4(), is_active=False, name=f"（旧デモ）{o.name}"[:120]
    )


@transaction.atomic
def reset_demo() -> ResetReport:
    """Remove the demo's facilities, organisations and users (regions and capabilities stay).

    Rows the append-only audit log (or another app's record) still points at cannot be
    deleted; they are deactivated and renamed instead, so the demo can be created again.
    """
    report = ResetReport()
    demo = Facility.objects.filter(source=DEMO_SOURCE)
    try:
        with transaction.atomic():
            count = demo.count()
            demo.delete()
            report.deleted["facilities"] = count
    except (ProtectedError, RestrictedError):
        _delete_or_retire(demo.order_by("pk"), _retire_facility, "facilities", report)
    # Only demo accounts: a same-named account outside the demo organisations is not touched.
    users = (
        User.objects.filter(
            username__in=demo_usernames(), memberships__organization__code__in=demo_org_codes()
        )
        .distinct()
        .order_by("pk")
    )
    _delete_or_retire(users, _retire_user, "users", report)
    orgs = Organization.objects.filter(code__in=demo_org_codes()).order_by("pk")
    _delete_or_retire(orgs, _retire_org, "organizations", report)
    return report


# The other parts of the platform. A login listed in DEMO_LOGINS is not repeated here: the
# table prints each account once.
FEATURE_LOGINS: list[tuple[str, str]] = [
    ("demo-msw", "入退院支援: 新しい相談案件を登録し、候補の理由と「不足」を見て一斉に打診する"),
    (
        "demo-discharge-nurse",
        "入退院支援: 同じチームの案件を引き継ぎ、回答を確認して受入先を決定する",
    ),
    ("demo-tokuyo", "受入側: 受信した打診に回答する（受入可・条件付き・面談希望・受入不可）"),
    ("demo-houkan", "受入側（訪問看護）: スマートフォン幅で打診一覧と質問への回答を試す"),
    ("desk-counselor", "相談窓口: 相談を記録し、フォローアップと月次集計を確認する"),
    ("city-ebina", "相談窓口の委託元として、年間集計と報告書の印刷レイアウトを見る"),
    ("events-ebina", "研修: 申込者一覧・当日の出欠チェック・職種別集計を見る"),
    ("mentoring-office", "同行研修: 申込みに指導医を提案・決定し、決定連絡票を印刷する"),
    ("kenou-142182", "調査・指標（/pdca/）: 綾瀬市として下書きの調査回答を仕上げて提出する"),
    *CARE_HINTS,
    ("beds-msw", "後方ベッド（/oncall/beds/）: 登録患者と最後の情報交換、受入れの回答と利用の記録"),
    ("cover-doctor", "副主治医の募集（/oncall/searches/）: 届いた匿名の案件に名乗り出る"),
    *PROGRAMME_HINTS,
    *COURSE_LOGINS,
]


def seed_feature_demos() -> list[tuple[str, str, str, str]]:
    """Example records for the placement network, desk, events and 同行研修, and their logins.

    Each feature's seed is idempotent, so this runs on every `seed_demo` and fills in what a
    database seeded by an older version lacks. Returns (username, role, organisation, hint).
    """
    # The example requests and applications would e-mail their synthetic recipients; in the
    # seed process nobody is to be notified, so mail goes nowhere while it runs.
    previous_backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    try:
        with transaction.atomic():
            seed_referrals()
        with transaction.atomic():
            seed_desk()
        with transaction.atomic():
            events = seed_events()
            organiser = events[0].organization if events else None
            if (
                organiser is not None
                and not Membership.objects.filter(user__username="events-ebina").exists()
            ):
                make_member(
                    organiser,
                    Role.COUNSELOR,
                    username="events-ebina",
                    password=DEMO_PASSWORD,
                    display_name="研修担当 見本（仮名）",
                    is_org_admin=True,
                )
        with transaction.atomic():
            seed_mentoring()
        with transaction.atomic():
            seed_care()
            seed_token()
        with transaction.atomic():
            seed_oncall()
        with transaction.atomic():
            seed_cover()
        with transaction.atomic():
            seed_beds()
        with transaction.atomic():
            seed_courses()
        seed_pdca()
        with transaction.atomic():
            seed_programmes()
    finally:
        settings.EMAIL_BACKEND = previous_backend
    # After every part exists: whether a login reads named data depends on what its
    # organisation runs (a desk, events, a programme).
    ensure_authenticators(demo_usernames() + [username for username, _ in FEATURE_LOGINS])
    roles = dict(Role.choices)
    rows = []
    for username, hint in FEATURE_LOGINS:
        m = (
            Membership.objects.filter(user__username=username, is_active=True)
            .select_related("organization")
            .first()
        )
        if m is not None:
            rows.append((username, roles[m.role], m.organization.name, hint))
    return rows
