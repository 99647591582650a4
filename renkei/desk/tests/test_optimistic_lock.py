from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.desk.models import Consultation, Desk
from renkei.desk.testing import make_consultation
from renkei.desk.tests.conftest import login
from renkei.desk.tests.test_versioning import edit_data


def test_second_stale_save_gets_409_and_first_change_is_kept(
    client: Client, desk: Desk, counselor: Membership, clerk: Membership
) -> None:
    """Two people load the same version; the later save is refused with 409 and the first stays."""
    c = make_consultation(desk, counselor, summary="元の内容")
    loaded = edit_data(c)
    login(client, counselor)
    first = client.post(reverse("desk:edit", args=[c.code]), {**loaded, "summary": "Aさんの修正"})
    assert first.status_code == 302
    login(client, clerk)
    second = client.post(reverse("desk:edit", args=[c.code]), {**loaded, "summary": "Bさんの修正"})
    assert second.status_code == 409
    html = second.content.decode()
    assert "他の方が先にこの相談記録を更新しました" in html
    assert "Bさんの修正" in html  # the loser's input is still on the form
    assert Consultation.objects.get(pk=c.pk).summary == "Aさんの修正"
    # The re-rendered form carries the newer version: saving again after review succeeds.
    rebased = second.context["form"].data
    assert rebased["version"] == str(Consultation.objects.get(pk=c.pk).version)
    third = client.post(reverse("desk:edit", args=[c.code]), rebased)
    assert third.status_code == 302
    assert Consultation.objects.get(pk=c.pk).summary == "Bさんの修正"


def test_api_stale_version_gets_409(client: Client, desk: Desk, counselor: Membership) -> None:
    """PUT with an old version number is refused with 409 and {"detail": ...}."""
    c = make_consultation(desk, counselor, summary="元の内容")
    login(client, counselor)
    body = client.get(f"/api/v1/desk/consultations/{c.code}").json()
    payload = {
        "received_at": body["received_at"],
        "channel": body["channel"],
        "asker_type": body["asker_type"],
        "topics": [t["id"] for t in body["topics"]],
        "scene": body["scene"],
        "summary": "一回目",
        "version": body["version"],
    }
    ok = client.put(
        f"/api/v1/desk/consultations/{c.code}", json.dumps(payload), content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["version"] == body["version"] + 1
    stale = client.put(
        f"/api/v1/desk/consultations/{c.code}",
        json.dumps({**payload, "summary": "二回目"}),
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert "他の方が先に" in stale.json()["detail"]
    assert Consultation.objects.get(pk=c.pk).summary == "一回目"
