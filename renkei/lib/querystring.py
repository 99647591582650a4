"""request.GET filled in one pass, for the server (renkei.wsgi).

Django's QueryDict adds the pairs of a query string one by one through appendlist(), which
checks mutability, converts the key and the value and looks the key up again for every pair:
for the API search's eight parameters that was two thirds of building request.GET, which every
search reads (ninja for its schema, FacilitySearch for the rules, the HTML page for the form),
and ~4 % of a search's CPU through the WSGI handler (docs/benchmarks.md, session 11).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_bytes_from_wsgi
from django.http import QueryDict
from django.utils.functional import cached_property


def _pairs(text: str, encoding: str, limit: int | None) -> list[tuple[str, str]]:
    """parse_qsl(text, keep_blank_values=True, …), with its work skipped where it does nothing:
    without "%" and "+" unquoting leaves every name and value as it is."""
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True, encoding=encoding, max_num_fields=limit)
    if limit is not None and text and 1 + text.count("&") > limit:
        raise ValueError("Max number of fields exceeded")  # what parse_qsl raises
    pairs = []
    for item in text.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((name, value))
    return pairs


class QueryString(QueryDict):
    """A QueryDict with the same contents as Django's for any query string (a test compares
    them), built from a dict of lists instead of pair by pair."""

    def __init__(
        self,
        query_string: str | bytes | None = None,
        mutable: bool = False,
        encoding: str | None = None,
    ) -> None:
        super().__init__(None, mutable=True, encoding=encoding)
        if isinstance(query_string, bytes):
            # As QueryDict: URL-encoded data is ASCII, but some user agents send other bytes.
            try:
                text = query_string.decode(self.encoding)
            except UnicodeDecodeError:
                text = query_string.decode("iso-8859-1")
        else:
            text = query_string or ""
        try:
            pairs = _pairs(text, self.encoding, settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)
        except ValueError as e:
            raise TooManyFieldsSent(
                "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
            ) from e
        lists: dict[str, list[str]] = {}
        for name, value in pairs:
            lists.setdefault(name, []).append(value)
        dict.update(self, lists)
        self._mutable = mutable


class Request(WSGIRequest):
    @cached_property
    def GET(self) -> QueryDict:  # type: ignore[override]
        # As WSGIRequest.GET (QUERY_STRING may be absent), with the one-pass QueryDict.
        raw = get_bytes_from_wsgi(self.environ, "QUERY_STRING", "")
        return QueryString(raw, encoding=self.encoding)


class Handler(WSGIHandler):
    request_class = Request
