"""The API's JSON encoding."""

from __future__ import annotations

from typing import Any

import orjson
from ninja.responses import NinjaJSONEncoder

_encoder = NinjaJSONEncoder()


def json_bytes(data: Any) -> bytes:
    """JSON as the API sends it: UTF-8, with the values ninja's encoder would give.

    orjson, because the encoding was an eighth of a directory search's CPU with the standard
    library (docs/benchmarks.md). Dates and times still go through Django's encoder, so they
    keep its format (milliseconds, "Z"); pydantic models, lazy strings and Decimals too.
    """
    return orjson.dumps(
        data,
        default=_encoder.default,
        option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS,
    )
