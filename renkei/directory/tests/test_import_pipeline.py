"""The pipelined import (PostgreSQL, no caller transaction) writes what the serial one writes.

The pipeline writes batch N on a second connection while it prepares batch N+1 from what is
committed; rows of a facility that batch N is writing are held back and written with batch N+2
(ADR 0074). These tests need real commits, hence transaction=True and PostgreSQL.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from renkei.directory import imports
from renkei.directory.imports import bulk, pipeline
from renkei.directory.models import Facility, FacilityService
from renkei.directory.tests.test_import_kaigo import kaigo_csv, kaigo_row
from renkei.testing import municipality

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the pipelined import runs on PostgreSQL only"
    ),
]

SERVICES = ["訪問介護", "通所介護", "居宅介護支援", "介護老人福祉施設"]


def office(n: int) -> str:
    return f"14700{n:05d}"


def rows(phone_prefix: str = "0466") -> list[dict[str, str]]:
    """51 good rows over 40 offices: some offices in two or three services, their rows adjacent
    (one batch), one batch apart (held back while the first is written) or far apart."""
    out = []
    for i in range(40):
        out.append(
            kaigo_row(
                事業所番号=office(i),
                事業所名=f"事業所{i}",
                事業所名カナ=f"ジギョウショ{i}",
                サービスの種類=SERVICES[i % 2],
                電話番号=f"{phone_prefix}-10-{i:04d}",
                定員=str(10 + i),
                緯度="" if i % 9 == 0 else f"{35.30 + i * 0.002:.4f}",
                経度="" if i % 9 == 0 else f"{139.45 + i * 0.002:.4f}",
            )
        )
    second = []
    for i in (0, 1, 2, 3, 5, 8, 13, 21, 34):
        row = dict(out[i])
        row.update(サービスの種類=SERVICES[2 + i % 2], 定員=str(50 + i))
        second.append(row)
    # Office 4 right after itself, office 6 four rows (one batch of 4) later, the rest at the end.
    out.insert(5, {**out[4], "サービスの種類": SERVICES[3], "定員": "99"})
    out.insert(11, {**out[6], "サービスの種類": SERVICES[2], "定員": "77"})
    out += second
    out.append(kaigo_row(事業所番号="12345", 事業所名="番号が短い"))
    return out


def snapshot() -> dict[str, Any]:
    facilities = {
        f["care_office_number"]: f
        for f in Facility.objects.values(
            "care_office_number",
            "kind",
            "name",
            "kana",
            "phone",
            "lat",
            "lng",
            "geo_cell",
            "search_text",
            "capacity",
            "version",
        )
    }
    services = sorted(
        FacilityService.objects.values_list(
            "facility__care_office_number", "service_code", "service_name", "capacity"
        )
    )
    return {"facilities": facilities, "services": services}


def summary(r: imports.ImportResult) -> tuple[Any, ...]:
    return (
        r.created,
        r.updated,
        r.unchanged,
        r.rejected,
        r.skipped,
        [(x.line, x.key, x.reason, x.level) for x in r.reports],
    )


def run(data: bytes, *, serial: bool) -> imports.ImportResult:
    if serial:
        # Inside a transaction the import cannot hand batches to a second connection.
        with transaction.atomic():
            return imports.import_bytes(data, filename="jigyosho.csv", batch_size=4)
    return imports.import_bytes(data, filename="jigyosho.csv", batch_size=4)


def test_pipelined_import_writes_what_the_serial_import_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"pipelined": 0, "serial flushes while pipelined": 0}
    pipelined, flush = pipeline._import_pipelined, pipeline._flush
    inside: list[bool] = []

    written_sizes: list[int] = []  # rows of each batch the pipeline prepared for the writer

    def count_pipelined(*args: Any) -> None:
        calls["pipelined"] += 1
        inside.append(True)
        proc = args[0]
        prepare = proc.prepare

        def recording_prepare(rows: list[Any]) -> Any:
            written_sizes.append(len(rows))
            return prepare(rows)

        proc.prepare = recording_prepare
        try:
            pipelined(*args)
        finally:
            inside.pop()

    def count_flush(proc: Any, batch: list[Any], result: Any) -> None:
        if inside:
            calls["serial flushes while pipelined"] += 1
        flush(proc, batch, result)

    monkeypatch.setattr(pipeline, "_import_pipelined", count_pipelined)
    monkeypatch.setattr(pipeline, "_flush", count_flush)
    first, second = kaigo_csv(*rows()), kaigo_csv(*rows(phone_prefix="0467"))

    results, states = {}, {}
    for serial in (False, True):
        Facility.objects.all().delete()
        results[serial] = [summary(run(first, serial=serial))]
        results[serial].append(summary(run(first, serial=serial)))
        results[serial].append(summary(run(second, serial=serial)))
        states[serial] = snapshot()

    assert calls["pipelined"] == 3  # the serial runs never took the pipeline
    # Offices 4 and 6 are held back while their first batch is written, and go with the next
    # batch the writer writes: only rows held back from the last batch are written serially.
    assert calls["serial flushes while pipelined"] <= 3
    # Office 6's second row, held back while the batch of its first was written, went ahead of
    # a whole batch of 4: a written batch of more than 4 rows exists in each pipelined run.
    assert max(written_sizes) > 4
    assert results[False] == results[True]
    assert states[False] == states[True]
    created, updated, unchanged, rejected, _, _ = results[False][0]
    assert (created, updated, unchanged, rejected) == (51, 0, 0, 1)
    assert results[False][1][:4] == (0, 0, 51, 1)
    assert len(states[False]["facilities"]) == 40
    assert len(states[False]["services"]) == 51


def test_a_facility_created_meanwhile_by_another_import_is_updated_not_duplicated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The writer's COPY meets a facility committed by someone else since the batch was
    prepared: the batch is redone serially, which finds that facility and fills it in."""
    insert = bulk.insert_built
    raced: list[str] = []

    def racing_insert(built: bulk._Built) -> None:
        writer = threading.current_thread().name.startswith("import-write")
        if not raced and writer and built.model is Facility:
            key = built.values[0][built.columns.index("care_office_number")]

            def other_import() -> None:
                Facility.objects.create(
                    name="別の取込",
                    kind="home_help",
                    municipality=municipality("142051"),
                    address="藤沢市",
                    care_office_number=key,
                )
                connections.close_all()

            t = threading.Thread(target=other_import)
            t.start()
            t.join()
            raced.append(key)
        insert(built)

    monkeypatch.setattr(bulk, "insert_built", racing_insert)
    result = run(kaigo_csv(*rows()), serial=False)
    assert raced
    assert Facility.objects.filter(care_office_number=raced[0]).count() == 1
    assert Facility.objects.get(care_office_number=raced[0]).name != "別の取込"
    # Its row still counts as created: the service is new to the facility.
    assert (result.created, result.updated, result.rejected) == (51, 0, 1)
    assert FacilityService.objects.filter(facility__care_office_number=raced[0]).exists()
    assert Facility.objects.count() == 40


