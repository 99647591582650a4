"""Every patient-scoped URL and API route: an outsider gets 404, an anonymous caller is
refused, and a team member's read is audited with the patient's id.

The routes are read from the URLconf and the OpenAPI schema, so a new one that is not listed
here (with a valid body for writes) fails the first test until it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.api import api
from renkei.care import urls as care_urls
from renkei.care.actions import forms
from renkei.care.models import CareTeamMember, FormKind, Patient
from renkei.care.testing import make_consent, make_post
from renkei.care.tests.conftest import verified

pytestmark = pytest.mark.django_db

# Screens: name → (method, extra kwargs builder, form data)
Extra = Callable[[Patient], dict[str, Any]]


def _nurse_row(p: Patient) -> dict[str, Any]:
    return {
        "pk": CareTeamMember.objects.filter(patient=p)
        .order_by("-pk")
        .values_list("pk", flat=True)[0]
    }


def _first_post(p: Patient) -> dict[str, Any]:
    return {"post": p.posts.order_by("pk").first().code}  # type: ignore[union-attr]


def _first_consent(p: Patient) -> dict[str, Any]:
    return {"consent": p.consents.order_by("-pk").first().code}  # type: ignore[union-attr]


def _first_form(p: Patient) -> dict[str, Any]:
    return {"form": p.shared_forms.order_by("pk").first().code}  # type: ignore[union-attr]


def _none(p: Patient) -> dict[str, Any]:
    return {}


SCREENS: dict[str, tuple[str, Extra, dict[str, Any]]] = {
    "patient": ("get", _none, {}),
    "edit": ("get", _none, {}),
    "team": ("get", _none, {}),
    "team_end": ("post", _nurse_row, {}),
    "access_log": ("get", _none, {}),
    "consents": ("get", _none, {}),
    "consent_revoke": ("post", _first_consent, {}),
    "consent_form": ("get", _first_consent, {}),
    "provisions": ("get", _none, {}),
    "post": ("post", _none, {"category": "daily", "body": "外部からの投稿"}),
    "timeline_print": ("get", _none, {}),
    "read": ("post", _first_post, {}),
    "emergency": ("get", _none, {}),
    "emergency_print": ("get", _none, {}),
    "emergency_revoke": ("post", _none, {}),
    "acp": ("get", _none, {}),
    "forms": ("get", _none, {}),
    "since": ("get", _none, {}),
    "form": ("get", _first_form, {}),
    "form_edit": ("get", _first_form, {}),
    "form_send": ("post", _first_form, {"recipient": "00000000-0000-0000-0000-000000000001"}),
    "form_reply": ("post", _first_form, {"reply": "外部からの返信"}),
    "form_print": ("get", _first_form, {}),
}

API_WRITES: dict[str, dict[str, Any]] = {
    "put /api/v1/care/patients/{code}": {
        "name": "外部 変更",
        "kana": "がいぶ へんこう",
        "birth_date": "1940-01-01",
    },
    "post /api/v1/care/patients/{code}/team": {
        "organization": "00000000-0000-0000-0000-000000000001",
        "username": "x",
        "team_role": "other",
    },
    "post /api/v1/care/patients/{code}/team/{member_id}/end": {},
    "post /api/v1/care/patients/{code}/consents": {
        "scope": "all",
        "purpose": "p",
        "given_by": "本人",
        "valid_from": "2026-01-01",
    },
    "post /api/v1/care/patients/{code}/consents/{consent}/revoke": {},
    "post /api/v1/care/patients/{code}/posts": {"category": "daily", "body": "外部"},
    "post /api/v1/care/patients/{code}/posts/{post}/read": {},
    "put /api/v1/care/patients/{code}/emergency-sheet": {"diagnoses": "外部"},
    "post /api/v1/care/patients/{code}/acp": {"discussed_on": "2026-01-01"},
    "post /api/v1/care/patients/{code}/forms": {"kind": "admission"},
    "put /api/v1/care/patients/{code}/forms/{form}": {"content": {"kind": "admission"}},
    "post /api/v1/care/patients/{code}/forms/{form}/send": {
        "recipient": "00000000-0000-0000-0000-000000000001"
    },
    "post /api/v1/care/patients/{code}/forms/{form}/reply": {"reply": "外部"},
}


def patient_scoped_screens() -> list[str]:
    return [p.name for p in care_urls.urlpatterns if "<uuid:code>" in str(p.pattern) and p.name]


def patient_scoped_api() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [
        (method, path)
        for path, ops in schema["paths"].items()
        if path.startswith("/api/v1/care/patients/{code}")
        for method in ops
    ]


def _fill(path: str, p: Patient) -> str:
    post = p.posts.order_by("pk").first()
    consent = p.consents.order_by("-pk").first()
    row = CareTeamMember.objects.filter(patient=p).order_by("-pk").first()
    form = p.shared_forms.order_by("pk").first()
    return (
        path.replace("{code}", str(p.code))
        .replace("{member_id}", str(row.pk if row else 1))
        .replace("{post}", str(post.code if post else ""))
        .replace("{consent}", str(consent.code if consent else ""))
        .replace("{form}", str(form.code if form else ""))
    )


@pytest.fixture
def seeded(patient: Patient, doctor: Membership, nurse: Membership) -> Patient:
    """A post, a consent with its scanned form (the latest consent), and a shared form the
    nurse's station drafted and sent to the clinic."""
    make_post(patient, doctor)
    sf = forms.create_form(patient, by=nurse, data=forms.NewFormInput(kind=FormKind.DOCTOR_CM))
    forms.send_form(sf, by=nurse, data=forms.SendInput(recipient=doctor.organization.code))
    make_consent(
        patient,
        by=doctor,
        form_file=SimpleUploadedFile("s.pdf", b"%PDF-1.4 test", "application/pdf"),
    )
    return patient


