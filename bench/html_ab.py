"""Session 13's fixed costs of the HTML search page, off and on in one process (ADR 0077),
and session 14's template changes (ADR 0079).

Each change is switched back to what it replaced (Django's csrf get_token, django-csp's
process_response, a reverse() for the rows' facility address on every page), and batches of
the HTML page through renkei.wsgi alternate between "old" and "new" in one process and one
database connection: on a shared host two runs differ by more than these changes save.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_dir python bench/html_ab.py
    python bench/html_ab.py --only csrf --batches 30
    python bench/html_ab.py --only form --old-rev 3f31660~1   # session 14: the page's template

"form" renders the page with the search template of --old-rev (read with git show), the query
as the QueryDict and no Python pager, against this tree's template and view.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import search_bench as sb  # noqa: E402


def switches(old_rev: str) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    """name: (back to the old code, forward to the new)."""
    from csp.middleware import CSPMiddleware
    from django.middleware import csrf as django_csrf

    from renkei.directory import search_html
    from renkei.lib import csp, csrf

    new_token, new_csp = csrf.get_token, csp.CSPHeadersMiddleware.process_response
    new_detail = search_html._detail_pattern

    def old_detail(prefix: str, urlconf: Any) -> str:
        return new_detail.__wrapped__(prefix, urlconf)

    def setter(obj: Any, name: str, value: Any) -> Callable[[], None]:
        return lambda: setattr(obj, name, value)

    return {
        "form": _form_switch(old_rev),
        "csrf": (
            setter(csrf, "get_token", django_csrf.get_token),
            setter(csrf, "get_token", new_token),
        ),
        "csp": (
            setter(csp.CSPHeadersMiddleware, "process_response", _old_csp(CSPMiddleware, csp)),
            setter(csp.CSPHeadersMiddleware, "process_response", new_csp),
        ),
        "detail": (
            setter(search_html, "_detail_pattern", old_detail),
            setter(search_html, "_detail_pattern", new_detail),
        ),
    }


def _form_switch(old_rev: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """Session 13's search template (the pager included, the query's values looked up in the
    QueryDict) and view, against this tree's."""
    import subprocess

    from django.http import HttpResponse
    from django.template import engines

    from renkei.directory import views

    text = subprocess.run(
        ["git", "show", f"{old_rev}:templates/directory/search.html"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    old_template = engines["django"].from_string(text)
    new_render, new_values, new_pager = views.render, views._form_values, views.pager

    def old_render(request: Any, name: str, context: dict[str, Any], status: int = 200) -> Any:
        if name != "directory/search.html":
            return new_render(request, name, context, status=status)
        if context.get("error", "") is None:
            del context["error"]
        return HttpResponse(old_template.render(context, request), status=status)

    def old() -> None:
        views.render, views.pager = old_render, lambda page, qs: ""
        views._form_values = lambda request: request.GET

    def new() -> None:
        views.render, views._form_values, views.pager = new_render, new_values, new_pager

    return old, new


def _old_csp(base: Any, csp: Any) -> Any:
    """Session 12's process_response: a page with a nonce went through django-csp's."""
    new = csp.CSPHeadersMiddleware.process_response

    def process_response(self: Any, request: Any, response: Any) -> Any:
        if getattr(request, "_csp_nonce", None) is not None:
            return base.process_response(self, request, response)
        return new(self, request, response)

    return process_response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100, help="pages a batch")
    parser.add_argument("--only", default="", help="comma-separated: form,csrf,csp,detail")
    parser.add_argument("--old-rev", default="3f31660~1", help="the old search template's commit")
    args = parser.parse_args()
    sb.configure(None)
    print(f"load average {os.getloadavg()[0]:.2f}; {sb.calibration()}")
    from renkei.lib.querystring import Handler

    chosen = switches(args.old_rev)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    handler = Handler()
    urls = [p["url"].replace(sb.PATH, "/directory/") for p in sb.query_points(200, 1)]

    def side(name: str) -> None:
        for old, new in chosen.values():
            (old if name == "old" else new)()

    for name in ("old", "new"):
        side(name)
        for u in urls:
            if sb.wsgi_get(handler, u) != 200:
                sys.exit(f"{u} did not answer 200 ({name})")
    cpu: dict[str, list[float]] = {"old": [], "new": []}
    for b in range(args.batches):
        for name in ("old", "new") if b % 2 == 0 else ("new", "old"):
            side(name)
            start = time.process_time()
            for i in range(args.batch):
                sb.wsgi_get(handler, urls[(b * args.batch + i) % len(urls)])
            cpu[name].append((time.process_time() - start) / args.batch * 1000)
    print(f"switched: {', '.join(chosen)}; load average {os.getloadavg()[0]:.2f}")
    for name, values in cpu.items():
        q = statistics.quantiles(values, n=4)
        print(
            f"{name}  CPU a page: median {statistics.median(values):.3f} ms"
            f"  (quartiles {q[0]:.3f}–{q[2]:.3f}, {args.batches} batches of {args.batch})"
        )
    diffs = [(o - n) * 1000 for o, n in zip(cpu["old"], cpu["new"], strict=True)]
    print(f"old − new, batch by batch: median {statistics.median(diffs):.0f} µs")


if __name__ == "__main__":
    main()
