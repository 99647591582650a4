"""Import the official open data into the facility directory.

Three formats, recognised by their header row (columns are found by name, never by position):

* ``kaigo`` — 介護サービス情報公表 (one 24-column CSV per service type). Key: 事業所番号.
  The same 事業所番号 in several service files is one Facility with one FacilityService per
  service; the facility's kind, and its name, address and other official fields, follow its
  highest-priority service (``vocabulary.KAIGO_SERVICE_KIND``, ties broken by service code), so
  the result does not depend on the order in which the files are imported.
* ``iryou-facility`` — 医療情報ネット 施設票 (病院 01-1, 診療所 02-1, 歯科 03-1). Key: ID (medical_id).
  機関区分 (or the file name) gives hospital / clinic / dental; 合計病床数 gives Facility.beds;
  the 休診 flags (1 = open, 0 = closed) become the closed_days text.
* ``iryou-hours`` — 医療情報ネット 診療科・診療時間票. Key: (ID, 診療科目コード). Rows of one
  speciality (one per 診療時間帯) merge into one Specialty whose ``hours`` JSON is
  ``{"mon": [{"band": 1, "start": "09:00", "end": "12:30", "reception_start": ..., "reception_end": ...}], ...}``
  with keys mon tue wed thu fri sat sun hol. Rows whose ID is not in the directory are rejected,
  so import the 施設票 first (the management command orders files itself).

Accepted files: UTF-8 with or without BOM, or Shift_JIS (CP932); a ZIP holding exactly one CSV
(the form in which 医療情報ネット is published). The wave dash is folded to U+301C because CP932
round-trips it as U+FF5E, so a Shift_JIS copy imports exactly like the UTF-8 original.

What a bad file does to the database
------------------------------------
* **Refused whole, database unchanged** (``FileRefused``, run status "取込不可"): empty file,
  header only, undecodable bytes (EUC-JP, UTF-16, binary), an Excel file or a ZIP without exactly
  one CSV, a header that matches no format (薬局・助産所 files included) or lacks a required
  column, duplicated header names, and any structural break — a line whose number of fields
  differs from the header or an unterminated quote (a truncated download or a broken export).
  All of this is checked in a first pass over the whole file before anything is written.
* **Changed only by its good rows**: a row with a bad or unknown code (市区町村コード,
  事業所番号, ID, 診療科目コード), no name, unusable coordinates (not a number, outside Japan,
  only one of the pair), an unknown service type, a duplicate key within the file, or (hours) an
  unknown facility is rejected and reported with its line number and a Japanese reason; the other
  rows are imported. Minor defects (a malformed phone number, 定員 or 病床数) only blank that value
  and are reported as a note.

Transactions and speed: after the validation pass, rows are parsed and checked in Python and
written in batches (``batch_size``, default 2,000 rows); each batch is one ``transaction.atomic()``
block. Existing facilities of a batch are loaded with one query on their identifiers; new ones are
inserted without model instances (``insert_rows``: binary COPY on PostgreSQL with ids reserved from
the sequence, executemany elsewhere; search_text and geo_cell computed by Facility.refresh_derived,
since no save() runs), changed ones are written by primary key (``update_rows``: official fields
only, version bumped in SQL), and unchanged ones are not written at all. Model save() methods and
signals do not run. On PostgreSQL outside a caller's transaction a writer thread on its own
connection writes batch N while batch N+1 is prepared (``_import_pipelined``, ADR 0010); otherwise
parsing runs one batch ahead in a second thread (no database access there).
Progress is reported once per batch. A crash leaves whole batches committed and never a
half-written row; because the import is an idempotent upsert, importing the same file again
completes it. Each row counts as created (a new facility, service or speciality), updated,
unchanged or rejected.

What the import never touches
-----------------------------
Fields that facilities maintain themselves: capabilities, vacancy, acceptance conditions (care
levels, costs, notes), liaison_contact, description and service area, plus organization and
is_active. phone, fax, website, hours and closed_days come from the open data only until the
facility (or its curator) edits its profile (``info_updated_at`` set); after that the open data
fills them only when they are blank. Facilities that disappear from the open data are neither
deleted nor hidden, and specialities absent from a later hours file are kept.

Coordinates: a row without them (blank, or "0.0" in 医療情報ネット) keeps the facility's existing
position, or else gets the municipality's representative point (Municipality.point(), the
municipal office, so the position is approximate); either case is reported as a note per row.

Scope: ``scope`` (the municipalities a government organisation curates) limits an upload from
the web page to the organisation's area; rows elsewhere are counted as skipped, not reported
one by one. The management command imports everything.
"""

from __future__ import annotations

from renkei.directory.imports.columns import KAIGO_COLUMNS, KAIGO_SERVICE_NAMES
from renkei.directory.imports.pipeline import (
    import_bytes,
    import_file,
    source_date_from_filename,
)
from renkei.directory.imports.reading import detect_format, read_table
from renkei.directory.imports.results import (
    BATCH_SIZE,
    FORMAT_CHOICES,
    FORMAT_LABELS,
    IRYOU_FACILITY,
    IRYOU_HOURS,
    KAIGO,
    NOTE,
    REJECTED,
    FileRefused,
    ImportResult,
    RowReport,
)
from renkei.directory.imports.runs import (
    fail_stalled_runs,
    run_import,
    scope_of,
    start_import,
    upload_name,
    upload_path,
)

__all__ = [
    "BATCH_SIZE",
    "FORMAT_CHOICES",
    "FORMAT_LABELS",
    "IRYOU_FACILITY",
    "IRYOU_HOURS",
    "KAIGO",
    "KAIGO_COLUMNS",
    "KAIGO_SERVICE_NAMES",
    "NOTE",
    "REJECTED",
    "FileRefused",
    "ImportResult",
    "RowReport",
    "detect_format",
    "fail_stalled_runs",
    "import_bytes",
    "import_file",
    "read_table",
    "run_import",
    "scope_of",
    "source_date_from_filename",
    "start_import",
    "upload_name",
    "upload_path",
]
