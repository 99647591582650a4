"""Every route of the URLconf, with hostile input, answers without a 5xx (issue 17 §1).

The routes are read from the resolver, not listed by hand, so a new screen or endpoint is
walked as soon as it exists. Each is called anonymously and signed in (as the member whose
app it is, on seeded records, so that the views run past their 404s), with:

- NUL, a lone surrogate and invalid UTF-8: refused by the middleware with a 400 in the
  door's own format, on the path, the query string, a form body and a JSON body;
- 1 MB strings, integers past 64 bits, negative numbers and arrays where scalars belong:
  whatever the view says, it is not a 5xx.

Parameter and field names come from the code itself: every Input model, every Django form,
the OpenAPI schema and the names the views read from request.GET.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from django import forms
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from renkei.api import api
from renkei.lib.inputs import Input
from tests.api_world import World, build_world

# WALK_TRACE=/tmp/walk.trace: every call, its status and the peak memory, as they happen.
TRACE = open(os.environ["WALK_TRACE"], "w") if os.environ.get("WALK_TRACE") else None  # noqa: SIM115
ROOT = Path(__file__).resolve().parent.parent

NUL = b"a\x00b"
SURROGATE = "\ud800".encode("utf-8", "surrogatepass")
BAD_UTF8 = b"\xff\xfe"
REFUSED = {"nul": NUL, "surrogate": SURROGATE, "bad-utf8": BAD_UTF8}

LONG = "あ".encode() + b"x" * 1_000_000  # 1 MB
HUGE = b"1" + b"0" * 30
NEGATIVE = b"-1"
# Names that take free text get the 1 MB value; the rest 1 KB each (still past most columns).
TEXT_NAMES = {"q", "name"}

# The member whose app a prefix belongs to (tests/api_world.py's roles).
ROLES = [
    ("desk/", "counselor"),
    ("api/v1/desk/", "counselor"),
    ("referrals/inbox", "receiver"),
    ("referrals/requests/", "receiver"),
    ("referrals/dashboard", "officer"),
    ("referrals/surveys", "officer"),
    ("referrals/", "msw"),
    ("api/v1/referrals/", "msw"),
    ("events/manage/", "organiser"),
    ("api/v1/events/manage/", "organiser"),
    ("courses/", "courses"),
    ("api/v1/courses/", "courses"),
    ("materials/", "courses"),
    ("mentoring/", "office"),
    ("api/v1/mentoring/", "office"),
    ("directory/", "officer"),
    ("api/v1/directory/", "officer"),
    ("", "msw"),
]


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _names() -> set[str]:
    """Every parameter or field name a view might read."""
    found: set[str] = set()
    for model in _subclasses(Input):
        found.update(model.model_fields)
    for form in _subclasses(forms.BaseForm):
        found.update(getattr(form, "base_fields", {}))
    for operations in api.get_openapi_schema()["paths"].values():
        for operation in operations.values():
            found.update(p["name"] for p in operation.get("parameters", []))
    read = re.compile(r"""(?:GET|POST|query|params)\.get(?:list)?\(\s*["']([\w-]+)["']""")
    for source in (ROOT / "renkei").rglob("*.py"):
        if "tests" not in source.parts:
            found.update(read.findall(source.read_text()))
    found.update(["page", "per_page", "_count", "_id", "near", "address-city", "identifier"])
    return found


def _query(names: set[str], value: bytes) -> str:
    """Every name set to `value` (the 1 MB one in full on TEXT_NAMES, 1 KB elsewhere)."""
    pairs = []
    for name in sorted(names):
        v = value[:1024] if value is LONG and name not in TEXT_NAMES else value
        pairs.append(f"{name}={quote_from_bytes(v)}")
    return "&".join(pairs)


MIXED = (HUGE, NEGATIVE, None)  # None: the name twice (an array where a scalar belongs)


def _mixed(names: set[str], shift: int) -> str:
    """Each name gets a huge integer, a negative one or two values, in turn; `shift` rotates
    who gets which, so that two calls give every name two of the three."""
    pairs = []
    for i, name in enumerate(sorted(names)):
        value = MIXED[(i + shift) % len(MIXED)]
        if value is None:
            pairs += [f"{name}=1", f"{name}=2"]
        else:
            pairs.append(f"{name}={value.decode()}")
    return "&".join(pairs)


JSON_MIXED: tuple[Any, ...] = (10**30, -1, ["1", "2"], {"a": 1})


def _json_mixed(fields: list[str], shift: int) -> bytes:
    return json.dumps(
        {name: JSON_MIXED[(i + shift) % len(JSON_MIXED)] for i, name in enumerate(fields)}
    ).encode()


def _role(route: str) -> str:
    return next(role for prefix, role in ROLES if route.startswith(prefix))


class Walk:
    def __init__(self, world: World) -> None:
        self.world = world
        self.failures: list[str] = []
        self.refusals_missing: list[str] = []
        self.count = 0
        self.clients = {None: Client()}
        for role, session in world.sessions.items():
            client = Client()
            client.cookies["sessionid"] = session
            self.clients[role] = client

    def call(
        self,
        role: str | None,
        method: str,
        path: str,
        *,
        query: str = "",
        body: bytes | None = None,
        content_type: str = "application/x-www-form-urlencoded",
        refused: bool = False,
    ) -> None:
        client = self.clients[role]
        url = path + ("?" + query if query else "")
        extra: dict[str, Any] = {"QUERY_STRING": query} if query else {}
        self.count += 1
        label = f"{role or 'anonymous'} {method} {url[:160]}"
        if TRACE:
            import resource

            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            print(f"{time.monotonic():.2f} {rss}MB {label[:120]}", file=TRACE, flush=True)
        try:
            with transaction.atomic():
                if body is None:
                    response = client.generic(method, path, **extra)
                else:
                    response = client.generic(
                        method, path, body, content_type=content_type, **extra
                    )
                transaction.set_rollback(True)
        except Exception as e:  # noqa: BLE001 - every failure is collected, then reported
            self.failures.append(f"{label}: {type(e).__name__}: {str(e)[:200]}")
            return
        if TRACE:
            print(f"  -> {response.status_code} {response.content[:200]!r}", file=TRACE, flush=True)
        if response.status_code >= 500:
            self.failures.append(f"{label}: {response.status_code}")
        elif refused and response.status_code != 400:
            self.refusals_missing.append(f"{label}: {response.status_code}")


def _fill(route: str, pattern: URLPattern, world: World, value: str | None) -> str | None:
    """The route's path with its parameters filled: `value` for each, or seeded values."""
    if not isinstance(pattern.pattern, RoutePattern) and re.search(r"[(\[\\]", route):
        return None  # the admin's catch-all regexes: nothing to fill
    params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    filled = route
    for converter, name in params:
        v = value if value is not None else _seeded(route, converter or "str", name, world)
        filled = re.sub(r"<(?:\w+:)?" + name + ">", v.replace("\\", "\\\\"), filled, count=1)
    return "/" + filled


def _seeded(route: str, converter: str, name: str, world: World) -> str:
    api_path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    known = world.path_parameters.get(api_path)
    if known and name in known[0]:
        return known[0][name]
    for key, value in world.html_parameters.items():
        if re.match(key, route) and name in value:
            return value[name]
    if converter == "int":
        return "1"
    if converter == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    return "x"


def _json_fields(operation: dict[str, Any], components: dict[str, Any]) -> list[str]:
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = schema.get("schema", {}).get("$ref", "")
    properties = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
    return list(properties) or ["title"]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def quiet_request_log() -> Iterator[None]:
    """Django logs every 4xx with its request; kept by pytest's log capture, thousands of
    megabyte-sized requests would stay in memory. 5xx are still logged."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def _group(route: str) -> str:
    parts = route.split("/")
    return "/".join(parts[:3] if route.startswith("api/v1/") else parts[:1])


ROUTES = list(_routes(get_resolver().url_patterns))


# One test per app (and API router), so that xdist's workers share the walk.
@pytest.mark.parametrize("group", sorted({_group(route) for route, _ in ROUTES}))
def test_every_route_survives_hostile_input(
    group: str, world: World, db: None, quiet_request_log: None
) -> None:
    started = time.monotonic()
    walk = Walk(world)
    names = _names()
    # Built once per test: a second of CPU each, and it was built for every write and role.
    document = api.get_openapi_schema()
    openapi, components = document["paths"], document["components"]["schemas"]
    # Built once: quoting a megabyte is slower than most views.
    refused_queries = [_query(names, raw) for raw in REFUSED.values()]
    long_query, mixed = _query(names, LONG), [_mixed(names, 0), _mixed(names, 1)]
    # The query gets one rotation and the form the other: every name meets two of the three.
    queries = [long_query, mixed[0]]
    refused_forms = [q.encode() for q in refused_queries]
    forms = [long_query.encode(), mixed[1].encode()]
    path_values = [quote_from_bytes(v) for v in (*REFUSED.values(), HUGE, NEGATIVE, LONG[:30000])]
    long_text = LONG.decode()
    json_type = {"content_type": "application/json"}

    routes = [(route, pattern) for route, pattern in ROUTES if _group(route) == group]
    for route, pattern in routes:
        admin = route.startswith("admin/")
        roles: list[str | None] = [None] if admin else [None, _role(route)]
        path = _fill(route, pattern, world, None)
        if path is None:
            continue
        api_path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/" + route)
        operations = openapi.get(api_path, {})
        for role in roles:
            # Hostile path parameters (the first three are refused by the middleware).
            if "<" in route:
                # The admin's screens are Django's own: the refusals and a huge id suffice.
                for i, raw in enumerate(path_values[:4] if admin else path_values):
                    hostile = _fill(route, pattern, world, raw)
                    if hostile is not None:
                        walk.call(role, "GET", hostile, refused=i < len(REFUSED))
            if admin:
                continue
            # Hostile query strings.
            for query in refused_queries:
                walk.call(role, "GET", path, query=query, refused=True)
            for query in queries:
                walk.call(role, "GET", path, query=query)
            # Hostile bodies: a form on the screens, JSON on the API's writes.
            if not operations:
                for body in refused_forms:
                    walk.call(role, "POST", path, body=body, refused=True)
                for body in forms:
                    walk.call(role, "POST", path, body=body)
                continue
            for method, operation in operations.items():
                if method == "get":
                    continue
                method = method.upper()
                fields = _json_fields(operation, components)
                for text in ("a\x00b", "\ud800"):
                    body = json.dumps(dict.fromkeys(fields, text)).encode()
                    walk.call(role, method, path, body=body, **json_type, refused=True)
                body = b'{"' + fields[0].encode() + b'": "\xff\xfe"}'
                walk.call(role, method, path, body=body, **json_type, refused=True)
                bodies = [
                    # 1 MB in one field, 1 KB in the others (a megabyte in each was most of the walk's time).
                    json.dumps(
                        {f: long_text if i == 0 else long_text[:1024] for i, f in enumerate(fields)}
                    ).encode(),
                    _json_mixed(fields, 0),
                    _json_mixed(fields, 1),
                    *(json.dumps(v).encode() for v in ("zz", [1, 2], 7, None)),
                ]
                for body in bodies:
                    walk.call(role, method, path, body=body, **json_type)
                walk.call(
                    role,
                    method,
                    path,
                    body=b'{"title": 1}',
                    content_type="multipart/form-data; boundary=xx",
                )
    elapsed = time.monotonic() - started
    print(f"route walk {group}: {len(routes)} routes, {walk.count} requests, {elapsed:.1f} s")
    assert not walk.failures, "\n".join(walk.failures)
    assert not walk.refusals_missing, "\n".join(walk.refusals_missing)
