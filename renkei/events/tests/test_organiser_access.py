from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.events.models import Event
from renkei.events.testing import make_application, make_event, person

pytestmark = pytest.mark.django_db

ORGANISER_PAGES = [
    ("events:manage_event", {}),
    ("events:edit", {}),
    ("events:attendance", {}),
    ("events:feedback_manage", {}),
    ("events:proxy_apply", {}),
    ("events:applicants_export", {"fmt": "csv"}),
    ("events:applicants_export", {"fmt": "xlsx"}),
    ("events:tally_export", {"fmt": "csv"}),
]


def url(name: str, event: Event, extra: dict[str, str]) -> str:
    return reverse(name, kwargs={"code": event.code, **extra})


@pytest.mark.parametrize("name, extra", ORGANISER_PAGES)
def test_other_organisation_gets_404(
    charlie_client: Client, event: Event, name: str, extra: dict[str, str]
) -> None:
    """Another municipality's member cannot tell the event's applicants exist."""
    make_application(event, [person(1)])
    assert charlie_client.get(url(name, event, extra)).status_code == 404
    assert not AuditEntry.objects.filter(action__startswith="events.applicants").exists()


def test_other_organisation_cannot_toggle_or_cancel(charlie_client: Client, event: Event) -> None:
    """Writes by an outsider are 404 too and change nothing."""
    a = make_application(event, [person(1)]).applicants.get()
    r1 = charlie_client.post(
        reverse("events:attendance_toggle", args=[event.code, a.code]), {"attended": "1"}
    )
    r2 = charlie_client.post(reverse("events:organiser_cancel", args=[event.code, a.code]))
    assert (r1.status_code, r2.status_code) == (404, 404)
    a.refresh_from_db()
    assert (a.attended, a.status) == (False, "confirmed")


@pytest.mark.parametrize("name, extra", ORGANISER_PAGES)
def test_anonymous_is_sent_to_login(
    client: Client, event: Event, name: str, extra: dict[str, str]
) -> None:
    """Organiser screens need a signed-in member."""
    response = client.get(url(name, event, extra))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_manage_list_redirects(client: Client) -> None:
    """The menu entry itself requires login."""
    response = client.get(reverse("events:manage"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_manage_lists_only_own_events(
    alice_client: Client, event: Event, charlie: Membership
) -> None:
    """The organiser's list shows its events and not another organisation's."""
    make_event(charlie.organization, title="よその研修会")
    body = alice_client.get(reverse("events:manage")).content.decode()
    assert event.title in body and "よその研修会" not in body


def test_applicant_list_read_is_audited(
    alice_client: Client, alice: Membership, event: Event
) -> None:
    """Each view and export of the applicant list writes an audit entry with the reader."""
    make_application(event, [person(1), person(2)])
    response = alice_client.get(reverse("events:manage_event", args=[event.code]))
    assert person(1).name in response.content.decode()
    alice_client.get(reverse("events:applicants_export", args=[event.code, "csv"]))
    entries = list(
        AuditEntry.objects.filter(target_id=str(event.code)).values_list("action", "actor_id")
    )
    assert ("events.applicants_viewed", alice.user.pk) in entries
    assert ("events.applicants_exported", alice.user.pk) in entries


def test_unpublished_event_is_hidden_from_the_public(
    client: Client, alice_client: Client, event: Event
) -> None:
    """A draft is a 404 for the public and a preview for the organiser."""
    event.published = False
    event.save()
    assert client.get(event.get_absolute_url()).status_code == 404
    assert client.get(reverse("events:apply", args=[event.code])).status_code == 404
    assert alice_client.get(event.get_absolute_url()).status_code == 200


def test_export_csv_has_every_applicant_and_neutralises_formulas(
    alice_client: Client, event: Event
) -> None:
    """The CSV opens in Excel (BOM) and a name starting with = is not run as a formula."""
    from renkei.events import actions
    from renkei.events.testing import applicant, application_data

    actions.apply(
        event,
        application_data([applicant("=HYPERLINK(1)", "いこーる", "x@example.jp", "nurse")]),
    )
    response = alice_client.get(reverse("events:applicants_export", args=[event.code, "csv"]))
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff受付番号")
    assert "'=HYPERLINK(1)" in text
