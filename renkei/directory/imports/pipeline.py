"""The driver: validate the whole file, then parse and write it batch by batch (ADR 0010)."""

from __future__ import annotations

import datetime as dt
import gc
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from renkei.directory.imports.iryou import _IryouFacilityProcessor, _IryouHoursProcessor
from renkei.directory.imports.kaigo import _KaigoProcessor
from renkei.directory.imports.processor import (
    _Context,
    _load_municipalities,
    _Prepared,
    _Processor,
    _Written,
)
from renkei.directory.imports.reading import Table, read_table
from renkei.directory.imports.results import (
    BATCH_SIZE,
    CREATED,
    IRYOU_FACILITY,
    IRYOU_HOURS,
    KAIGO,
    REJECTED,
    UPDATED,
    ImportResult,
    RowReport,
)
from renkei.directory.models import (
    Facility,
    FacilityService,
    Specialty,
)

PROCESSORS: dict[str, type[_Processor]] = {
    KAIGO: _KaigoProcessor,
    IRYOU_FACILITY: _IryouFacilityProcessor,
    IRYOU_HOURS: _IryouHoursProcessor,
}


ProgressFn = Callable[[int, int], None]


def source_date_from_filename(filename: str) -> dt.date | None:
    """医療情報ネット files are named …_YYYYMMDD.csv(.zip)."""
    m = re.search(r"_(20\d{6})(?:\D|$)", Path(filename).name)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)[:4]), int(m.group(1)[4:6]), int(m.group(1)[6:]))
    except ValueError:
        return None


def import_bytes(
    data: bytes,
    *,
    filename: str,
    fmt: str = "auto",
    source_date: dt.date | None = None,
    scope: set[int] | None = None,
    progress: ProgressFn | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Validate the whole file (FileRefused if unusable), then upsert it batch by batch.

    Rows are parsed one batch ahead in a second thread, which never touches the database, so
    that parsing overlaps with the database's work on the previous batch.
    """
    with _collector_skips_what_exists():
        return _import(data, filename, fmt, source_date, scope, progress, batch_size)


@contextmanager
def _collector_skips_what_exists() -> Generator[None]:
    """Keep the objects that exist before the import out of the cyclic collector's full passes
    until it ends (gc.freeze). Not when some are frozen already (by the process, or by another
    import running in it): unfreezing at the end would thaw those too.

    A batch's rows live through two young collections and reach the oldest generation, so an
    import of 250,000 rows sets off ~40 full collections, each walking every object of the
    process (~160,000, Django's and the modules', none of them garbage): 4.7–5.0 s of a first
    national import's 19 s of importer CPU. With them frozen a full pass walks only what the
    import made, ~0.9 s in all (docs/benchmarks.md, session 12). Garbage among the frozen
    objects waits for the first full pass after the import.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _import(
    data: bytes,
    filename: str,
    fmt: str,
    source_date: dt.date | None,
    scope: set[int] | None,
    progress: ProgressFn | None,
    batch_size: int,
) -> ImportResult:
    started = time.monotonic()
    table = read_table(data, filename=filename, fmt=fmt)
    result = ImportResult(format=table.format, filename=filename, total_rows=table.total_rows)
    ctx = _Context(
        result=result,
        filename=filename,
        source_date=source_date or source_date_from_filename(filename),
        scope=scope,
        munis=_load_municipalities(),
        now=timezone.now(),
    )
    proc = PROCESSORS[table.format](ctx, table.index)
    if progress:
        progress(0, table.total_rows)
    unplanned = _tables_without_statistics()

    def done(batch: _Batch) -> None:
        for rep in batch.rejected:
            result.report(rep.line, rep.key, rep.reason, rep.level)
        result.skipped += batch.skipped
        result.processed_rows = batch.read
        if unplanned and batch.rows and not connection.in_atomic_block:
            _analyze(unplanned)
            unplanned.clear()
        if progress:
            progress(batch.read, table.total_rows)

    if proc.pipelined and connection.vendor == "postgresql" and not connection.in_atomic_block:
        # The writer thread overlaps the database's work; a parsing thread as well would only
        # contend with this one for the interpreter lock.
        _import_pipelined(proc, _batches(table, proc, batch_size), result, done)
    else:
        with closing(_read_ahead(_batches(table, proc, batch_size))) as batches:
            for batch in batches:
                if batch.rows:
                    _flush(proc, batch.rows, result)
                done(batch)
    result.reports.sort(key=lambda r: (r.line, r.level != REJECTED))
    result.seconds = time.monotonic() - started
    return result


# The tables whose rows a batch looks up by official identifier or by facility.
LOOKED_UP = (Facility, FacilityService, Specialty)


def _tables_without_statistics() -> list[str]:
    """Of LOOKED_UP, the tables PostgreSQL has no statistics for: never analyzed, or emptied.

    Without them the planner sizes the table from its column widths, and a batch's lookup of
    2,000 identifiers becomes a sequential scan of everything imported so far: 60 ms a batch
    at 180,000 facilities instead of 1.5 ms, a sixth of a first national import's database
    time (docs/benchmarks.md). One ANALYZE after the first batch is enough: from then on the
    planner scales the sampled row density by the table's current size.
    """
    if connection.vendor != "postgresql":
        return []
    tables = [m._meta.db_table for m in LOOKED_UP]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE oid = ANY(%s::regclass[])"
            " AND (reltuples < 0 OR relpages = 0)",
            [tables],
        )
        return [r[0] for r in cursor.fetchall()]


