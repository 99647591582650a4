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
