from __future__ import annotations

from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.desk.tests.conftest import login
from renkei.testing import make_facility


def test_picker_finds_by_name_and_keeps_picked(client: Client, counselor: Membership) -> None:
    """Typing part of a name (any kana width) lists matching facilities; picked ones stay checked and are not repeated."""
    picked = make_facility(
        "さくら訪問看護ステーション（仮名）", "visiting_nurse", kana="サクラホウモンカンゴ"
    )
    other = make_facility("さくら診療所（仮名）", "clinic", kana="サクラシンリョウジョ")
    make_facility("ひまわり荘（仮名）")
    login(client, counselor)
    response = client.get(
        reverse("desk:resources"),
        {"rq": "ｻｸﾗ", "referred_facilities": [str(picked.code)]},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{other.code}">' in html
    assert f'value="{picked.code}" checked' in html
    assert html.count(str(picked.code)) == 1
    assert "ひまわり荘" not in html