def _analyze(tables: list[str]) -> None:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(qn(t) for t in tables)}")


@dataclass
class _Batch:
    rows: list[Any]
    rejected: list[RowReport]
    skipped: int
    read: int  # data rows read so far, for the progress bar


def _batches(table: Table, proc: _Processor, batch_size: int) -> Iterator[_Batch]:
    """Parsed rows in batches of about batch_size (never splitting a processor's group)."""
    batch: list[Any] = []
    read = 0
    for line, row in table.rows():
        parsed = proc.parse(line, row)
        if parsed is not None:
            group = proc.group(parsed)
            if len(batch) >= batch_size and (group is None or group != proc.group(batch[-1])):
                yield _Batch(batch, *proc.take_parse_reports(), read)
                batch = []
            batch.append(parsed)
        read += 1
    yield _Batch(batch, *proc.take_parse_reports(), read)


T = TypeVar("T")


def _read_ahead(items: Iterator[T], depth: int = 2) -> Generator[T]:
    """Produce items in a worker thread, up to ``depth`` ahead of the consumer.

    An exception in the worker is raised in the consumer; when the consumer stops early
    (an exception while writing), the worker is told to stop and is joined.
    """
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: Any) -> bool:
        while not stop.is_set():
            try:
                q.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put("item", item):
                    return
            put("end", None)
        except BaseException as e:  # re-raised in the consumer
            put("error", e)

    worker = threading.Thread(target=work, name="import-parse", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()


# Batches handed to the writer and not yet committed (2 measured no faster than 1).
PIPELINE_DEPTH = 1


def _import_pipelined(
    proc: _Processor,
    batches: Iterator[_Batch],
    result: ImportResult,
    done: Callable[[_Batch], None],
) -> None:
    """Write each batch in a second thread, on its own connection, while this one prepares the
    next: PostgreSQL's work (COPY, indexes, foreign-key checks at commit) overlaps with
    Python's, which on two cores nearly halves a first national import (docs/benchmarks.md).

    A batch is prepared from what is committed. Rows of a facility that a batch in flight
    writes are held back and go, ahead of the next batch's rows, into the next batch written
    (ADR 0074): they see what the batch in flight wrote, file order is kept within each
    facility, and the writer is never left idle while they are written on their own (a
    national import held back rows in a third of its batches). A batch counts as done (the
    progress) once its held-back rows are committed too. Each batch is still one transaction,
    committed in file order; an IntegrityError (a concurrent import created a facility first)
    sends the batch through the serial _flush, which retries.
    Only where the caller holds no transaction: a second connection could not join it.
    """

    def write(prepared: _Prepared) -> None:
        with _batch_transaction():
            prepared.save()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-write") as writer:
        inflight: deque[tuple[list[_Batch], list[Any], _Prepared, Future[None]]] = deque()

        def finish_oldest() -> None:
            read, rows, prepared, future = inflight.popleft()
            try:
                future.result()
            except IntegrityError:
                _flush(proc, rows, result)
            else:
                _tally(result, prepared.written)
            for batch in read:
                done(batch)

        held: list[Any] = []  # rows held back, written with the next batch
        waiting: list[_Batch] = []  # read, and done when the next batch written commits
        try:
            for batch in batches:
                busy = set().union(*(p.keys for _, _, p, _ in inflight))
                candidates = [*held, *batch.rows]
                rows = [r for r in candidates if proc.key(r) not in busy]
                held = [r for r in candidates if proc.key(r) in busy]
                waiting.append(batch)
                prepared = proc.prepare(rows) if rows else None
                while len(inflight) >= PIPELINE_DEPTH:
                    finish_oldest()
                # A batch with rows held back is done only when they are, with a later one.
                read, waiting = (waiting, []) if not held else ([], waiting)
                if prepared is not None:
                    inflight.append((read, rows, prepared, writer.submit(write, prepared)))
                else:
                    for b in read:
                        done(b)
            while inflight:
                finish_oldest()
            if held:
                _flush(proc, held, result)
            for b in waiting:
                done(b)
        finally:
            # The writer thread's connection is its own; close it there.
            writer.submit(connections.close_all).result()


@contextmanager
def _batch_transaction() -> Generator[None]:
    """One batch's transaction; on PostgreSQL, when it is not inside a caller's, committed
    without waiting for its WAL to reach the disk (synchronous_commit off, ADR 0074).

    A server crash can then lose the last batches committed (at most ~3 × wal_writer_delay),
    never part of one, and the database stays consistent. Nothing outside the import has
    seen them as durable: the run's progress and its end are saved with ordinary commits on
    the main connection, which flush the WAL written before them, these batches' included;
    a run the crash interrupts is recorded as failed and importing the file again completes
    it (the import is an idempotent upsert). Each of a national import's ~190 batches
    waited for a WAL flush on the writer's connection, the import's critical path.
    SET LOCAL, not a SET for the writer's session: behind a transaction-mode pooler
    (PgBouncer, settings.py) a session's SET stays on whichever server connection ran it and
    would make other clients' commits (a referral sent, an audit entry) asynchronous too.
    """
    # SET LOCAL inside a caller's transaction would hold for all of the caller's commit.
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield


def _flush(proc: _Processor, batch: list[Any], result: ImportResult) -> None:
    for attempt in (1, 2):
        try:
            with _batch_transaction():
                written = proc.write(batch)
            break
        except IntegrityError:
            # A concurrent import created one of these facilities after this batch looked
            # them up; the second attempt finds it and updates instead.
            if attempt == 2:
                raise
    _tally(result, written)


def _tally(result: ImportResult, written: _Written) -> None:
    for _, outcome in written.outcomes:
        if outcome == CREATED:
            result.created += 1
        elif outcome == UPDATED:
            result.updated += 1
        else:
            result.unchanged += 1
    for rep in written.reports:
        result.report(rep.line, rep.key, rep.reason, rep.level)
    result.skipped += written.skipped


def import_file(path: Path | str, **kwargs: Any) -> ImportResult:
    path = Path(path)
    kwargs.setdefault("filename", path.name)
    return import_bytes(path.read_bytes(), **kwargs)
