"""The membership a signed-in request acts in, as one written statement (ADR 0069), is the
one the QuerySets it replaced chose, with the same rows attached, in every state."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model

from renkei.accounts.middleware import acting_membership
from renkei.accounts.models import Membership, OrgKind, Role, User
from renkei.testing import make_member, make_org

pytestmark = pytest.mark.django_db


def chosen_by_querysets(user: User, chosen: int | None) -> Membership | None:
    """MembershipMiddleware's lookup before ADR 0069, word for word."""
    qs = Membership.objects.filter(
        user=user, is_active=True, organization__is_active=True
    ).select_related("organization", "organization__municipality", "organization__prefecture")
    return (qs.filter(pk=chosen).first() if chosen else None) or qs.order_by("pk").first()


def values(obj: Model | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def assert_same(user: User, chosen: int | None, django_assert_num_queries: Any) -> None:
    expected = chosen_by_querysets(user, chosen)
    with django_assert_num_queries(1):
        got = acting_membership(user.pk, chosen)
        # The organisation, its municipality and prefecture come with it: no further query.
        org = got.organization if got else None
        muni = org.municipality if org else None
        pref = org.prefecture if org else None
    assert values(got) == values(expected)
    if expected is None:
        return
    assert values(org) == values(expected.organization)
    assert values(muni) == values(expected.organization.municipality)
    assert values(pref) == values(expected.organization.prefecture)


def test_every_state_chooses_as_the_querysets_did(django_assert_num_queries: Any) -> None:
    city = make_org("藤沢市民病院", municipality_code="142051")
    pref_only = make_org("神奈川県庁", OrgKind.OPERATOR, prefecture_code="14")
    bare = make_org("どこでもない団体", OrgKind.OPERATOR)
    first = make_member(city, Role.MSW, username="kaede")
    user = first.user
    second = Membership.objects.create(user=user, organization=pref_only, role=Role.ADMIN)
    third = Membership.objects.create(user=user, organization=bare, role=Role.ADMIN)
    someone_else = make_member(bare, Role.ADMIN, username="tsubaki")
    assert values(first.organization.municipality) is not None

    states = [None, first.pk, second.pk, third.pk, someone_else.pk, 10**9]
    for chosen in states:
        assert_same(user, chosen, django_assert_num_queries)
    assert acting_membership(user.pk, second.pk) is not None
    assert acting_membership(user.pk, second.pk).pk == second.pk  # type: ignore[union-attr]

    Membership.objects.filter(pk=first.pk).update(is_active=False)
    for chosen in states:
        assert_same(user, chosen, django_assert_num_queries)
    assert acting_membership(user.pk, None).pk == second.pk  # type: ignore[union-attr]

    pref_only.is_active = False
    pref_only.save()
    for chosen in states:
        assert_same(user, chosen, django_assert_num_queries)
    assert acting_membership(user.pk, second.pk).pk == third.pk  # type: ignore[union-attr]

    Membership.objects.filter(pk=third.pk).update(is_active=False)
    for chosen in states:
        assert_same(user, chosen, django_assert_num_queries)
    assert acting_membership(user.pk, None) is None
