"""Runs: each upload or command import is an ImportRun with progress, a report and an audit trail."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, OrgKind
from renkei.directory.imports.pipeline import ProgressFn, import_bytes
from renkei.directory.imports.results import BATCH_SIZE, FileRefused, ImportResult
from renkei.directory.models import (
    ImportRun,
)

log = logging.getLogger("renkei.directory.imports")


def scope_of(membership: Membership) -> set[int] | None:
    """Municipality ids an organisation may import into; None means everywhere (運営事務局)."""
    org = membership.organization
    if org.kind == OrgKind.OPERATOR:
        return None
    return set(org.curated_municipalities().values_list("id", flat=True))


def upload_path(run: ImportRun) -> Path:
    suffix = ".zip" if run.filename.lower().endswith(".zip") else ".csv"
    return Path(settings.MEDIA_ROOT) / "imports" / f"{run.code}{suffix}"


def start_import(
    upload: UploadedFile[bytes],
    *,
    membership: Membership,
    fmt: str = "auto",
    source_date: dt.date | None = None,
    request: HttpRequest | None = None,
) -> ImportRun:
    """Store the upload, record the run and import it in a background thread.

    With settings.DIRECTORY_IMPORT_BACKGROUND = False (tests) the import runs before returning.
    """
    run = ImportRun.objects.create(
        format=fmt,
        filename=Path(upload.name or "upload.csv").name[:200],
        organization=membership.organization,
        started_by=membership.user,
    )
    path = upload_path(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    AuditEntry.record(
        "directory.import_started",
        request=request,
        actor=membership.user,
        membership=membership,
        target=run,
        detail={"filename": run.filename, "format": fmt, "bytes": upload.size},
    )
    scope = scope_of(membership)
    if getattr(settings, "DIRECTORY_IMPORT_BACKGROUND", True):
        transaction.on_commit(
            lambda: threading.Thread(
                target=_run_in_thread,
                args=(run.pk, path, scope, source_date, membership.pk),
                name=f"import-{run.code}",
                daemon=True,
            ).start()
        )
    else:
        run_import(run, path, scope=scope, source_date=source_date, membership=membership)
        run.refresh_from_db()
    return run


def _run_in_thread(
    run_pk: int,
    path: Path,
    scope: set[int] | None,
    source_date: dt.date | None,
    membership_pk: int,
) -> None:
    try:
        run = ImportRun.objects.get(pk=run_pk)
        membership = Membership.objects.select_related("organization", "user").get(pk=membership_pk)
        run_import(run, path, scope=scope, source_date=source_date, membership=membership)
    finally:
        connection.close()


def run_import(
    run: ImportRun,
    path: Path,
    *,
    scope: set[int] | None = None,
    source_date: dt.date | None = None,
    membership: Membership | None = None,
    actor_label: str = "",
    batch_size: int = BATCH_SIZE,
    on_progress: ProgressFn | None = None,
) -> ImportResult | None:
    """Import the stored file of a run, keeping its progress, status and report up to date."""
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.RUNNING, heartbeat_at=timezone.now()
    )

    def progress(done: int, total: int) -> None:
        ImportRun.objects.filter(pk=run.pk).update(
            processed_rows=done, total_rows=total, heartbeat_at=timezone.now()
        )
        if on_progress:
            on_progress(done, total)

    result: ImportResult | None = None
    try:
        result = import_bytes(
            path.read_bytes(),
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
        run.refresh_from_db(fields=["processed_rows", "total_rows"])
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


def fail_stalled_runs() -> int:
    """Close the runs whose import thread died with its server process (a restart, a crash):
    without this they would show 取込中 for ever. Each becomes エラー with how far it got, and
    is audited; the conditional update keeps a run that just reported progress running. The
    upload pages call it before they list or show runs; the number closed is returned."""
    closed = 0
    for run in ImportRun.objects.stalled():
        message = (
            "サーバーの再起動などで取込が中断されました"
            f"（{run.processed_rows:,}行目付近まで反映済み）。"
            "同じファイルをもう一度取り込むと、残りが反映されます。"
        )
        now = timezone.now()
        if (
            not ImportRun.objects.stalled()
            .filter(pk=run.pk)
            .update(status=ImportRun.Status.FAILED, message=message, finished_at=now)
        ):
            continue
        closed += 1
        AuditEntry.record(
            "directory.import_interrupted",
            actor_label="system",
            target=run,
            detail={"filename": run.filename, "processed_rows": run.processed_rows},
        )
    return closed
