"""An import whose database connection is killed says so at once (issue 17 §5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from renkei.accounts.models import AuditEntry
from renkei.directory import imports
from renkei.directory.models import Facility, ImportRun
from renkei.directory.tests.test_import_kaigo import kaigo_csv, kaigo_row

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="pg_terminate_backend is PostgreSQL's"
    ),
]


def test_a_killed_connection_is_recorded_as_failed_with_how_far_it_got(tmp_path: Path) -> None:
    """The server ends the import's main connection after its second batch: the run becomes
    エラー at once, on a fresh connection, saying how many rows were written, with no
    traceback for the user and an audit entry; the batches before stay committed."""
    path = tmp_path / "jigyosho_510.csv"
    path.write_bytes(
        kaigo_csv(*(kaigo_row(事業所番号=f"147{i:07d}", 事業所名=f"事業所{i}") for i in range(50)))
    )
    run = ImportRun.objects.create(filename=path.name, format="auto")
    killed: list[int] = []

    def kill_after_second_batch(done: int, total: int) -> None:
        if done >= 20 and not killed:
            pid = connection.connection.info.backend_pid
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            finally:
                other.close()
            killed.append(pid)

    result: Any = imports.run_import(run, path, batch_size=10, on_progress=kill_after_second_batch)
    assert killed and result is None
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.finished_at is not None
    assert run.processed_rows == 20 and run.total_rows == 50
    assert "20行目付近まで反映済み" in run.message
    assert "Traceback" not in run.message and "terminat" not in run.message
    assert 20 <= Facility.objects.count() < 50
    assert AuditEntry.objects.filter(
        action="directory.import_finished", target_id=str(run.code), detail__status="failed"
    ).exists()
