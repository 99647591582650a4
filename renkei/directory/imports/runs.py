"""Runs: each upload or command import is an ImportRun with progress, a report and an audit trail.

An upload only records a queued run (待機中) and enqueues `import_upload` in the same
transaction; a worker runs it (on SQLite, the demo's immediate backend runs it in a thread
after commit, ADR 0019). A run that cannot finish says so at once: an exception is recorded on
a fresh database connection with how far the import got, and a worker killed mid-import has its
job retried once by another worker (imports are idempotent upserts) or, out of retries, the run
is recorded as failed (`import_abandoned`).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, OrgKind
from renkei.directory.imports.pipeline import ProgressFn, import_bytes
from renkei.directory.imports.results import BATCH_SIZE, FileRefused, ImportResult
from renkei.directory.models import ImportRun
from renkei.lib.jobs import job, pending

log = logging.getLogger("renkei.directory.imports")


def scope_of(membership: Membership) -> set[int] | None:
    """Municipality ids an organisation may import into; None means everywhere (運営事務局)."""
    org = membership.organization
    if org.kind == OrgKind.OPERATOR:
        return None
    return set(org.curated_municipalities().values_list("id", flat=True))


def upload_name(run: ImportRun) -> str:
    """Where a run's upload is kept in the media storage (MEDIA_ROOT or the object store, which
    every server and worker shares: the worker that imports it need not be the server that
    received it)."""
    suffix = ".zip" if run.filename.lower().endswith(".zip") else ".csv"
    return f"{UPLOAD_FOLDER}/{run.code}{suffix}"


UPLOAD_FOLDER = "imports"


def upload_path(run: ImportRun) -> Path:
    """The upload's file when the media storage is MEDIA_ROOT."""
    return Path(settings.MEDIA_ROOT) / upload_name(run)


def start_import(
    upload: UploadedFile[bytes],
    *,
    membership: Membership,
    fmt: str = "auto",
    source_date: dt.date | None = None,
    request: HttpRequest | None = None,
) -> ImportRun:
    """Store the upload and record a queued run whose import a worker runs.

    The run, its audit entry and the job commit together: a failed request leaves no job, and
    a committed upload is never forgotten.
    """
    with transaction.atomic():
        run = ImportRun.objects.create(
            format=fmt,
            filename=Path(upload.name or "upload.csv").name[:200],
            organization=membership.organization,
            started_by=membership.user,
        )
        # The name is the run's own uuid: the storage never has to pick another.
        default_storage.save(upload_name(run), upload)
        AuditEntry.record(
            "directory.import_started",
            request=request,
            by=membership,
            target=run,
            detail={"filename": run.filename, "format": fmt, "bytes": upload.size},
        )
        import_upload.enqueue(
            run_id=run.pk,
            membership_id=membership.pk,
            source_date=source_date.isoformat() if source_date else None,
        )
    return run


def _read(path: Path | str) -> bytes:
    if isinstance(path, Path):
        return path.read_bytes()
    with default_storage.open(path, "rb") as stored:
        data: bytes = stored.read()
    return data


def import_abandoned(*, run_id: int, **_: object) -> None:
    """The worker running this import died and the job is out of retries: say so at once."""
    run = ImportRun.objects.get(pk=run_id)
    unfinished = ImportRun.objects.filter(
        status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING]
    )
    _close_interrupted(unfinished, run)


@job(queue="imports", retries=1, long=True, on_stalled=import_abandoned)
def import_upload(*, run_id: int, membership_id: int, source_date: str | None = None) -> None:
    """Run a queued upload. Delivered again (a retry after its worker died), a finished run is
    left alone and an unfinished one is imported from the start: rows already written count as
    unchanged, the rest are written."""
    run = ImportRun.objects.get(pk=run_id)
    if run.finished:
        return
    membership = Membership.objects.select_related("organization", "user").get(pk=membership_id)
    run_import(
        run,
        upload_name(run),
        scope=scope_of(membership),
        source_date=dt.date.fromisoformat(source_date) if source_date else None,
        membership=membership,
    )


