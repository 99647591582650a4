"""The CSP middleware that builds the settings' policies once (renkei.lib.csp) sets the very
headers django-csp's own middleware sets, for every kind of response."""

from __future__ import annotations

import re

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.decorators import csp_exempt, csp_update
from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client, RequestFactory, override_settings

from renkei.lib.csp import CSPHeadersMiddleware

REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report/"}}


def _both(view, path: str = "/x/", draw_nonce: bool = False) -> tuple[dict[str, str], ...]:  # type: ignore[no-untyped-def]
    """The CSP headers each middleware puts on the view's response."""
    out = []
    for middleware_class in (CSPMiddleware, CSPHeadersMiddleware):
        request = RequestFactory().get(path)
        middleware = middleware_class(view)
        middleware.process_request(request)
        if draw_nonce:
            str(request.csp_nonce)  # type: ignore[attr-defined]
        response = middleware.process_response(request, view(request))
        out.append(
            {
                # Each request draws its own nonce.
                h: re.sub(r"'nonce-[^']+'", "'nonce-N'", response[h])
                for h in (HEADER, HEADER_REPORT_ONLY)
                if h in response
            }
        )
    return tuple(out)


def _json(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


@csp_update({"img-src": ["https://tiles.example.jp"]})
def _updated(request: HttpRequest) -> HttpResponse:
    return HttpResponse("page")


@csp_exempt()
def _exempt(request: HttpRequest) -> HttpResponse:
    return HttpResponse("page")


def test_same_headers_as_django_csp() -> None:
    """A JSON answer, a page that drew a nonce, a view with its own policy and an exempt view
    get the same headers from both middlewares; with a report-only policy too."""
    for settings_override in ({}, {"CONTENT_SECURITY_POLICY_REPORT_ONLY": REPORT_ONLY}):
        with override_settings(**settings_override):
            for view, nonce in ((_json, False), (_json, True), (_updated, False), (_exempt, False)):
                theirs, ours = _both(view, draw_nonce=nonce)
                assert ours == theirs, (view.__name__, nonce, settings_override)
                assert ("'nonce-N'" in ours.get(HEADER, "")) == nonce
            assert HEADER in _both(_json)[1]
            assert (HEADER_REPORT_ONLY in _both(_json)[1]) == bool(settings_override)


def test_a_pages_header_carries_its_own_nonce() -> None:
    """A page's nonce is the one in its headers, enforced and report-only, request by
    request; everything else as django-csp builds it for that nonce."""
    from csp.constants import NONCE
    from csp.utils import build_policy

    report_only = {"DIRECTIVES": {"script-src": ["'self'", NONCE], "report-uri": "/csp-report/"}}
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=report_only):
        nonces = set()
        for _ in range(3):
            request = RequestFactory().get("/x/")
            middleware = CSPHeadersMiddleware(_json)
            middleware.process_request(request)
            nonce = str(request.csp_nonce)  # type: ignore[attr-defined]
            response = middleware.process_response(request, _json(request))
            assert response[HEADER] == build_policy(nonce=nonce)
            assert response[HEADER_REPORT_ONLY] == build_policy(nonce=nonce, report_only=True)
            assert f"'nonce-{nonce}'" in response[HEADER_REPORT_ONLY]
            assert str(request.csp_nonce) == nonce  # type: ignore[attr-defined]
            nonces.add(nonce)
        assert len(nonces) == 3


def test_settings_change_is_followed() -> None:
    """The policy built once is built again when the settings change (tests override them)."""
    before = _both(_json)[1][HEADER]
    policy = {"DIRECTIVES": {"default-src": ["'none'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        assert _both(_json)[1][HEADER] == "default-src 'none'"
    assert _both(_json)[1][HEADER] == before


@pytest.mark.django_db
def test_search_api_and_page_carry_the_policy() -> None:
    """Through the whole stack: the JSON search has the settings' policy, the search page the
    same policy with its nonce."""
    client = Client()
    api = client.get("/api/v1/directory/facilities")
    page = client.get("/directory/")
    assert api.status_code == page.status_code == 200
    assert "nonce-" not in api[HEADER]
    assert "frame-ancestors 'none'" in api[HEADER]
    assert "nonce-" in page[HEADER]
    assert api[HEADER] == re.sub(r" 'nonce-[^']+'", "", page[HEADER])
