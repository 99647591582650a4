"""An administrator issues, copies and revokes a system's API token on a phone (ADR 0044)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from renkei.accounts import tokens
from renkei.accounts.models import ApiToken, OrgKind, Role
from renkei.testing import make_member, make_org
from tests.browser.conftest import phone, screenshot, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_issue_and_revoke_a_token_at_390px(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    clinic = make_org("えびな在宅クリニック（仮名）", OrgKind.CLINIC, municipality_code="142158")
    admin = make_member(
        clinic, Role.DOCTOR, username="dr_admin", display_name="院長（仮名）", is_org_admin=True
    )
    context = phone(browser)
    signed_in(context, live_server, admin)
    pg = context.new_page()
    pg.goto(f"{live_server.url}/accounts/profile/")
    pg.get_by_role("link", name="APIトークン（他のシステムとの連携）").click()
    pg.get_by_role("link", name="トークンを発行する").click()
    pg.get_by_label("名称（接続するシステム）").fill("電子カルテ連携")
    pg.get_by_label("代理するメンバー").select_option(str(admin.pk))
    pg.get_by_label("FHIR（患者情報共有のリソースの読み取り）").check()
    pg.get_by_role("button", name="発行する").click()
    shown = pg.locator("#raw-token")
    expect(shown).to_be_visible()
    raw = shown.input_value()
    token = ApiToken.objects.get()
    assert tokens.authenticate(raw).pk == token.pk
    assert token.scope_list() == ["care:read", "fhir:read"]
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(pg, "api-token-issued-390", full_page=False)

    pg.get_by_role("link", name="一覧に戻る").click()
    expect(pg.get_by_text("利用可")).to_be_visible()
    assert raw not in pg.content()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.get_by_role("link", name="失効させる").click()
    pg.get_by_role("button", name="失効する").click()
    expect(pg.get_by_text("を失効しました")).to_be_visible()
    token.refresh_from_db()
    assert token.revoked_at is not None
    context.close()