def run_import(
    run: ImportRun,
    path: Path | str,
    *,
    scope: set[int] | None = None,
    source_date: dt.date | None = None,
    membership: Membership | None = None,
    actor_label: str = "",
    batch_size: int = BATCH_SIZE,
    on_progress: ProgressFn | None = None,
) -> ImportResult | None:
    """Import a run's file, keeping its progress, status and report up to date. `path` is a
    local file (the management command) or a name in the media storage (an upload)."""
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.RUNNING, heartbeat_at=timezone.now()
    )
    # How far the import got, as committed: kept here so that a failure can be recorded
    # without asking the database that may just have failed.
    reached = {"done": 0, "total": 0}

    def progress(done: int, total: int) -> None:
        ImportRun.objects.filter(pk=run.pk).update(
            processed_rows=done, total_rows=total, heartbeat_at=timezone.now()
        )
        reached.update(done=done, total=total)
        if on_progress:
            on_progress(done, total)

    result: ImportResult | None = None
    try:
        result = import_bytes(
            _read(path),
            filename=run.filename,
            fmt=run.format or "auto",
            source_date=source_date,
            scope=scope,
            progress=progress,
            batch_size=batch_size,
        )
    except FileRefused as e:
        run.status = ImportRun.Status.REFUSED
        run.message = str(e)
        run.total_rows = run.processed_rows = 0
    except Exception:
        log.exception("Import %s (%s) failed", run.code, run.filename)
        _fresh_connection()
        run.processed_rows, run.total_rows = reached["done"], reached["total"]
        run.status = ImportRun.Status.FAILED
        run.message = (
            f"取込中に予期しないエラーが発生しました（{run.processed_rows:,}行目付近まで反映済み）。"
            "同じファイルをもう一度取り込むと、残りが反映されます。"
        )
    else:
        run.status = ImportRun.Status.DONE
        run.format = result.format
        run.total_rows = result.total_rows
        run.processed_rows = result.processed_rows
        run.created, run.updated = result.created, result.updated
        run.unchanged, run.rejected = result.unchanged, result.rejected
        run.errors = [r.as_dict() for r in result.reports]
        run.message = result.summary()
    run.finished_at = timezone.now()
    run.save()
    AuditEntry.record(
        "directory.import_finished",
        actor=membership.user if membership else None,
        membership=membership,
        actor_label=actor_label,
        target=run,
        detail={
            "status": run.status,
            "format": run.format,
            "filename": run.filename,
            "total_rows": run.total_rows,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "rejected": run.rejected,
            "skipped": result.skipped if result else 0,
        },
    )
    return result


def _fresh_connection() -> None:
    """Let the next query open a new connection when this one may be dead (the server ended
    the session, the network dropped): the failure must be recorded, not lost with it. Inside
    a caller's transaction (tests, a command run in one) the connection cannot be replaced and
    is used as it is."""
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        # Closing a broken connection can fail too; Django has forgotten it either way.
        log.warning("closing the import's broken connection failed", exc_info=True)


def interrupted_message(processed_rows: int) -> str:
    return (
        "サーバーの再起動などで取込が中断されました"
        f"（{processed_rows:,}行目付近まで反映済み）。"
        "同じファイルをもう一度取り込むと、残りが反映されます。"
    )


def fail_stalled_runs() -> int:
    """Close the runs that can no longer finish: running without progress for
    DIRECTORY_IMPORT_STALL_SECONDS (their process died), or queued that long with no job left
    to run them. Each becomes エラー with how far it got, and is audited; the conditional
    update keeps a run that just reported progress running. A scheduled job
    (renkei.directory.jobs) calls it; the number closed is returned."""
    closed = 0
    for run in ImportRun.objects.stalled():
        if run.status == ImportRun.Status.QUEUED and pending(import_upload, run_id=run.pk):
            continue  # waiting behind other imports for a worker
        closed += _close_interrupted(ImportRun.objects.stalled(), run)
    return closed


def _close_interrupted(candidates: QuerySet[ImportRun], run: ImportRun) -> bool:
    """Record `run` as interrupted if it is still among `candidates` (a conditional UPDATE, so
    two sweeps close it once), with an audit entry."""
    closed = candidates.filter(pk=run.pk).update(
        status=ImportRun.Status.FAILED,
        message=interrupted_message(run.processed_rows),
        finished_at=timezone.now(),
    )
    if closed:
        AuditEntry.record(
            "directory.import_interrupted",
            actor_label="system",
            target=run,
            detail={"filename": run.filename, "processed_rows": run.processed_rows},
        )
    return bool(closed)
