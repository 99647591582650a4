"""The header with a long user and organisation name: ログアウト keeps to one line and the name is
cut with an ellipsis (its whole text stays in the link's title), at phone and desktop width."""

from __future__ import annotations

import re

import pytest

from renkei.accounts.models import OrgKind, Role
from renkei.testing import DEMO_PASSWORD, make_member, make_org
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_ORG = "社会福祉法人みなと会　特別養護老人ホームみなとの丘地域包括ケアセンター（仮名）"


@pytest.mark.parametrize("width", [390, 1280])
def test_logout_stays_on_one_line_beside_a_long_name(page, live_server, width: int) -> None:  # type: ignore[no-untyped-def]
    org = make_org(LONG_ORG, OrgKind.CARE_PROVIDER)
    make_member(org, Role.CARE_MANAGER, username="longname", display_name="山田　花子（仮名）")
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ログインID").fill("longname")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)
    page.wait_for_url(re.compile(r"/(?!accounts/login)"))
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
    logout = page.get_by_role("button", name="ログアウト")
    box = logout.bounding_box()
    line = page.evaluate(
        "el => parseFloat(getComputedStyle(el).lineHeight) || 24",
        logout.element_handle(),
    )
    assert box is not None and box["height"] <= max(48, 1.5 * line), box
    who = page.locator("a.who")
    assert LONG_ORG in (who.get_attribute("title") or "")
    who_box = who.bounding_box()
    assert who_box is not None and who_box["x"] + who_box["width"] <= width, who_box
    screenshot(page, f"header-long-name-{width}", full_page=False)
