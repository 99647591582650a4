"""Background work of the directory, run by the job queue (renkei.lib.jobs): uploaded imports,
the sweep of imports that can no longer finish, and the retention of uploaded files."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from renkei.accounts.models import AuditEntry
from renkei.directory.imports.runs import (
    UPLOAD_FOLDER,
    fail_stalled_runs,
    import_upload,
    upload_name,
)
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
    returns how many files were deleted. Works on MEDIA_ROOT and on an object store alike.
    """
    try:
        _, names = default_storage.listdir(UPLOAD_FOLDER)
    except FileNotFoundError:
        return 0
    cutoff = timezone.now() - dt.timedelta(days=settings.DIRECTORY_IMPORT_KEEP_DAYS)
    stems = {name: PurePosixPath(name).stem for name in names}
    runs = {
        str(r.code): r
        for r in ImportRun.objects.filter(code__in=[s for s in stems.values() if _is_uuid(s)])
    }
    deleted = 0
    for name in sorted(names):
        stored = f"{UPLOAD_FOLDER}/{name}"
        run = runs.get(stems[name])
        try:
            if run is not None:
                if not run.finished or (run.finished_at or run.started_at) > cutoff:
                    continue
                if stored != upload_name(run):
                    continue
            elif default_storage.get_modified_time(stored) > cutoff:
                continue
            size = default_storage.size(stored)
        except FileNotFoundError:
            continue  # another worker deleted it first
        default_storage.delete(stored)
        deleted += 1
        AuditEntry.record(
            "directory.import_file_deleted",
            actor_label="system",
            target=run,
            detail={
                "file": name,
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
