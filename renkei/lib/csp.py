"""The Content-Security-Policy headers, built once instead of on every response.

django-csp's middleware rebuilds both policies (the enforced one and the report-only one) from
the settings on every response: a dataclass turned into a dict and every directive joined,
twice — a tenth of the CPU of a JSON directory search (docs/benchmarks.md, session 9). Only two
things make a response's policy differ from the settings' own: a nonce that the page drew
(`request.csp_nonce`, used by the templates' scripts) and a view's own policy (django-csp's
decorators). A response with neither gets the same two strings every time; they are built once
per settings (again after a test overrides them) and set exactly as CSPMiddleware sets them.
A page that drew a nonce gets the same strings built once with a placeholder nonce, the
placeholder replaced by the request's nonce (ADR 0077): building both policies per page was
~0.1 ms of every HTML page. Responses with a view's own policy go through CSPMiddleware itself.
"""

from __future__ import annotations

import functools
import http.client
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What a view's decorators put on its response (csp.decorators): then the policy is its own.
PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


@functools.cache
def settings_policies() -> tuple[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...]]]:
    """(policy, excluded path prefixes) for the enforced and the report-only header, from the
    settings alone: what CSPMiddleware builds for a response without a nonce or a view's own."""

    def prefixes(name: str) -> tuple[str, ...]:
        policy = getattr(settings, name, None) or {}
        return tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ())

    return (
        (build_policy(), prefixes("CONTENT_SECURITY_POLICY")),
        (build_policy(report_only=True), prefixes("CONTENT_SECURITY_POLICY_REPORT_ONLY")),
    )


# Stands for the nonce in the policies built once: a NUL is in no policy and in no nonce
# (base64), so replacing it can only replace what build_policy put for the nonce.
_PLACEHOLDER = "\x00"
_NONCE_SOURCE = f"'nonce-{_PLACEHOLDER}'"


@functools.cache
def nonce_policies() -> tuple[str, str]:
    """The enforced and report-only policies as build_policy gives them for a nonce, with
    _NONCE_SOURCE where the nonce goes."""
    return build_policy(nonce=_PLACEHOLDER), build_policy(nonce=_PLACEHOLDER, report_only=True)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        settings_policies.cache_clear()
        nonce_policies.cache_clear()


class CSPHeadersMiddleware(CSPMiddleware):
    """CSPMiddleware with the settings' policies built once (module docstring)."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        nonce = getattr(request, "_csp_nonce", None)
        if (nonce is not None and not isinstance(nonce, str)) or any(
            hasattr(response, name) for name in PER_RESPONSE
        ):
            return super().process_response(request, response)
        if response.status_code in DEBUG_EXEMPT and settings.DEBUG:
            return response
        (csp, excluded), (csp_ro, excluded_ro) = settings_policies()
        if nonce is not None:
            source = f"'nonce-{nonce}'"
            csp, csp_ro = (p.replace(_NONCE_SOURCE, source) for p in nonce_policies())
        path = request.path_info
        if (
            csp
            and HEADER not in response
            and getattr(response, "_csp_exempt", False) is False
            and not path.startswith(excluded)
        ):
            response[HEADER] = csp
        if (
            csp_ro
            and HEADER_REPORT_ONLY not in response
            and getattr(response, "_csp_exempt_ro", False) is False
            and not path.startswith(excluded_ro)
        ):
            response[HEADER_REPORT_ONLY] = csp_ro
        # As CSPMiddleware: a nonce drawn after the header was written would not be in it.
        if nonce is None:
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
