"""What the CapabilityStatement at /api/fhir/metadata lists beyond the directory's own
resources: each app that serves FHIR registers its resources in AppConfig.ready, so the
directory, which writes the statement, imports no other app."""

from __future__ import annotations

from typing import Any

# (resource type, [(search parameter, type, documentation)], documentation)
Param = tuple[str, str, str]
RESOURCES: dict[str, tuple[list[Param], str]] = {}


def register(kind: str, params: list[Param], documentation: str = "") -> None:
    RESOURCES[kind] = (params, documentation)


def statement_entries() -> list[dict[str, Any]]:
    return [
        {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": n, "type": t, "documentation": d} for n, t, d in params],
            **({"documentation": doc} if doc else {}),
        }
        for kind, (params, doc) in RESOURCES.items()
    ]
