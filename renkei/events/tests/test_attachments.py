from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from renkei.events.models import ATTACHMENT_MAX_BYTES, Event, EventAttachment

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def upload(client: Client, event: Event, name: str, content: bytes) -> Any:
    return client.post(
        reverse("events:attachment_add", args=[event.code]),
        {"title": "チラシ", "file": SimpleUploadedFile(name, content)},
    )


def test_pdf_flyer_is_attached_and_downloadable(
    alice_client: Client, client: Client, event: Event
) -> None:
    """A PDF is stored under a random name and served from the public event page."""
    assert upload(alice_client, event, "flyer.pdf", PDF).status_code == 302
    att = EventAttachment.objects.get()
    assert att.content_type == "application/pdf" and "flyer" not in (att.file.name or "")
    response = client.get(att.get_absolute_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert "チラシ" in client.get(event.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("tool.exe", b"MZ\x90\x00", "PDF・PNG・JPEG"),
        ("fake.pdf", b"<html>not a pdf</html>", "一致しません"),
        ("huge.pdf", PDF + b"0" * ATTACHMENT_MAX_BYTES, "大きすぎます"),
    ],
)
def test_bad_uploads_are_refused(
    alice_client: Client, event: Event, name: str, content: bytes, message: str
) -> None:
    """Wrong type, a disguised file and an oversized one are refused; nothing stored."""
    response = upload(alice_client, event, name, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert EventAttachment.objects.count() == 0


def test_outsider_cannot_attach(charlie_client: Client, event: Event) -> None:
    """Another organisation's member gets 404."""
    assert upload(charlie_client, event, "flyer.pdf", PDF).status_code == 404
    assert EventAttachment.objects.count() == 0
