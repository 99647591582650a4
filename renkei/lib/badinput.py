"""Requests that no view can handle safely are refused here, once, for every URL.

A NUL character cannot be stored in PostgreSQL text (a DataError, a 500 wherever it reached a
lookup) and invalid UTF-8 or a lone surrogate cannot be encoded for it either. Each view used
to filter them on its own, and the ones that did not (the public directory, HSDS, FHIR) were
500s for anyone (issue 17). The middleware looks at the path, the query string and the body
(form, multipart and JSON) before any view, and answers in the format of the door that was
called: a Japanese page for the screens, `{"detail": …}` for /api/v1/ and HSDS, a FHIR
OperationOutcome for /api/fhir/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

NUL_MESSAGE = "使用できない文字（NUL）が含まれています"
ENCODING_MESSAGE = "文字コードが正しくありません（UTF-8で送信してください）"
MALFORMED_MESSAGE = "リクエスト本文の形式が正しくありません"
TOO_BIG_MESSAGE = "送信されたデータが大きすぎます"
HUGE_NUMBER_MESSAGE = "数値が大きすぎます"
LONG_PARAMETER_MESSAGE = "検索条件が長すぎます（1項目{limit}文字まで）"

# Every integer column is 64-bit at most: a larger number in a lookup was an OverflowError
# (SQLite) or a DataError (PostgreSQL), and in a JSON answer an encoding error. No value of
# the platform (ids, page numbers, counts, phone and office numbers) needs more digits.
INT64 = 2**63 - 1
# More digits than INT64 has (19) in a row: the only numbers _check_number can refuse.
_LONG_DIGITS = re.compile(r"[0-9]{19}")
# Query strings carry filters, page numbers and return addresses; a megabyte of them only
# made the search's LIKE pattern too complex for SQLite and the page slow to render.
MAX_QUERY_VALUE = 2000

OBJECT_MESSAGE = 'リクエスト本文はJSONのオブジェクト（{"項目名": 値, …}）で送信してください'
UNSUPPORTED_MESSAGE = "リクエスト本文は Content-Type: application/json のJSONで送信してください"

FHIR_PREFIX = "/api/fhir/"
JSON_API_PREFIX = "/api/v1/"
JSON_PREFIXES = ("/api/v1/", "/api/hsds/")


class Refused(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _check_bytes(raw: bytes) -> None:
    if b"\x00" in raw:
        raise Refused(NUL_MESSAGE)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(ENCODING_MESSAGE) from None


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise Refused(NUL_MESSAGE)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (from a JSON escape such as "\ud800"): no database can store it.
        raise Refused(ENCODING_MESSAGE) from None


def _huge(field: str) -> Refused:
    # The field's name tells the caller which value to fix (a list of ids, a page number).
    return Refused(f"{HUGE_NUMBER_MESSAGE}（{field}）" if field else HUGE_NUMBER_MESSAGE)


def _check_number(raw: bytes, field: str = "") -> None:
    digits = raw.strip().lstrip(b"+-")
    if len(digits) > 18 and digits.isdigit() and int(digits) > INT64:
        raise _huge(field)


def _check_urlencoded(raw: str | bytes, *, max_value: int | None = None) -> None:
    """A query string or form body, as sent (percent-encoded, "+" for spaces)."""
    if isinstance(raw, str) and _plain(raw, max_value):
        return
    data = raw.encode("latin-1") if isinstance(raw, str) else raw
    for pair in data.split(b"&"):
        decoded = unquote_to_bytes(pair.replace(b"+", b" "))
        _check_bytes(decoded)
        name, _, value = decoded.partition(b"=")
        _check_number(value, name.decode("utf-8", "replace")[:40])
        if max_value is not None and len(value) > max_value and len(value.decode()) > max_value:
            raise Refused(LONG_PARAMETER_MESSAGE.format(limit=max_value))


def _plain(raw: str, max_value: int | None) -> bool:
    """Whether a query string passes every check below without decoding it pair by pair:
    ASCII without escapes (so valid UTF-8, NUL only if written raw), no value longer than
    the whole string, no run of digits that could exceed INT64. The API's searches are such
    strings, and decoding them pair by pair was a tenth of the middleware's time on one."""
    return (
        raw.isascii()
        and "%" not in raw
        and "\x00" not in raw
        and (max_value is None or len(raw) <= max_value)
        and _LONG_DIGITS.search(raw) is None
    )


