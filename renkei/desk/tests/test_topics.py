from __future__ import annotations

from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.desk.models import Desk, Topic
from renkei.desk.tests.conftest import login


def test_desk_extends_topics_without_affecting_others(
    client: Client, desk: Desk, other_desk: Desk, counselor: Membership
) -> None:
    """A desk's own category joins the shared defaults for that desk only; duplicates are refused."""
    login(client, counselor)
    response = client.post(reverse("desk:topics", args=[desk.code]), {"name": "歯科・口腔ケア"})
    assert response.status_code == 302
    assert desk.topics().filter(name="歯科・口腔ケア").exists()
    assert not other_desk.topics().filter(name="歯科・口腔ケア").exists()
    assert (
        desk.topics().filter(desk__isnull=True).count()
        == Topic.objects.filter(desk__isnull=True).count()
    )
    again = client.post(reverse("desk:topics", args=[desk.code]), {"name": "訪問看護"})
    assert again.status_code == 400
    assert "既にあります" in again.content.decode()
    assert Topic.objects.filter(name="訪問看護").count() == 1
