"""The member menu is assembled from the entries the installed apps register themselves."""

from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts import menu
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db


def test_each_feature_app_registers_its_entry_in_order() -> None:
    names = [e.url_name for e in menu.entries()]
    assert names == [
        "referrals:home",
        "desk:home",
        "events:manage",
        "courses:manage",
        "courses:dispatch",
        "materials:manage",
        "mentoring:home",
        "oncall:home",
        "care:home",
        "programmes:home",
        "pdca:home",
    ]


def test_the_menu_shows_registered_entries_and_hides_invisible_ones(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry's `visible` predicate decides per member; accounts names no feature app."""
    from renkei.accounts.models import OrgKind, Role
    from renkei.testing import make_member, make_org

    monkeypatch.setattr(menu, "_entries", dict(menu._entries))
    menu.register(menu.Entry("directory:search", "隠しメニュー", order=1, visible="builtins.bool"))
    m = make_member(
        make_org("メニュー病院", OrgKind.HOSPITAL, municipality_code="142051"), Role.MSW
    )
    sign_in(client, m.user)
    body = client.get("/directory/").content.decode()
    assert "入退院支援" in body and "隠しメニュー" in body
    menu.register(
        menu.Entry(
            "directory:search",
            "隠しメニュー",
            order=1,
            visible="renkei.accounts.tests.test_menu.never",
        )
    )
    assert "隠しメニュー" not in client.get("/directory/").content.decode()


def never(membership: object) -> bool:
    return False


def every_org(membership: object) -> object:
    from renkei.accounts.models import Organization

    return Organization.objects.all()


def orgs_with_members(membership: object) -> object:
    """Joins to the memberships: each organisation once per member unless distinct."""
    from renkei.accounts.models import Organization

    return Organization.objects.filter(memberships__is_active=True).distinct()


def member_rows(membership: object) -> object:
    from renkei.accounts.models import Organization

    return Organization.objects.filter(memberships__is_active=True)


def nothing(membership: object) -> object:
    from renkei.accounts.models import Organization

    return Organization.objects.none()


def seven(membership: object) -> int:
    return 7


def test_badges_that_are_querysets_are_counted_in_one_statement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each badge shows its QuerySet's `.count()` (distinct or not, empty or not), and all of
    them cost one statement together (ADR 0054)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from renkei.accounts.models import Organization, OrgKind, Role
    from renkei.testing import make_member, make_org

    a = make_org("バッジ病院", OrgKind.HOSPITAL, municipality_code="142051")
    b = make_org("バッジ診療所", OrgKind.CLINIC, municipality_code="142051")
    m = make_member(a, Role.MSW, username="badge-msw-1")
    make_member(a, Role.MSW, username="badge-msw-2")
    make_member(b, Role.DOCTOR, username="badge-doctor")
    here = "renkei.accounts.tests.test_menu"
    monkeypatch.setattr(menu, "_entries", {})
    for order, (url_name, badge) in enumerate(
        [
            ("directory:search", f"{here}.every_org"),
            ("referrals:home", f"{here}.orgs_with_members"),
            ("desk:home", f"{here}.member_rows"),
            ("events:manage", f"{here}.nothing"),
            ("mentoring:home", f"{here}.seven"),
        ]
    ):
        menu.register(menu.Entry(url_name, f"項目{order}", order=order, badge=badge))
    with CaptureQueriesContext(connection) as queries:
        items = menu.for_member(m, "/")
    assert len(queries) == 1, [q["sql"] for q in queries]
    expected = [
        Organization.objects.count(),
        Organization.objects.filter(memberships__is_active=True).distinct().count(),
        Organization.objects.filter(memberships__is_active=True).count(),
        0,
        7,
    ]
    assert expected[1] < expected[2]  # two members of one organisation: distinct matters
    assert [item["badge"] for item in items] == expected


def test_a_values_distinct_or_grouped_badge_counts_its_own_rows() -> None:
    """A badge of `.values(x).distinct()` counts distinct x (not distinct rows of the model),
    and a grouped one counts its groups: each the same as its `.count()`."""
    from django.db.models import Count

    from renkei.accounts.models import Membership, OrgKind, Role
    from renkei.testing import make_member, make_org

    a = make_org("値バッジ病院", OrgKind.HOSPITAL, municipality_code="142051")
    b = make_org("値バッジ診療所", OrgKind.CLINIC, municipality_code="142051")
    make_member(a, Role.MSW, username="values-msw-1")
    make_member(a, Role.MSW, username="values-msw-2")
    make_member(b, Role.DOCTOR, username="values-doctor")
    querysets = [
        Membership.objects.values("organization").distinct(),
        Membership.objects.values_list("role", flat=True).distinct(),
        Membership.objects.values("organization").annotate(n=Count("pk")),
    ]
    items: list[dict[str, object]] = [{} for _ in querysets]
    menu.count_together(list(zip(items, querysets, strict=True)))
    assert [item["badge"] for item in items] == [qs.count() for qs in querysets] == [2, 2, 2]