def _check_json(value: Any, field: str = "") -> None:
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, int) and abs(value) > INT64:
        raise _huge(field)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_json(item, key[:40] if isinstance(key, str) else field)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, field)


def _raw_path(request: HttpRequest) -> bytes:
    """The path's bytes as sent (percent-decoded).

    Django re-escapes bytes that are not UTF-8 as literal "%XX" text in path_info (so a view
    would see "%FF", not a broken string); decoding them again shows what was sent. A path
    that really meant a literal "%FF" is refused as well: no route of ours takes one.
    """
    return unquote_to_bytes(request.path_info.encode("utf-8", "surrogatepass"))


def _check_body(request: HttpRequest) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.content_type or ""
    is_json = content_type == "application/json" or content_type.endswith("+json")
    api = request.path_info.startswith(JSON_API_PREFIX)
    if api:
        # Read first, so that a multipart body parsed below stays readable as request.body
        # for the API's own parser (reading the stream twice was a 500).
        request.body  # noqa: B018
    if content_type == "multipart/form-data":
        # Parsed as the view would parse it (CsrfViewMiddleware reads it next anyway);
        # a malformed body is refused here instead of raising from the first access.
        values: Iterable[str] = (v for _, vs in request.POST.lists() for v in vs)
        for value in values:
            _check_text(value)
            _check_number(value.encode())
        for name, uploads in request.FILES.lists():
            _check_text(name)
            for upload in uploads:
                _check_text(upload.name or "")
    elif content_type == "application/x-www-form-urlencoded":
        _check_urlencoded(request.body)
    elif is_json:
        raw = request.body
        _check_bytes(raw)
        try:
            data = json.loads(raw)
        except ValueError:
            # Not JSON: the API says so in its own words (a JSON error, not a NUL error).
            return
        _check_json(data)
        if api and not isinstance(data, dict):
            # Every body of the API is an object: a string, list, number or null used to be
            # read attribute by attribute ("zz" renamed an event to str.title's "Zz").
            raise Refused(OBJECT_MESSAGE, 422)
    if api and not is_json and _has_content(request, content_type):
        # The API reads JSON only: a form or any other body would be read as nothing at all.
        raise Refused(UNSUPPORTED_MESSAGE, 415)


def _has_content(request: HttpRequest, content_type: str) -> bool:
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # Django's test client and some HTTP libraries send an empty form with a bodiless POST.
        return bool(request.POST) or bool(request.FILES)
    return bool(request.body.strip())


def check(request: HttpRequest) -> None:
    """Raise Refused if the request carries what no view may receive."""
    path = _raw_path(request)
    _check_bytes(path)
    for segment in path.split(b"/"):
        _check_number(segment)
    _check_urlencoded(request.META.get("QUERY_STRING", ""), max_value=MAX_QUERY_VALUE)
    try:
        _check_body(request)
    except (RequestDataTooBig, TooManyFieldsSent):
        raise Refused(TOO_BIG_MESSAGE, 413) from None
    except (MultiPartParserError, SuspiciousOperation):
        raise Refused(MALFORMED_MESSAGE) from None


def refusal(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """`message` in the format of the door the request came to."""
    path = request.path_info
    if path.startswith(FHIR_PREFIX):
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": {413: "too-long", 415: "not-supported"}.get(status, "invalid"),
                    "diagnostics": message,
                    "details": {"text": message},
                }
            ],
        }
        return JsonResponse(
            outcome,
            status=status,
            content_type="application/fhir+json; charset=utf-8",
            json_dumps_params={"ensure_ascii": False},
        )
    if path.startswith(JSON_PREFIXES):
        return JsonResponse(
            {"detail": message}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    html = render_to_string("400.html", {"message": message})
    return HttpResponse(html, status=status)


class RefuseUnsafeInputMiddleware:
    """Put near the top of MIDDLEWARE: nothing below it sees a refused request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check(request)
        except Refused as refused:
            return refusal(request, refused.message, refused.status)
        return self.get_response(request)
