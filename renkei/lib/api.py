"""What every app's API router shares: the one refusal body and the response maps naming it.

`renkei.api`'s handlers write every refusal as `{"detail", "field"}` with the error's status
(ActionError and its family, validation, HttpError); the routers only declare it, so the OpenAPI
schema shows one `ErrorOut` instead of one copy per app.
"""

from __future__ import annotations

from ninja import Schema


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
