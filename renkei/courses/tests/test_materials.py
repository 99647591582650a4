from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from renkei.accounts.models import Membership
from renkei.courses import materials
from renkei.courses.models import Audience, Material, MaterialDownload, MaterialKind
from renkei.courses.tests.conftest import client_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(tmp_path: object) -> Iterator[None]:
    with override_settings(MEDIA_ROOT=str(tmp_path)):
        yield


def pdf(name: str = "guide.pdf", body: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/pdf")


@pytest.fixture
def guide(alice: Membership) -> Material:
    return materials.publish(
        materials.MaterialInput(
            title="在宅療養ガイドブック",
            kind=MaterialKind.GUIDEBOOK,
            audience=Audience.RESIDENTS,
            municipality_code="142018",
        ),
        materials.VersionInput(published_on=dt.date(2024, 4, 1)),
        pdf(),
        by=alice,
    )


def test_a_new_version_keeps_the_previous(
    guide: Material, alice: Membership, client: Client
) -> None:
    materials.add_version(
        guide,
        materials.VersionInput(published_on=dt.date(2025, 4, 1), note="第2版（連絡先を更新）"),
        pdf("v2.pdf", PDF + b"% v2\n"),
        by=alice,
    )
    current = guide.current()
    assert current is not None and current.published_on == dt.date(2025, 4, 1)
    page = client.get(guide.get_absolute_url()).content.decode()
    assert "これまでの版" in page and "2024年4月1日発行" in page
    old = guide.versions.get(published_on=dt.date(2024, 4, 1))
    r = client.get(old.get_absolute_url())
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF  # type: ignore[attr-defined]


def test_downloads_are_counted_per_month(
    guide: Material, alice: Membership, client: Client
) -> None:
    for _ in range(3):
        r = client.get(f"/materials/{guide.code}/download/")
        assert r.status_code == 200
        b"".join(r.streaming_content)  # type: ignore[attr-defined]
    assert MaterialDownload.objects.get(material=guide).count == 3
    april = dt.datetime(2025, 4, 15, 12, tzinfo=dt.UTC)
    materials.count_download(guide, now=april)
    months = dict(materials.monthly_downloads(alice.organization, 2025))
    assert months[dt.date(2025, 4, 1)] == 1
    muni = guide.municipality
    assert muni is not None
    assert sum(n for _, n in materials.monthly_downloads(muni, 2025)) >= 1


def test_uploads_are_checked(alice: Membership) -> None:
    data = materials.MaterialInput(
        title="x", kind=MaterialKind.FORM, audience=Audience.PROFESSIONALS
    )
    version = materials.VersionInput(published_on=dt.date(2025, 1, 1))
    from renkei.lib.actions import ActionError

    with pytest.raises(ActionError, match="PDF・PNG・JPEG"):
        materials.publish(data, version, SimpleUploadedFile("a.exe", b"MZ"), by=alice)
    with pytest.raises(ActionError, match="一致しません"):
        materials.publish(data, version, pdf("fake.pdf", b"<html>"), by=alice)
    with pytest.raises(ActionError, match="20MB"):
        materials.publish(data, version, pdf("big.pdf", PDF + b"0" * (21 * 1024 * 1024)), by=alice)
    assert Material.objects.count() == 0


def test_the_library_is_reached_from_the_home_page(guide: Material, client: Client) -> None:
    home = client.get("/").content.decode()
    assert "/materials/" in home
    listing = client.get("/materials/?audience=residents").content.decode()
    assert "在宅療養ガイドブック" in listing
    assert (
        "在宅療養ガイドブック"
        not in client.get("/materials/?audience=professionals").content.decode()
    )


def test_drafts_and_other_publishers(guide: Material, charlie: Membership, client: Client) -> None:
    Material.objects.filter(pk=guide.pk).update(published=False)
    assert client.get(guide.get_absolute_url()).status_code == 404
    assert client.get(f"/materials/{guide.code}/download/").status_code == 404
    assert client_for(charlie).get(f"/materials/manage/{guide.code}/").status_code == 404
    assert client.get(f"/materials/manage/{guide.code}/").status_code == 302
    assert client.get("/materials/manage/").status_code == 302


def test_the_screen_publishes(alice: Membership) -> None:
    r = client_for(alice).post(
        "/materials/manage/",
        {
            "title": "退院調整ルール",
            "kind": "rule",
            "audience": "professionals",
            "programme_item": "u",
            "published": "on",
            "published_on": "2025-06-01",
            "file": pdf("rule.pdf"),
        },
    )
    assert r.status_code == 302, r.content.decode()[-3000:]
    m = Material.objects.get(title="退院調整ルール")
    assert m.programme_item == "u" and m.versions.count() == 1
