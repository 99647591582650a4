"""Cross-cutting security checks: headers and CSRF (R26), deny by default (R02)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from renkei.accounts.models import OrgKind
from renkei.testing import (
    DEMO_PASSWORD,
    make_facility,
    make_member,
    make_org,
    pass_second_factor,
    sign_in,
)

pytestmark = pytest.mark.django_db

# Routes an anonymous visitor may open. Everything else must send them to a login page or
# answer 401/403/404. Adding a public page is a decision: add its URL name here, in review.
PUBLIC_ROUTES = frozenset(
    {
        "home",
        "healthz",
        "favicon",
        # Sign-in flow (reachable before signing in, by definition).
        "accounts:login",
        "accounts:logout",
        "accounts:password_reset",
        "accounts:password_reset_done",
        "accounts:password_reset_confirm",
        "accounts:password_reset_complete",
        # The public face of the resource directory (public fields only).
        "directory:search",
        "directory:detail",
        "directory:points",
        "directory:export",
        "directory:handbook",
        "directory:print",
        "directory:place_fields",
        # Training events: public listing and sign-up, personal links sent by e-mail.
        "events:list",
        "events:detail",
        "events:apply",
        "events:applicant_row",
        "events:flyer",
        "events:fax_sheet",
        "events:attachment",
        "events:application",
        "events:applicant",
        "events:feedback",
        # Training courses: the public list, a course's page, applying to a round, the
        # applicant's own progress link.
        "courses:list",
        "courses:detail",
        "courses:apply",
        "courses:progress",
        # Public materials (guides, rules, leaflets) and their downloads.
        "materials:list",
        "materials:detail",
        "materials:download",
        "materials:version",
        # 同行研修: the public application form and each party's signed report link.
        "mentoring:apply",
        "mentoring:party",
        "mentoring:party_notice",
        # The Django admin's own sign-in page.
        "admin:login",
        "admin:logout",
    }
)
# Open-data interfaces: everything under these prefixes is public by design.
PUBLIC_PREFIXES = ("api/hsds/", "api/fhir/", "static/")
# The JSON API is checked per operation (method and path) from its OpenAPI schema instead,
# because several operations share one URL. Its schema, docs and root are public.
API_PREFIX = "api/v1/"

# GET operations of /api/v1/ that need no sign-in, by OpenAPI operationId.
PUBLIC_API_OPERATIONS = frozenset(
    {
        "renkei_directory_api_search_facilities",
        "renkei_directory_api_get_facility",
        "renkei_directory_api_list_capabilities",
        "renkei_directory_api_list_kinds",
        "renkei_directory_api_list_areas",
        "renkei_directory_api_list_municipalities",
        "renkei_events_api_list_events",
        "renkei_events_api_get_event",
        "renkei_events_api_get_application",
        "renkei_mentoring_api_get_party",
        "renkei_courses_api_list_courses",
        "renkei_courses_api_get_course",
        "renkei_courses_api_get_progress",
        "renkei_courses_api_list_materials",
        "renkei_courses_api_get_material",
    }
)
# Writes open to anyone: signing up for a public training event or mentoring programme, and
# acting through a personal link that was e-mailed (the signed token is the credential).
PUBLIC_API_WRITES = frozenset(
    {
        "renkei_events_api_apply",
        "renkei_events_api_apply_resident",
        "renkei_events_api_cancel_application",
        "renkei_mentoring_api_apply_public",
        "renkei_mentoring_api_put_party_visit",
        "renkei_mentoring_api_post_party_report",
        # A course round's application (as for events) and a dispatched specialist's report
        # through the signed link e-mailed to them.
        "renkei_courses_api_apply",
        "renkei_courses_api_report_by_token",
    }
)

SAMPLE_UUID = "0f0f0f0f-0000-4000-8000-000000000000"
ROUTE_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<\w+>([^()]*)\)")
LOGIN_PAGES = (reverse(settings.LOGIN_URL), reverse("admin:login"))


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    sample: str


def _sample_route_param(match: re.Match[str]) -> str:
    return {"uuid": SAMPLE_UUID, "int": "1", "path": "1"}.get(match["conv"] or "", "x")


def _sample_regex_group(match: re.Match[str]) -> str:
    body = match.group(1)
    return body.split("|")[0] if "|" in body else "1"


def _sample(pattern: str) -> str:
    path = ROUTE_PARAM.sub(_sample_route_param, pattern)
    path = REGEX_GROUP.sub(_sample_regex_group, path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else p.namespace
            yield from _walk(p, prefix + str(p.pattern), ns or namespace)
        elif isinstance(p, URLPattern):
            pattern = prefix + str(p.pattern)
            name = (f"{namespace}:{p.name}" if namespace else p.name) if p.name else pattern
            yield Route(name, pattern, _sample(pattern))


ALL_ROUTES = list(_walk(get_resolver()))
GUARDED_ROUTES = [
    r
    for r in ALL_ROUTES
    if r.name not in PUBLIC_ROUTES and not r.pattern.startswith((*PUBLIC_PREFIXES, API_PREFIX))
]


def _api_operations() -> list[tuple[str, str, dict[str, object]]]:
    from renkei.api import api

    schema = api.get_openapi_schema()
    return [
        (method, path, op)
        for path, operations in schema["paths"].items()
        for method, op in operations.items()
    ]


API_OPERATIONS = _api_operations()
GUARDED_API_OPERATIONS = [(m, p) for m, p, op in API_OPERATIONS if op.get("security")]


def _denied(response: HttpResponseBase) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    if response.status_code in (301, 302, 303, 307):
        return response["Location"].split("?")[0] in LOGIN_PAGES
    return False


def test_public_allowlist_names_only_existing_routes() -> None:
    """Every allowlisted name is a real route, so stale entries cannot hide new ones."""
    names = {r.name for r in ALL_ROUTES}
    assert sorted(PUBLIC_ROUTES - names) == []
    operation_ids = {str(op["operationId"]) for _, _, op in API_OPERATIONS}
    assert sorted((PUBLIC_API_OPERATIONS | PUBLIC_API_WRITES) - operation_ids) == []


def test_every_route_is_either_public_or_guarded() -> None:
    """The walk found the guarded routes (a broken walker would make the next test vacuous)."""
    names = {r.name for r in GUARDED_ROUTES}
    assert {"accounts:profile", "accounts:audit", "directory:edit", "admin:index"} <= names
    assert ("put", "/api/v1/directory/facilities/{code}/vacancy") in GUARDED_API_OPERATIONS


@pytest.mark.parametrize("route", GUARDED_ROUTES, ids=lambda r: r.name)
def test_anonymous_request_is_refused(route: Route) -> None:
    """A route not on the public allowlist sends anonymous users to a login page or refuses.

    If GET is not allowed (405), each method in the Allow header is tried instead. Sample
    IDs point at no existing object, so a 404 is accepted.
    """
    client = Client()
    response = client.get(route.sample)
    if response.status_code == 405:
        methods = [
            m.strip()
            for m in response.get("Allow", "").split(",")
            if m.strip() not in ("", "GET", "HEAD", "OPTIONS")
        ]
        assert methods, f"{route.sample}: 405 without an Allow header"
        for method in methods:
            other = client.generic(method, route.sample)
            assert _denied(other), f"{method} {route.sample} gave {other.status_code}"
        return
    assert _denied(response), f"GET {route.sample} gave {response.status_code}"


def test_api_writes_need_authentication_and_public_reads_are_listed() -> None:
    """In the OpenAPI schema, every write has a security scheme and every open read is listed."""
    unguarded_writes = []
    unlisted_reads = []
    for method, path, op in API_OPERATIONS:
        if op.get("security"):
            continue
        if method != "get" and op["operationId"] not in PUBLIC_API_WRITES:
            unguarded_writes.append(f"{method.upper()} {path}")
        elif method == "get" and op["operationId"] not in PUBLIC_API_OPERATIONS:
            unlisted_reads.append(str(op["operationId"]))
    assert unguarded_writes == []
    assert unlisted_reads == []


@pytest.mark.parametrize(
    "method, path", GUARDED_API_OPERATIONS, ids=[f"{m} {p}" for m, p in GUARDED_API_OPERATIONS]
)
def test_anonymous_api_call_is_401(method: str, path: str) -> None:
    """Every API operation with a security scheme answers an anonymous call with 401."""
    url = re.sub(r"\{\w+\}", SAMPLE_UUID, path)
    response = Client().generic(method.upper(), url, "{}", content_type="application/json")
    assert response.status_code == 401, f"{method.upper()} {url} gave {response.status_code}"
    assert response.json()["detail"] == "ログインが必要です"


# Headers ---------------------------------------------------------------------------------


def _csp(response: HttpResponseBase) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in response["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.fixture
def member_client() -> Client:
    org = make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")
    m = make_member(org, username="header-msw")
    client = Client()
    client.post(reverse("accounts:login"), {"username": "header-msw", "password": DEMO_PASSWORD})
    return pass_second_factor(client, m.user)


@pytest.mark.parametrize("signed_in", [False, True])
def test_pages_send_security_headers(signed_in: bool, member_client: Client) -> None:
    """Public and member pages carry CSP, frame, sniffing and referrer protections."""
    client = member_client if signed_in else Client()
    response = client.get(reverse("directory:search"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = _csp(response)
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert any(s.startswith("'nonce-") for s in csp["script-src"])


def test_every_script_tag_carries_this_responses_nonce() -> None:
    """Each <script> on a page has the nonce from its own CSP header; nonces are not reused."""
    facility = make_facility("ノンス確認苑")
    nonces = set()
    for url in (reverse("home"), reverse("directory:search"), facility.get_absolute_url()):
        response = Client().get(url)
        header_nonces = [
            s[len("'nonce-") : -1] for s in _csp(response)["script-src"] if s.startswith("'nonce-")
        ]
        assert len(header_nonces) == 1
        nonce = header_nonces[0]
        tags = re.findall(r"<script\b[^>]*>", response.content.decode())
        assert tags, url
        for tag in tags:
            assert f'nonce="{nonce}"' in tag, f"{url}: {tag}"
        nonces.add(nonce)
    assert len(nonces) == 3


def test_session_cookie_is_http_only_and_same_site(member_client: Client) -> None:
    """The session cookie cannot be read by scripts and is not sent on cross-site posts."""
    cookie = member_client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


# CSRF ------------------------------------------------------------------------------------


def test_login_post_without_csrf_token_is_403() -> None:
    """A cross-site login POST (no token) is refused; with the token it works."""
    make_member(make_org("CSRF病院", OrgKind.HOSPITAL), username="csrf-msw")
    client = Client(enforce_csrf_checks=True)
    credentials = {"username": "csrf-msw", "password": DEMO_PASSWORD}
    assert client.post(reverse("accounts:login"), credentials).status_code == 403
    client.get(reverse("accounts:login"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("accounts:login"), {**credentials, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_member_post_without_csrf_token_is_403() -> None:
    """A signed-in user's state-changing form post without a token is refused."""
    org = make_org("CSRF病院", OrgKind.HOSPITAL)
    member = make_member(org, username="csrf-msw")
    facility = make_facility("CSRF苑", organization=org)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, member.user)
    response = client.post(
        reverse("directory:vacancy", args=[facility.code]),
        {"status": "available", "count": "2", "version": str(facility.version)},
    )
    assert response.status_code == 403
    facility.refresh_from_db()
    assert facility.vacancy_status == "unknown"


def test_api_write_with_session_cookie_needs_csrf_header() -> None:
    """The JSON API refuses a cookie-authenticated write without X-CSRFToken; with it, 200."""
    org = make_org("CSRF病院", OrgKind.HOSPITAL)
    member = make_member(org, username="csrf-msw")
    facility = make_facility("CSRF苑", organization=org)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, member.user)
    url = f"/api/v1/directory/facilities/{facility.code}/vacancy"
    body = {"status": "few", "count": 1}
    refused = client.put(url, body, content_type="application/json")
    assert refused.status_code == 403
    facility.refresh_from_db()
    assert facility.vacancy_status == "unknown"
    client.get(reverse("directory:search"))
    token = client.cookies["csrftoken"].value
    accepted = client.put(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200
    facility.refresh_from_db()
    assert facility.vacancy_status == "few"
