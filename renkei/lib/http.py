"""HTTP helpers: the API's JSON encoding, and the headers of a page reached by a personal link."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from django.http import HttpResponse
from ninja.responses import NinjaJSONEncoder

_encoder = NinjaJSONEncoder()


def _default(o: Any) -> Any:
    """The encoder's default(), with a datetime (a search page has one a row) formatted here
    first, as DjangoJSONEncoder formats it, without the encoder's chain of type checks."""
    if type(o) is dt.datetime:
        r = o.isoformat()
        if o.microsecond:
            r = r[:23] + r[26:]
        if r.endswith("+00:00"):
            r = r[:-6] + "Z"
        return r
    return _encoder.default(o)


def json_bytes(data: Any) -> bytes:
    """JSON as the API sends it: UTF-8, with the values ninja's encoder would give.

    orjson, because the encoding was an eighth of a directory search's CPU with the standard
    library (docs/benchmarks.md). Dates and times still go through Django's encoder, so they
    keep its format (milliseconds, "Z"); pydantic models, lazy strings and Decimals too.
    """
    return orjson.dumps(
        data,
        default=_default,
        option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS,
    )


def private_page(response: HttpResponse) -> HttpResponse:
    """A page reached through a personal link (an application, a report): never cached by a
    shared cache, never indexed."""
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