def planner_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return float(cursor.fetchone()[0])


def test_first_import_gives_the_planner_statistics_of_the_tables_it_fills() -> None:
    """On tables without statistics the batch lookups plan as sequential scans of everything
    imported so far; the import analyses them once after its first batch."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE directory_facility CASCADE")
    assert pipeline._tables_without_statistics() == [
        "directory_facility",
        "directory_facilityservice",
        "directory_specialty",
    ]

    imports.import_bytes(kaigo_csv(*rows()), filename="jigyosho.csv", batch_size=4)

    assert planner_rows("directory_facility") > 0
    assert planner_rows("directory_facilityservice") > 0
    assert pipeline._tables_without_statistics() == ["directory_specialty"]


def test_an_import_inside_a_transaction_leaves_the_statistics_alone() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE directory_facility CASCADE")
    with transaction.atomic():
        imports.import_bytes(kaigo_csv(*rows()), filename="jigyosho.csv", batch_size=4)
    assert "directory_facility" in pipeline._tables_without_statistics()


def test_a_batch_counts_as_done_once_its_held_back_rows_are_committed() -> None:
    """The progress never runs ahead of what is committed: when it reports n rows read, every
    good row among them is in the database, rows held back for a later batch included."""
    data = rows()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        committed = set(
            FacilityService.objects.values_list("facility__care_office_number", "service_name")
        )
        expected = {
            (r["事業所番号"], r["サービスの種類"])
            for r in data[:done]
            if r["事業所番号"] != "12345"
        }
        assert expected <= committed, f"at {done} rows read"

    imports.import_bytes(kaigo_csv(*data), filename="jigyosho.csv", batch_size=4, progress=progress)
    assert seen[-1] == len(data) and len(seen) > 5


def test_the_writer_commits_without_waiting_for_the_disk_and_nothing_else_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The writer's batches commit with synchronous_commit off (ADR
    0074); the main connection, which outlives the import, keeps the server's setting."""
    insert = bulk.insert_built
    settings: dict[str, str] = {}

    def recording_insert(built: bulk._Built) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            settings[threading.current_thread().name.split("_")[0]] = cursor.fetchone()[0]
        insert(built)

    # The test settings open every connection with synchronous_commit off (conftest.py): the
    # writer's connection opens with the server's setting here, and this one returns to it.
    options = connection.settings_dict["OPTIONS"]
    monkeypatch.setitem(
        options, "options", options.get("options", "").replace("-c synchronous_commit=off", "")
    )
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
    monkeypatch.setattr(bulk, "insert_built", recording_insert)
    imports.import_bytes(kaigo_csv(*rows()), filename="jigyosho.csv", batch_size=4)
    assert settings["import-write"] == "off"
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
