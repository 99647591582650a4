"""Residents find the public events without an account (issue 9 §5): from the home page and
from the header."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Organization
from renkei.events.models import Event, EventKind
from renkei.events.testing import make_event

pytestmark = pytest.mark.django_db


def test_the_home_page_shows_the_next_events_to_anyone(
    client: Client, organiser: Organization, event: Event
) -> None:
    """An anonymous visitor sees the upcoming events and a way to the whole list; drafts and
    past events are not among them."""
    lecture = make_event(organiser, title="人生会議を知ろう", kind=EventKind.PUBLIC_LECTURE)
    make_event(organiser, title="下書きの講座", published=False)
    make_event(organiser, title="昨年の研修", days_ahead=-30)
    body = client.get(reverse("home")).content.decode()
    assert f'href="{lecture.get_absolute_url()}"' in body
    assert f'href="{event.get_absolute_url()}"' in body
    assert "下書きの講座" not in body and "昨年の研修" not in body
    assert f'href="{reverse("events:list")}"' in body


def test_the_header_leads_anonymous_visitors_to_the_events(client: Client) -> None:
    """The header's menu has the public list for everyone who is not a member."""
    body = client.get(reverse("directory:search")).content.decode()
    header = body.split("</header>")[0]
    assert f'href="{reverse("events:list")}"' in header


def test_members_keep_their_organiser_entry(alice_client: Client) -> None:
    """A member's header leads to the organiser's screens, which link the public list."""
    header = alice_client.get(reverse("home")).content.decode().split("</header>")[0]
    assert f'href="{reverse("events:manage")}"' in header
    manage = alice_client.get(reverse("events:manage")).content.decode()
    assert f'href="{reverse("events:list")}"' in manage
