from __future__ import annotations

from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from renkei.events.models import Event
from renkei.ops import monitoring

# The files every page links (templates/base.html): if the static manifest cannot name them,
# every page answers 500, so the health check must fail too.
PAGE_ASSETS = (
    "vendor/dads/tokens.css",
    "css/renkei.css",
    "vendor/htmx/htmx.min.js",
    "img/favicon.svg",
)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    # Residents reach the public lectures from here (issue 9 §5), signed in or not.
    upcoming = Event.objects.published().upcoming().order_by("starts_at", "pk")[:3]
    return render(request, "home.html", {"upcoming_events": upcoming})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers and feed readers ask for /favicon.ico whatever the page links; the file itself
    # lives with the static files (hashed name in production), so send them there.
    response = HttpResponseRedirect(staticfiles_storage.url("img/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


class _Migrated:
    """Once every migration is applied, it stays so for this process (the code cannot change
    under it), so the migration graph is read only until the first healthy answer."""

    done = False


def _unapplied_migrations() -> list[str]:
    if _Migrated.done:
        return []
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    names = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    _Migrated.done = not names
    return names


def _static_problem() -> str | None:
    for name in PAGE_ASSETS:
        try:
            staticfiles_storage.url(name)
        except ValueError:
            # ManifestStaticFilesStorage: manifest missing (collectstatic not run, or run after
            # this process started) or the file is not in it.
            return (
                f"静的ファイルの manifest に {name} がありません (collectstatic を実行してください)"
            )
    return None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the pages can be served; 503 naming what would make them fail.

    Checked: the database answers, no migration is waiting, the static manifest names the
    files every page links, the cache answers. Reported as "degraded" (still 200, so that the
    load balancer keeps the server): the read replica does not answer, no job worker is alive,
    or due jobs wait too long. Messages name the failure, never credentials or host names.
    """
    failures: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as e:
        failures["database"] = f"データベースに接続できません ({type(e).__name__})"
    else:
        unapplied = _unapplied_migrations()
        if unapplied:
            failures["migrations"] = (
                f"未適用のマイグレーションが {len(unapplied)} 件あります"
                f" (最初: {unapplied[0]}; manage.py migrate を実行してください)"
            )
    static = _static_problem()
    if static:
        failures["static"] = static
    # Rate limits count in the cache on most pages: without it they fail too.
    if cache_problem := monitoring.check_cache():
        failures["cache"] = cache_problem
    # Pages work without these; what needs them waits (mail, imports) or reads the primary.
    warnings = {}
    if not failures:
        warnings = {
            name: problem
            for name, problem in (
                ("replica", monitoring.check_replica()),
                ("queue", monitoring.check_queue()),
            )
            if problem
        }
    if failures:
        return JsonResponse(
            {"status": "error", "failures": failures},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    if warnings:
        return JsonResponse(
            {"status": "degraded", "warnings": warnings}, json_dumps_params={"ensure_ascii": False}
        )
    return JsonResponse({"status": "ok"})