def test_every_patient_route_is_listed_here() -> None:
    assert sorted(patient_scoped_screens()) == sorted(SCREENS)
    api_routes = patient_scoped_api()
    writes = {f"{m} {p}" for m, p in api_routes if m != "get"}
    assert writes == set(API_WRITES)


def _screen_url(name: str, p: Patient) -> str:
    _, extra, _ = SCREENS[name]
    return reverse(f"care:{name}", kwargs={"code": p.code, **extra(p)})


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_screens_give_outsiders_404_and_refuse_anonymous(
    name: str, seeded: Patient, outsider: Membership
) -> None:
    method, _, data = SCREENS[name]
    url = _screen_url(name, seeded)
    anonymous = getattr(Client(), method)(url, data)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    outside = getattr(verified(Client(), outsider), method)(url, data)
    assert outside.status_code == 404
    assert not AuditEntry.objects.filter(actor=outsider.user, action="care.patient_viewed")


@pytest.mark.parametrize("name", sorted(n for n, s in SCREENS.items() if s[0] == "get"))
def test_a_members_screen_read_is_audited_with_the_patient(
    name: str, seeded: Patient, nurse: Membership
) -> None:
    response = verified(Client(), nurse).get(_screen_url(name, seeded))
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(actor=nurse.user).order_by("-id").first()
    assert entry is not None and entry.target_id == str(seeded.code)
    assert entry.action in ("care.patient_viewed", "care.consent_form_viewed")


def _api_call(client: Client, method: str, path: str, p: Patient) -> Any:
    url = _fill(path, p)
    if method == "get":
        return client.get(url)
    body = API_WRITES[f"{method} {path}"]
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("method, path", patient_scoped_api())
def test_api_gives_outsiders_404_and_anonymous_401(
    method: str, path: str, seeded: Patient, outsider: Membership
) -> None:
    assert _api_call(Client(), method, path, seeded).status_code == 401
    response = _api_call(verified(Client(), outsider), method, path, seeded)
    assert response.status_code == 404, response.content
    assert not AuditEntry.objects.filter(actor=outsider.user, action="care.patient_viewed")


@pytest.mark.parametrize("path", [p for m, p in patient_scoped_api() if m == "get"])
def test_a_members_api_read_is_audited_with_the_patient(
    path: str, seeded: Patient, nurse: Membership
) -> None:
    response = verified(Client(), nurse).get(_fill(path, seeded))
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.filter(actor=nurse.user).order_by("-id").first()
    assert entry is not None and entry.target_id == str(seeded.code)
