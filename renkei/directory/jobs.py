"""Background work of the directory, run by the job queue (renkei.lib.jobs): uploaded imports,
the sweep of imports that can no longer finish, and the retention of uploaded files."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from renkei.accounts.models import AuditEntry
from renkei.directory.imports.runs import fail_stalled_runs, import_upload, upload_path
from renkei.directory.models import ImportRun
from renkei.lib.jobs import job

__all__ = ["import_upload", "purge_import_files", "sweep_stalled_imports"]


@job(periodic="* * * * *", retries=0)
def sweep_stalled_imports() -> int:
    """Runs that can no longer finish become エラー (was done on every GET of the upload pages)."""
    return fail_stalled_runs()


@job(periodic="40 3 * * *", retries=0)
def purge_import_files() -> int:
    """Delete uploaded files DIRECTORY_IMPORT_KEEP_DAYS after their run ended (03:40 daily).

    Files of runs still queued or running are kept. A file without a run (an upload whose
    request failed before it committed) goes once it is that old. Each deletion is audited;
    returns how many files were deleted.
    """
    folder = Path(settings.MEDIA_ROOT) / "imports"
    if not folder.is_dir():
        return 0
    cutoff = timezone.now() - dt.timedelta(days=settings.DIRECTORY_IMPORT_KEEP_DAYS)
    runs = {
        str(r.code): r
        for r in ImportRun.objects.filter(
            code__in=[p.stem for p in folder.iterdir() if _is_uuid(p.stem)]
        )
    }
    deleted = 0
    for path in sorted(folder.iterdir()):
        run = runs.get(path.stem)
        if run is not None:
            if not run.finished or (run.finished_at or run.started_at) > cutoff:
                continue
            if path != upload_path(run):
                continue
        elif dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC) > cutoff:
            continue
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue  # another worker deleted it first
        deleted += 1
        AuditEntry.record(
            "directory.import_file_deleted",
            actor_label="system",
            target=run,
            detail={
                "file": path.name,
                "filename": run.filename if run else "",
                "bytes": size,
                "keep_days": settings.DIRECTORY_IMPORT_KEEP_DAYS,
            },
        )
    return deleted


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
