"""What every app's API router shares: the one refusal body and the response maps naming it,
and `act`, the fetch → action → answer of a write on one record.

`renkei.api`'s handlers write every refusal as `{"detail", "field"}` with the error's status
(ActionError and its family, validation, HttpError); the routers only declare it, so the OpenAPI
schema shows one `ErrorOut` instead of one copy per app.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.http import HttpRequest
from ninja import Schema

from renkei.lib.inputs import Input

M = TypeVar("M")  # the caller's membership (lib imports no app: accounts sits above it)
T = TypeVar("T")
R = TypeVar("R")


class ErrorOut(Schema):
    detail: str
    field: str | None = None


def errors(*codes: int) -> dict[int, type[Schema]]:
    """The response map for these refusal statuses, to spread into `response={200: …, **…}`."""
    return dict.fromkeys(codes, ErrorOut)


# A read of one scoped record: another organisation's is 404, a role that may not is 403.
READ_ERRORS = errors(403, 404)
# A write: also bad input or a step not acceptable yet (400), a state moved past it (409).
WRITE_ERRORS = errors(400, 403, 404, 409)


def act(
    request: HttpRequest,
    m: M,
    fetch: Callable[[M, uuid.UUID], T],
    code: uuid.UUID,
    action: Callable[..., R],
    payload: Input | None = None,
) -> R:
    """A write on one record, as every handler wrote it by hand: the record `m` may see
    (`fetch` refuses another organisation's with 404), then the action with the typed payload,
    the caller and the request (for the audit row). The handler answers with what it returns."""
    target = fetch(m, code)
    if payload is None:
        return action(target, by=m, request=request)
    return action(target, by=m, data=payload, request=request)
