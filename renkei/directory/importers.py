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

import codecs
import csv
import datetime as dt
import io
import logging
import math
import os
import queue
import re
import threading
import time
import unicodedata
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, OrgKind
from renkei.directory.models import (
    Facility,
    FacilityKind,
    FacilityService,
    ImportRun,
    Specialty,
    phone_validator,
)
from renkei.directory.vocabulary import KAIGO_SERVICE_KIND
from renkei.regions.models import Municipality, code6_from, jis_check_digit

log = logging.getLogger(__name__)
M = TypeVar("M", bound=models.Model)

KAIGO = "kaigo"
IRYOU_FACILITY = "iryou-facility"
IRYOU_HOURS = "iryou-hours"
FORMAT_LABELS = {
    KAIGO: "介護サービス情報公表",
    IRYOU_FACILITY: "医療情報ネット（施設票）",
    IRYOU_HOURS: "医療情報ネット（診療科・診療時間票）",
}
FORMAT_CHOICES = [("auto", "自動判別"), *FORMAT_LABELS.items()]

BATCH_SIZE = 2000
MAX_REPORTS = 50_000  # rows reported per run; beyond this only the counts grow
MAX_UNZIPPED_BYTES = 1_000_000_000  # the largest official file is about 150 MB
NOT_IMPORTED = "ファイルは取り込んでいません（データベースは変更していません）。"

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
REJECTED, NOTE = "rejected", "note"


class FileRefused(Exception):
    """The whole file is refused before anything is written; the message is for the user."""


@dataclass
class RowReport:
    line: int
    key: str
    reason: str
    level: str = REJECTED

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "key": self.key, "reason": self.reason, "level": self.level}


@dataclass
class ImportResult:
    format: str
    filename: str
    total_rows: int = 0
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    notes: int = 0
    reports: list[RowReport] = field(default_factory=list)
    seconds: float = 0.0

    def report(self, line: int, key: str, reason: str, level: str = REJECTED) -> None:
        if level == REJECTED:
            self.rejected += 1
        else:
            self.notes += 1
        if len(self.reports) < MAX_REPORTS:
            self.reports.append(RowReport(line, key, reason, level))

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        parts = [
            f"{FORMAT_LABELS.get(self.format, self.format)}: 全{self.total_rows:,}行",
            f"新規 {self.created:,}",
            f"更新 {self.updated:,}",
            f"変更なし {self.unchanged:,}",
            f"不採用 {self.rejected:,}",
        ]
        if self.skipped:
            parts.append(f"管轄外のため対象外 {self.skipped:,}")
        if self.notes:
            parts.append(f"注意 {self.notes:,}")
        text = "、".join(parts)
        if len(self.reports) >= MAX_REPORTS:
            text += f"（行ごとの報告は先頭の{MAX_REPORTS:,}件のみ保存）"
        return text


# --------------------------------------------------------------------------------------------
# Reading: bytes -> text -> rows, with the whole-file checks that refuse a file
# --------------------------------------------------------------------------------------------


def _hkey(name: str) -> str:
    """Header names compared width-insensitively and without spaces: （ and ( are the same column."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name.replace("\ufeff", "")))


def decode_bytes(data: bytes) -> tuple[str, str]:
    """The text of an upload and the encoding used; FileRefused when it is not a readable CSV."""
    if not data.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise FileRefused("ファイルが空です。" + NOT_IMPORTED)
    if data.startswith(b"PK\x03\x04"):
        data = _unzip(data)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(
            "UTF-16 のファイルには対応していません。UTF-8 または Shift_JIS の CSV で保存し直してください。"
            + NOT_IMPORTED
        )
    text: str | None = None
    encoding = "utf-8"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if data.startswith(codecs.BOM_UTF8):
            raise FileRefused(
                f"UTF-8 として読めないバイトがあります（先頭から{e.start}バイト目）。ファイルが壊れている可能性があります。"
                + NOT_IMPORTED
            ) from e
    if text is None:
        try:
            text, encoding = data.decode("cp932"), "cp932"
        except UnicodeDecodeError as e:
            if _looks_like_euc(data):
                raise FileRefused(
                    "文字コードが EUC-JP のようです。UTF-8 または Shift_JIS で保存し直してください。"
                    + NOT_IMPORTED
                ) from e
            raise FileRefused(
                "文字コードを読み取れません。UTF-8（BOM付き・なし）または Shift_JIS の CSV を指定してください。"
                + NOT_IMPORTED
            ) from e
    if _is_binary(text):
        raise FileRefused("CSV ではないファイル（バイナリ）のようです。" + NOT_IMPORTED)
    # CP932 decodes 0x8160 as U+FF5E while the published UTF-8 files use U+301C (〜).
    return text.replace("\uff5e", "\u301c"), encoding


def _looks_like_euc(data: bytes) -> bool:
    try:
        head = data[:4096].decode("euc_jp", errors="strict")
    except UnicodeDecodeError:
        return False
    return any(k in _hkey(head) for k in ("事業所", "正式名称", "診療科目", "都道府県"))


def _is_binary(text: str) -> bool:
    sample = text[:4096]
    return any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in sample)


def _unzip(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            if "[Content_Types].xml" in names:
                raise FileRefused(
                    "Excel 形式（.xlsx）のファイルです。CSV 形式で保存してから取り込んでください。"
                    + NOT_IMPORTED
                )
            csvs = [n for n in names if n.lower().endswith(".csv")]
            if len(csvs) != 1:
                raise FileRefused(
                    f"ZIP の中に CSV ファイルが1つだけ入っている必要があります（見つかった CSV: {len(csvs)}件）。"
                    + NOT_IMPORTED
                )
            if zf.getinfo(csvs[0]).file_size > MAX_UNZIPPED_BYTES:
                raise FileRefused(
                    f"ZIP の中の CSV が大きすぎます（上限 {MAX_UNZIPPED_BYTES // 1_000_000:,}MB）。"
                    + NOT_IMPORTED
                )
            return zf.read(csvs[0])
    except zipfile.BadZipFile as e:
        raise FileRefused("ZIP ファイルが壊れています。" + NOT_IMPORTED) from e


@dataclass
class Table:
    """A decoded CSV that passed the structural checks."""

    format: str
    header: list[str]
    text: str
    total_rows: int
    encoding: str

    @property
    def index(self) -> dict[str, int]:
        return {_hkey(h): i for i, h in enumerate(self.header)}

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(physical line number where the record starts, fields) for each data row."""
        reader = csv.reader(io.StringIO(self.text, newline=""), strict=True)
        next(reader)
        last = reader.line_num
        for row in reader:
            start, last = last + 1, reader.line_num
            if row:
                yield start, row


def read_table(data: bytes, *, filename: str = "", fmt: str = "auto") -> Table:
    """Decode, detect the format and check every line's structure; FileRefused if anything is off."""
    text, encoding = decode_bytes(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as e:
        raise FileRefused("1行目（見出し行）を読み取れません。" + NOT_IMPORTED) from e
    header = [h.strip() for h in header]
    fmt = _check_header(header, fmt, data if encoding == "cp932" else None)
    width = len(header)
    count = 0
    last = reader.line_num
    try:
        for row in reader:
            start, last = last + 1, reader.line_num
            if not row:
                continue
            if len(row) != width:
                raise FileRefused(
                    f"{start}行目の列数が{len(row)}列で、見出しの{width}列と合いません。"
                    "ファイルが途中で切れているか、区切り（カンマ・引用符）が壊れています。"
                    + NOT_IMPORTED
                )
            count += 1
    except csv.Error as e:
        raise FileRefused(
            f"{last + 1}行目を CSV として読み取れません（引用符が閉じていない、またはファイルが途中で切れています）。"
            + NOT_IMPORTED
        ) from e
    if count == 0:
        raise FileRefused("データ行がありません（見出し行だけのファイルです）。" + NOT_IMPORTED)
    return Table(format=fmt, header=header, text=text, total_rows=count, encoding=encoding)


def _check_header(header: list[str], fmt: str, cp932_data: bytes | None) -> str:
    keys = [_hkey(h) for h in header]
    dupes = sorted({h for h in keys if h and keys.count(h) > 1})
    if dupes:
        raise FileRefused(f"見出し「{'」「'.join(dupes)}」が重複しています。" + NOT_IMPORTED)
    present = set(keys)
    if fmt == "auto":
        detected = detect_format(header)
        if detected is None:
            if cp932_data is not None and _looks_like_euc(cp932_data):
                raise FileRefused(
                    "文字コードが EUC-JP のようです。UTF-8 または Shift_JIS で保存し直してください。"
                    + NOT_IMPORTED
                )
            if any(k.startswith(("営業日", "薬局の")) for k in keys):
                raise FileRefused(
                    "医療情報ネットの薬局のファイルには対応していません。" + NOT_IMPORTED
                )
            if any("就業時間帯" in k or "休業" in k for k in keys):
                raise FileRefused(
                    "医療情報ネットの助産所のファイルには対応していません。" + NOT_IMPORTED
                )
            shown = "」「".join(h[:20] for h in header[:4])
            raise FileRefused(
                f"1行目の見出し（「{shown}」…）から形式を判別できません。"
                "介護サービス情報公表、医療情報ネットの施設票、または診療科・診療時間票の CSV を指定してください。"
                + NOT_IMPORTED
            )
        fmt = detected
    if fmt not in FORMAT_LABELS:
        raise FileRefused(f"形式「{fmt}」には対応していません。")
    missing = [c for c in REQUIRED[fmt] if _hkey(c) not in present and not _aliased(c, present)]
    if missing:
        raise FileRefused(
            f"{FORMAT_LABELS[fmt]}の CSV に必要な列がありません: {'、'.join(missing)}。"
            + NOT_IMPORTED
        )
    return fmt


def detect_format(header: list[str]) -> str | None:
    """kaigo: the 24-column 公表 header; iryou facility: 正式名称 + 所在地座標（緯度）; hours: 診療科目コード."""
    keys = {_hkey(h) for h in header}
    if _hkey("診療科目コード") in keys:
        return IRYOU_HOURS
    if _hkey("正式名称") in keys and _hkey("所在地座標（緯度）") in keys:
        return IRYOU_FACILITY
    kaigo_hits = sum(1 for c in KAIGO_COLUMNS if _hkey(c) in keys or _aliased(c, keys))
    if _hkey("事業所番号") in keys and kaigo_hits >= len(KAIGO_COLUMNS) // 2:
        return KAIGO
    return None


# --------------------------------------------------------------------------------------------
# Column vocabularies
# --------------------------------------------------------------------------------------------

KAIGO_COLUMNS = [
    "都道府県コード又は市町村コード",
    "No",
    "都道府県名",
    "市区町村名",
    "事業所名",
    "事業所名カナ",
    "サービスの種類",
    "住所",
    "方書（ビル名等）",
    "緯度",
    "経度",
    "電話番号",
    "FAX番号",
    "法人番号",
    "法人の名称",
    "事業所番号",
    "利用可能曜日",
    "利用可能曜日特記事項",
    "定員",
    "URL",
    "高齢者の方と障害者の方が同時一体的に利用できるサービス",
    "介護保険の通常の指定基準を満たしている",
    "障害福祉の通常の指定基準を満たしている",
    "備考",
]
ALIASES = {"都道府県コード又は市町村コード": ["都道府県コード又は市区町村コード"]}

REQUIRED: dict[str, list[str]] = {
    KAIGO: [
        "都道府県コード又は市町村コード",
        "事業所名",
        "サービスの種類",
        "住所",
        "緯度",
        "経度",
        "事業所番号",
    ],
    IRYOU_FACILITY: [
        "ID",
        "正式名称",
        "都道府県コード",
        "市区町村コード",
        "所在地",
        "所在地座標（緯度）",
        "所在地座標（経度）",
    ],
    IRYOU_HOURS: ["ID", "診療科目コード", "診療科目名", "診療時間帯"],
}


def _aliased(column: str, present: set[str]) -> bool:
    return any(_hkey(a) in present for a in ALIASES.get(column, []))


# 公表 file code -> the 「サービスの種類」 text. The exact strings in the files are unverified,
# so matching is width- and space-insensitive and the file name (jigyosho_130.csv) is the fallback.
KAIGO_SERVICE_NAMES = {
    "110": "訪問介護",
    "120": "訪問入浴介護",
    "130": "訪問看護",
    "140": "訪問リハビリテーション",
    "150": "通所介護",
    "155": "療養通所介護",
    "160": "通所リハビリテーション",
    "170": "福祉用具貸与",
    "210": "短期入所生活介護",
    "220": "短期入所療養介護（介護老人保健施設）",
    "230": "短期入所療養介護（療養病床を有する病院等）",
    "551": "短期入所療養介護（介護医療院）",
    "320": "認知症対応型共同生活介護",
    "331": "特定施設入居者生活介護（有料老人ホーム）",
    "332": "特定施設入居者生活介護（軽費老人ホーム）",
    "334": "特定施設入居者生活介護（サービス付き高齢者向け住宅）",
    "335": "特定施設入居者生活介護（有料老人ホーム・外部サービス利用型）",
    "336": "特定施設入居者生活介護（軽費老人ホーム・外部サービス利用型）",
    "337": "特定施設入居者生活介護（サービス付き高齢者向け住宅・外部サービス利用型）",
    "361": "地域密着型特定施設入居者生活介護（有料老人ホーム）",
    "362": "地域密着型特定施設入居者生活介護（軽費老人ホーム）",
    "364": "地域密着型特定施設入居者生活介護（サービス付き高齢者向け住宅）",
    "410": "特定福祉用具販売",
    "430": "居宅介護支援",
    "510": "介護老人福祉施設",
    "520": "介護老人保健施設",
    "530": "介護療養型医療施設",
    "540": "地域密着型介護老人福祉施設入所者生活介護",
    "550": "介護医療院",
    "710": "夜間対応型訪問介護",
    "720": "認知症対応型通所介護",
    "730": "小規模多機能型居宅介護",
    "760": "定期巡回・随時対応型訪問介護看護",
    "770": "看護小規模多機能型居宅介護",
    "780": "地域密着型通所介護",
}
_SERVICE_ALIASES = {
    "通所介護（療養通所介護）": "155",
    "複合型サービス": "770",
    "複合型サービス（看護小規模多機能型居宅介護）": "770",
}
SERVICE_CODE_BY_NAME = {
    _hkey(name): code
    for code, name in [*KAIGO_SERVICE_NAMES.items(), *((v, k) for k, v in _SERVICE_ALIASES.items())]
}

DAYS = [
    ("月", "mon"),
    ("火", "tue"),
    ("水", "wed"),
    ("木", "thu"),
    ("金", "fri"),
    ("土", "sat"),
    ("日", "sun"),
    ("祝", "hol"),
]
IRYOU_KIND = {"1": FacilityKind.HOSPITAL, "2": FacilityKind.CLINIC, "3": FacilityKind.DENTAL}
IRYOU_KIND_LABEL = {"4": "助産所", "5": "薬局"}

# Fields a facility edits itself that the open data also carries: official until the first edit.
SHARED_FIELDS = ("phone", "fax", "website", "hours", "closed_days")

_url_validator = URLValidator(schemes=["http", "https"])
# URLValidator's own host rules (Japanese domain names included) without its user:password,
# IP address and punycode alternatives, which made it a tenth of an import's CPU time.
_plain_url_re = re.compile(
    r"^https?://(?P<host>"
    + URLValidator.hostname_re
    + URLValidator.domain_re
    + URLValidator.tld_re
    + r")(?::[0-9]{1,5})?(?:[/?#][^\s]*)?\Z",
    re.IGNORECASE,
)
_phone_re = re.compile(str(getattr(phone_validator.regex, "pattern", phone_validator.regex)))
_time_re = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def _digits(value: str) -> str:
    """ASCII digits of a code cell (full-width digits folded); '' if anything else is in it."""
    v = value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()
    return v if v.isascii() and v.isdigit() else ""


def _code_with_zeros(value: str, width: int) -> tuple[str, bool]:
    """A numeric identifier, restoring one leading zero that spreadsheet software drops."""
    v = _digits(value)
    if len(v) == width - 1:
        return "0" + v, True
    return v, False


def _float(value: str) -> float | None:
    if not value:
        return None
    try:
        f = float(value if value.isascii() else unicodedata.normalize("NFKC", value))
    except ValueError:
        raise ValueError(value) from None
    if not math.isfinite(f):
        raise ValueError(value)
    return f


def _point(lat_s: str, lng_s: str) -> tuple[float, float] | None | str:
    """(lat, lng), None when missing (blank or 0.0), or a Japanese reason when unusable."""
    try:
        lat, lng = _float(lat_s), _float(lng_s)
    except ValueError as e:
        return f"緯度・経度「{lat_s}」「{lng_s}」が数値ではありません（{e}）"
    if (lat is None or lat == 0) and (lng is None or lng == 0):
        return None
    if lat is None or lng is None:
        return f"緯度・経度の片方だけが入っています（緯度「{lat_s}」、経度「{lng_s}」）"
    if not (20 <= lat <= 46 and 122 <= lng <= 154):
        return f"緯度・経度（{lat_s}, {lng_s}）が日本の範囲外です"
    return lat, lng


def _phone(value: str) -> tuple[str, bool]:
    v = value.strip()
    if not v:
        return "", True
    return (v, True) if _phone_re.match(v) else ("", False)


def _url(value: str) -> str:
    """Only http(s) URLs: the 公表 URL column also holds e-mail addresses and phone numbers."""
    v = value.strip()
    if not v or len(v) > 300 or not v.lower().startswith(("http://", "https://")):
        return ""
    m = _plain_url_re.match(v)
    if m and len(m["host"]) <= 253:
        return v  # the common case, which URLValidator accepts too, at a fraction of its cost
    try:
        _url_validator(v)
    except ValidationError:
        return ""
    return v


def _count(value: str) -> tuple[int | None, bool]:
    """定員 / 病床数: blank or 0 means not entered."""
    v = _digits(value)
    if not value.strip():
        return None, True
    if not v:
        return None, False
    n = int(v)
    return (n or None), True


def _strip_prefecture(address: str, prefecture: str) -> str:
    """Addresses start with the municipality; some rows repeat the prefecture first."""
    a = address.strip()
    if prefecture and a.startswith(prefecture) and len(a) > len(prefecture):
        return a[len(prefecture) :]
    return a


_RANKS = {code: (priority, code) for code, (_, priority) in KAIGO_SERVICE_KIND.items()}


def _rank(code: str) -> tuple[int, str]:
    """Services ordered by priority, ties broken by code, so the order never depends on input."""
    return _RANKS.get(code) or (0, code)


def _fill_position(cur: dict[str, Any], muni_point: tuple[float, float] | None) -> str:
    """A row without coordinates: keep the facility's position, else the municipality's point."""
    if cur.get("lat") is not None and cur.get("lng") is not None:
        return "緯度・経度が空欄のため、登録済みの位置をそのまま使います"
    if muni_point is not None:
        cur["lat"], cur["lng"] = muni_point
        return "緯度・経度が空欄のため、市区町村の代表点（概略位置）で表示します"
    cur["lat"], cur["lng"] = None, None
    return "緯度・経度が空欄で、市区町村の代表点もないため地図には表示されません"


# --------------------------------------------------------------------------------------------
# The import itself
# --------------------------------------------------------------------------------------------


@dataclass
class _Muni:
    id: int
    code: str
    prefecture: str
    point: tuple[float, float] | None


@dataclass
class _Context:
    result: ImportResult
    filename: str
    source_date: dt.date | None
    scope: set[int] | None
    munis: dict[str, _Muni]
    now: dt.datetime
    points: dict[int, tuple[float, float] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.points = {m.id: m.point for m in self.munis.values()}


def _load_municipalities() -> dict[str, _Muni]:
    out = {}
    for m in Municipality.objects.select_related("parent", "prefecture"):
        out[m.code] = _Muni(m.id, m.code, m.prefecture.name, m.point())
    return out


Outcome = tuple[int, str]  # (line, created/updated/unchanged)


@dataclass
class _Written:
    """What one batch did; tallied only after its transaction committed."""

    outcomes: list[Outcome]
    reports: list[RowReport]
    skipped: int = 0


@dataclass
class _Prepared:
    """A batch worked out by _Processor.prepare(): save() writes it, in the caller's transaction."""

    written: _Written
    save: Callable[[], None]
    keys: set[str]


class _Processor:
    """One format: parse a row (or reject it), then write a batch of parsed rows."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, ctx: _Context, index: dict[str, int]) -> None:
        self.ctx = ctx
        self.index = index
        self.positions = [self.col(name) for name in self.COLUMNS]
        self.rejected: list[RowReport] = []
        self.skipped = 0

    def col(self, name: str) -> int | None:
        i = self.index.get(_hkey(name))
        if i is None:
            for alias in ALIASES.get(name, []):
                i = self.index.get(_hkey(alias))
                if i is not None:
                    break
        return i

    def cells(self, row: list[str]) -> list[str]:
        """The stripped cells named in COLUMNS, in that order ('' for an absent optional column)."""
        return [row[i].strip() if i is not None else "" for i in self.positions]

    def reject(self, line: int, key: str, reason: str) -> None:
        # Parsing runs in its own thread: rejections travel with the batch to the writer.
        self.rejected.append(RowReport(line, key, reason))

    def in_scope(self, municipality_id: int) -> bool:
        if self.ctx.scope is None or municipality_id in self.ctx.scope:
            return True
        self.skipped += 1
        return False

    def take_parse_reports(self) -> tuple[list[RowReport], int]:
        reports, skipped = self.rejected, self.skipped
        self.rejected, self.skipped = [], 0
        return reports, skipped

    def parse(self, line: int, row: list[str]) -> Any:
        raise NotImplementedError

    def group(self, parsed: Any) -> object:
        """Rows with the same group are never split across two batches."""
        return None

    # prepare() may run while the previous batch is being written (see _import_pipelined).
    pipelined = False

    def key(self, parsed: Any) -> str:
        """The official identifier a parsed row writes to (pipelined processors)."""
        raise NotImplementedError

    def prepare(self, batch: list[Any]) -> _Prepared:
        """Read what a batch needs and work out what to write, writing nothing."""
        raise NotImplementedError

    def write(self, batch: list[Any]) -> _Written:
        prepared = self.prepare(batch)
        prepared.save()
        return prepared.written

    def municipality6(self, line: int, key: str, raw: str) -> _Muni | None:
        """A 6-digit 全国地方公共団体コード (with check digit) to a municipality, or a rejection."""
        muni = self.ctx.munis.get(raw)
        if muni is not None:
            return muni
        code = _digits(raw)
        if len(code) == 5:
            # Spreadsheets drop the leading zero of 北海道–茨城 codes; a plain 5-digit JIS code
            # without its check digit is the other reading.
            for candidate in (code.zfill(6), code + jis_check_digit(code)):
                if candidate in self.ctx.munis and jis_check_digit(candidate[:5]) == candidate[5]:
                    return self.ctx.munis[candidate]
        if len(code) != 6:
            self.reject(line, key, f"市区町村コード「{raw}」が6桁の数字ではありません")
        elif jis_check_digit(code[:5]) != code[5]:
            self.reject(line, key, f"市区町村コード「{raw}」の検査数字が正しくありません")
        elif code in self.ctx.munis:
            return self.ctx.munis[code]
        else:
            self.reject(line, key, f"市区町村コード「{raw}」の市区町村が見つかりません")
        return None


def _get(row: list[str], i: int | None) -> str:
    return row[i].strip() if i is not None else ""


# ---- 介護サービス情報公表 ------------------------------------------------------------------

KAIGO_FIELDS = (
    "name",
    "kana",
    "corporation_number",
    "corporation_name",
    "municipality_id",
    "address",
    "address_extra",
    "lat",
    "lng",
    "phone",
    "fax",
    "website",
    "hours",
    "capacity",
    "source",
    "source_date",
    "kind",
)


@dataclass(slots=True)
class _KaigoRow:
    line: int
    office: str
    service_code: str
    service_name: str
    capacity: int | None
    fields: dict[str, Any]
    point: tuple[float, float] | None
    notes: list[str]


@dataclass(slots=True)
class _State:
    id: int | None
    orig: dict[str, Any] | None
    cur: dict[str, Any]
    extra: dict[str, Any]
    services: dict[str, list[Any]]  # code -> [id, name, capacity]
    orig_services: dict[str, tuple[str, int | None]]
    profile_edited: bool


class _KaigoProcessor(_Processor):
    COLUMNS = (
        "都道府県コード又は市町村コード",
        "事業所番号",
        "事業所名",
        "事業所名カナ",
        "サービスの種類",
        "住所",
        "方書（ビル名等）",
        "緯度",
        "経度",
        "電話番号",
        "FAX番号",
        "法人番号",
        "法人の名称",
        "利用可能曜日",
        "利用可能曜日特記事項",
        "定員",
        "URL",
    )

    def __init__(self, ctx: _Context, index: dict[str, int]) -> None:
        super().__init__(ctx, index)
        m = re.search(r"jigyosho_(\d{3})", ctx.filename)
        self.file_code = m.group(1) if m and m.group(1) in KAIGO_SERVICE_KIND else None
        self.services: dict[str, str | None] = {}
        self.seen: dict[int, int] = {}

    def service_code(self, text: str) -> str | None:
        if text not in self.services:
            self.services[text] = SERVICE_CODE_BY_NAME.get(_hkey(text)) or self.file_code
        return self.services[text]

    def parse(self, line: int, row: list[str]) -> _KaigoRow | None:
        (
            muni_s,
            raw_office,
            name,
            kana,
            service_text,
            address,
            extra,
            lat_s,
            lng_s,
            tel,
            fax_s,
            corp_no,
            corp,
            days,
            days_note,
            cap_s,
            url,
        ) = self.cells(row)
        office, padded = _code_with_zeros(raw_office, 10)
        if len(office) != 10:
            self.reject(line, raw_office, f"事業所番号「{raw_office}」が10桁の数字ではありません")
            return None
        muni = self.municipality6(line, office, muni_s)
        if muni is None:
            return None
        if not name:
            self.reject(line, office, "事業所名が空欄です")
            return None
        address = _strip_prefecture(address, muni.prefecture)
        if not address:
            self.reject(line, office, "住所が空欄です")
            return None
        service_code = self.service_code(service_text)
        if service_code is None:
            self.reject(line, office, f"サービスの種類「{service_text}」を判別できません")
            return None
        point = _point(lat_s, lng_s)
        if isinstance(point, str):
            self.reject(line, office, point)
            return None
        key = int(office) * 1000 + int(service_code)
        if key in self.seen:
            self.reject(
                line,
                office,
                f"同じ事業所番号・サービスの行が{self.seen[key]}行目にもあります（後の行は不採用）",
            )
            return None
        self.seen[key] = line
        if not self.in_scope(muni.id):
            return None

        notes = []
        if padded:
            notes.append(f"事業所番号「{raw_office}」の先頭の0を補いました")
        phone, ok = _phone(tel)
        if not ok:
            notes.append(f"電話番号「{tel}」の形式が正しくないため空欄にしました")
        fax, ok = _phone(fax_s)
        if not ok:
            notes.append(f"FAX番号「{fax_s}」の形式が正しくないため空欄にしました")
        capacity, ok = _count(cap_s)
        if not ok:
            notes.append(f"定員「{cap_s}」が数値ではないため空欄にしました")
        corp_no = _digits(corp_no)
        if extra and extra in address:
            extra = ""
        fields: dict[str, Any] = {
            "name": name[:200],
            "kana": kana[:200],
            "corporation_number": corp_no if len(corp_no) == 13 else "",
            "corporation_name": corp[:200],
            "municipality_id": muni.id,
            "address": address[:200],
            "address_extra": extra[:200],
            "phone": phone,
            "fax": fax,
            "website": _url(url),
            "hours": f"{days} {days_note}".strip()[:300],
            "capacity": capacity,
            "source": KAIGO,
        }
        if self.ctx.source_date is not None:
            fields["source_date"] = self.ctx.source_date
        return _KaigoRow(
            line=line,
            office=office,
            service_code=service_code,
            service_name=(service_text or KAIGO_SERVICE_NAMES[service_code])[:60],
            capacity=capacity,
            fields=fields,
            point=point,
            notes=notes,
        )

    pipelined = True

    def key(self, parsed: _KaigoRow) -> str:
        return parsed.office

    def prepare(self, batch: list[_KaigoRow]) -> _Prepared:
        offices = list({r.office for r in batch})
        load = ["id", "info_updated_at", "short_name", *KAIGO_FIELDS]
        existing = {
            f["care_office_number"]: f
            for f in _in(Facility, "care_office_number", offices).values(
                "care_office_number", *load
            )
        }
        services: dict[int, dict[str, list[Any]]] = {}
        if existing:
            for sid, fid, code, sname, cap in _in(
                FacilityService, "facility", [f["id"] for f in existing.values()]
            ).values_list("id", "facility_id", "service_code", "service_name", "capacity"):
                services.setdefault(fid, {})[code] = [sid, sname, cap]

        states: dict[str, _State] = {}
        outcomes: list[Outcome] = []
        notes: list[RowReport] = []
        for r in batch:
            st = states.get(r.office)
            if st is None:
                st = states[r.office] = self._state(existing.get(r.office), services)
            outcome, point_note = self._apply(st, r)
            outcomes.append((r.line, outcome))
            for n in [*r.notes, *([point_note] if point_note else [])]:
                notes.append(RowReport(r.line, r.office, n, NOTE))

        return _Prepared(_Written(outcomes, notes), self._plan(states), set(states))

    @staticmethod
    def _state(row: dict[str, Any] | None, services: dict[int, dict[str, list[Any]]]) -> _State:
        if row is None:
            return _State(None, None, {}, {"short_name": ""}, {}, {}, False)
        cur = {k: row[k] for k in KAIGO_FIELDS}
        svc = services.get(row["id"], {})
        return _State(
            id=row["id"],
            orig=dict(cur),
            cur=cur,
            extra={"short_name": row["short_name"]},
            services=svc,
            orig_services={c: (v[1], v[2]) for c, v in svc.items()},
            profile_edited=row["info_updated_at"] is not None,
        )

    def _apply(self, st: _State, r: _KaigoRow) -> tuple[str, str | None]:
        """Apply one row to the facility's in-memory state; the outcome and a position note."""
        point_note = None
        new_facility = st.id is None and not st.cur
        # Only an existing facility's fields are compared afterwards.
        before_cur = {} if new_facility else dict(st.cur)
        before_svc = st.services.get(r.service_code)
        # The facility's fields follow its highest-ranked service, whatever the file order.
        rank = _rank(r.service_code)
        primary = len(st.services) == 0 or all(
            c == r.service_code or _rank(c) < rank for c in st.services
        )
        if before_svc is None:
            st.services[r.service_code] = [None, r.service_name, r.capacity]
        else:
            before_svc = list(before_svc)
            st.services[r.service_code][1:] = [r.service_name, r.capacity]
        if primary:
            if st.profile_edited:
                for k, v in r.fields.items():
                    if k not in SHARED_FIELDS or not st.cur.get(k):
                        st.cur[k] = v
            else:
                st.cur.update(r.fields)
            if r.point is not None:
                st.cur["lat"], st.cur["lng"] = r.point
            else:
                point_note = _fill_position(
                    st.cur, self.ctx.points.get(r.fields["municipality_id"])
                )
            if st.id is None:
                st.cur.setdefault("source_date", None)
        top = max(st.services, key=_rank) if len(st.services) > 1 else r.service_code
        st.cur["kind"] = KAIGO_SERVICE_KIND.get(top, ("other_care", 0))[0]
        if new_facility or before_svc is None:
            return CREATED, point_note
        if before_svc[1:] != st.services[r.service_code][1:] or before_cur != st.cur:
            return UPDATED, point_note
        return UNCHANGED, point_note

    def _plan(self, states: dict[str, _State]) -> Callable[[], None]:
        """What prepare() can work out of the writes (all of it where ids can be reserved);
        the returned save() does the rest and writes."""
        new = [(office, st) for office, st in states.items() if st.id is None]
        ids, create = _plan_new_facilities(
            [(office, st.cur) for office, st in new], "care_office_number"
        )
        if ids is not None:
            for office, st in new:
                st.id = ids[office]
        updates = _facility_updates(
            [
                (st.id, st.cur, st.extra)
                for st in states.values()
                if st.id is not None and st.orig is not None and st.orig != st.cur
            ]
        )
        services = self._service_changes(states) if ids is not None else None

        def save() -> None:
            if new:
                created = create()
                for office, st in new:
                    st.id = created[office]
            _update_facilities(updates, KAIGO_FIELDS)
            built, changed = services or self._service_changes(states)
            insert_built(built)
            update_rows(FacilityService, ["service_name", "capacity"], changed)

        return save

    @staticmethod
    def _service_changes(
        states: dict[str, _State],
    ) -> tuple[_Built, list[tuple[int, dict[str, Any]]]]:
        create_svc: list[dict[str, Any]] = []
        update_svc: list[tuple[int, dict[str, Any]]] = []
        for st in states.values():
            for code, (sid, sname, cap) in st.services.items():
                if sid is None:
                    create_svc.append(
                        {
                            "facility_id": st.id,
                            "service_code": code,
                            "service_name": sname,
                            "capacity": cap,
                        }
                    )
                elif st.orig_services.get(code) != (sname, cap):
                    update_svc.append((sid, {"service_name": sname, "capacity": cap}))
        return build_rows(FacilityService, create_svc), update_svc


class _Derived:
    """Stand-in for Facility.refresh_derived on the insert path, which builds no model instances."""

    __slots__ = (
        "name",
        "kana",
        "short_name",
        "corporation_name",
        "lat",
        "lng",
        "search_text",
        "geo_cell",
    )

    search_text: str
    geo_cell: int | None

    def __init__(self, values: dict[str, Any]) -> None:
        for k in ("name", "kana", "short_name", "corporation_name"):
            setattr(self, k, values.get(k) or "")
        self.lat, self.lng = values.get("lat"), values.get("lng")


def _derived(values: dict[str, Any]) -> dict[str, Any]:
    d = _Derived(values)
    Facility.refresh_derived(d)  # type: ignore[arg-type]
    return {"search_text": d.search_text, "geo_cell": d.geo_cell}


_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
    models.ForeignKey,
)


def _db_value(field: models.Field[Any, Any], value: Any, conn: Any) -> Any:
    return value if isinstance(field, _PLAIN_FIELDS) else field.get_db_prep_save(value, conn)


@dataclass
class _Built:
    """Rows for an INSERT, values ready for the driver (build_rows); written by insert_built."""

    model: type[models.Model]
    columns: list[str]
    values: list[list[Any]]
    types: list[str | None]


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert new rows without building model instances: COPY on PostgreSQL, executemany elsewhere.

    bulk_create spends most of its time instantiating models and preparing every field of every
    object; here plain values pass straight through and only UUID, date, time and JSON columns go
    through the field's own get_db_prep_save. Fields not given get their model default, and
    auto_now / auto_now_add fields the current time, as bulk_create would do.
    """
    insert_built(build_rows(model, rows))


def build_rows(
    model: type[models.Model], rows: list[dict[str, Any]], *, with_pk: bool = False
) -> _Built:
    """The values insert_rows writes, worked out without the database (with_pk: rows give "id")."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if (with_pk or not f.primary_key)
        and not getattr(f, "generated", False)
        # A database default applies only when the column is left out of the INSERT.
        and not (f.has_db_default() and not f.has_default())
    ]
    conn = connections[DEFAULT_DB_ALIAS]  # the proxy object costs a lookup per attribute access
    now = timezone.now()
    index = {f.attname: i for i, f in enumerate(fields)}
    plain = [isinstance(f, _PLAIN_FIELDS) for f in fields]
    dynamic = [(i, f) for i, f in enumerate(fields) if f.has_default() and callable(f.default)]
    template: list[Any] = []
    for i, f in enumerate(fields):
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        value = now if auto else None if (i, f) in dynamic else f.get_default()
        template.append(_db_value(f, value, conn))
    # uuid4 defaults in bulk: one os.urandom call instead of one per row.
    random_uuids = [i for i, f in dynamic if f.default is uuid.uuid4]
    dynamic = [(i, f) for i, f in dynamic if i not in random_uuids]
    entropy = os.urandom(16 * len(rows) * len(random_uuids))
    # Dates (source_date) repeat on every row; prepare each distinct value once.
    prepared: list[dict[Any, Any] | None] = [
        {} if isinstance(f, models.DateField) else None for f in fields
    ]
    values = []
    for n, row in enumerate(rows):
        v = template.copy()
        for k, i in enumerate(random_uuids):
            at = (n * len(random_uuids) + k) * 16
            u = uuid.UUID(bytes=entropy[at : at + 16], version=4)
            v[i] = fields[i].get_db_prep_save(u, conn)
        for i, f in dynamic:
            v[i] = f.get_db_prep_save(f.get_default(), conn)
        for name, value in row.items():
            i = index[name]
            if plain[i]:
                v[i] = value
            elif (memo := prepared[i]) is not None:
                if value not in memo:
                    memo[value] = fields[i].get_db_prep_save(value, conn)
                v[i] = memo[value]
            else:
                v[i] = fields[i].get_db_prep_save(value, conn)
        values.append(v)
    types = [f.db_type(conn) for f in fields]
    return _Built(model, [str(f.column) for f in fields], values, types)


# PostgreSQL types by Django's db_type, for binary COPY (psycopg needs the exact type names).
_BINARY_COPY_TYPES = {
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
    "boolean": "bool",
    "double precision": "float8",
    "text": "text",
    "uuid": "uuid",
    "date": "date",
    "timestamp with time zone": "timestamptz",
}


def _binary_types(types: list[str | None]) -> list[str] | None:
    """psycopg's names of the column types, or None if one has no plain binary form (jsonb)."""
    names = []
    for t in types:
        if t is None:
            return None
        if t.startswith("varchar("):
            names.append("varchar")
        elif t in _BINARY_COPY_TYPES:
            names.append(_BINARY_COPY_TYPES[t])
        else:
            return None
    return names


def insert_built(built: _Built) -> None:
    if not built.values:
        return
    qn = connection.ops.quote_name
    table = qn(built.model._meta.db_table)
    columns = ", ".join(qn(c) for c in built.columns)
    values = built.values
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Binary COPY where every column has a plain binary form: no text to escape, and
            # formatting the rows was an eighth of a first import's Python time.
            binary = _binary_types(built.types)
            fmt = " WITH (FORMAT BINARY)" if binary else ""
            # The raw psycopg cursor: its errors become Django's (IntegrityError) here.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN{fmt}") as copy,
            ):
                if binary:
                    copy.set_types(binary)
                for v in values:
                    copy.write_row(v)
        else:
            placeholders = ", ".join(["%s"] * len(built.columns))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)


def reserve_ids(model: type[models.Model], n: int) -> list[int] | None:
    """n new primary keys from the table's sequence (PostgreSQL), None where there is none.

    Rows inserted with known keys need no query to read their keys back, and a batch can be
    worked out completely before it is written (_import_pipelined).
    """
    if connection.vendor != "postgresql":
        return None
    if n == 0:
        return []
    with connection.cursor() as cursor:
        # The sequence is looked up once (OFFSET 0 keeps the subquery from being flattened):
        # pg_get_serial_sequence() per id made this query ten times slower.
        cursor.execute(
            "SELECT nextval(s.seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass"
            " AS seq OFFSET 0) s, generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, n],
        )
        return [r[0] for r in cursor.fetchall()]


def update_rows(
    model: type[models.Model],
    names: list[str],
    rows: list[tuple[int, dict[str, Any]]],
    *,
    increment: tuple[str, ...] = (),
) -> None:
    """UPDATE the named fields of rows by primary key, without model instances.

    bulk_update's CASE WHEN per field is quadratic in the batch size. On PostgreSQL the new
    values are copied into a temporary table and applied with one UPDATE … FROM; elsewhere one
    executemany. Fields in ``increment`` are raised by one in SQL, so concurrent bumps are not
    lost; auto_now fields are set to the current time.
    """
    if not rows:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    fields = [f for n in names if isinstance(f := model._meta.get_field(n), models.Field)]
    auto = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    now = [_db_value(f, timezone.now(), conn) for f in auto]
    table, pk = qn(model._meta.db_table), qn(str(model._meta.pk.column))
    columns = [qn(str(f.column)) for f in fields]
    values = [[key, *(_db_value(f, row[f.attname], conn) for f in fields)] for key, row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tmp = qn(f"_renkei_update_{model._meta.db_table}")
            cursor.execute(f"DROP TABLE IF EXISTS {tmp}")
            cursor.execute(
                f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS "
                f"SELECT {pk}, {', '.join(columns)} FROM {table} WITH NO DATA"
            )
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {tmp} ({pk}, {', '.join(columns)}) FROM STDIN") as copy,
            ):
                for v in values:
                    copy.write_row(v)
            sets = [f"{c} = t.{c}" for c in columns]
            sets += [f"{qn(n)} = f.{qn(n)} + 1" for n in increment]
            sets += [f"{qn(str(f.column))} = %s" for f in auto]
            cursor.execute(
                f"UPDATE {table} AS f SET {', '.join(sets)} FROM {tmp} AS t WHERE f.{pk} = t.{pk}",
                now,
            )
        else:
            sets = [f"{c} = %s" for c in columns]
            sets += [f"{qn(n)} = {qn(n)} + 1" for n in increment]
            sets += [f"{qn(str(f.column))} = %s" for f in auto]
            cursor.executemany(
                f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s",
                [[*v[1:], *now, v[0]] for v in values],
            )


def _in(model: type[M], field: str, values: Iterable[Any]) -> models.QuerySet[M]:
    """model.objects.filter(field__in=values), as one array parameter on PostgreSQL.

    A 2,000-element IN list costs more to build and to bind than the lookup itself.
    """
    values = list(values)
    manager = model._default_manager
    if connection.vendor != "postgresql":
        return manager.filter(**{f"{field}__in": values})
    qn = connection.ops.quote_name
    f = model._meta.get_field(field)
    column = str(f.column) if isinstance(f, models.Field) else field
    return manager.filter(
        RawSQL(
            f"{qn(model._meta.db_table)}.{qn(column)} = ANY(%s)",
            (values,),
            output_field=models.BooleanField(),
        )
    )


def _plan_new_facilities(
    new: list[tuple[str, dict[str, Any]]], key_field: str
) -> tuple[dict[str, int] | None, Callable[[], dict[str, int]]]:
    """The INSERT of facilities keyed by their official identifier: their ids, if known now
    (reserved on PostgreSQL, so the rows are built here), and a save() that writes them and
    returns the ids by identifier."""
    ids = reserve_ids(Facility, len(new))
    if ids is None:
        return None, lambda: _create_facilities(new, key_field)
    by_key = {key: pk for (key, _), pk in zip(new, ids, strict=True)}
    built = build_rows(
        Facility,
        [{"id": by_key[key], key_field: key, **cur, **_derived(cur)} for key, cur in new],
        with_pk=True,
    )

    def save() -> dict[str, int]:
        insert_built(built)
        return by_key

    return by_key, save


def _create_facilities(new: list[tuple[str, dict[str, Any]]], key_field: str) -> dict[str, int]:
    """Insert facilities keyed by their official identifier; their new ids by identifier."""
    insert_rows(Facility, [{key_field: key, **cur, **_derived(cur)} for key, cur in new])
    return dict(_in(Facility, key_field, [key for key, _ in new]).values_list(key_field, "id"))


def _facility_updates(
    changed: list[tuple[int, dict[str, Any], dict[str, Any]]],
) -> list[tuple[int, dict[str, Any]]]:
    return [(pk, {**cur, **_derived({**extra, **cur})}) for pk, cur, extra in changed]


def _update_facilities(updates: list[tuple[int, dict[str, Any]]], fields: tuple[str, ...]) -> None:
    """Write only the official fields; version is bumped so an open edit form sees the change."""
    update_rows(Facility, [*fields, "search_text", "geo_cell"], updates, increment=("version",))


# ---- 医療情報ネット 施設票 ------------------------------------------------------------------

IRYOU_FIELDS = (
    "kind",
    "name",
    "kana",
    "short_name",
    "municipality_id",
    "address",
    "lat",
    "lng",
    "website",
    "closed_days",
    "beds",
    "source",
    "source_date",
)


@dataclass(slots=True)
class _IryouRow:
    line: int
    medical_id: str
    fields: dict[str, Any]
    point: tuple[float, float] | None
    notes: list[str]


class _IryouFacilityProcessor(_Processor):
    COLUMNS = (
        "ID",
        "正式名称",
        "正式名称（フリガナ）",
        "略称",
        "機関区分",
        "都道府県コード",
        "市区町村コード",
        "所在地",
        "所在地座標（緯度）",
        "所在地座標（経度）",
        "案内用ホームページアドレス",
        "合計病床数",
    )

    def __init__(self, ctx: _Context, index: dict[str, int]) -> None:
        super().__init__(ctx, index)
        c = self.col
        self.c_holiday, self.c_other = c("祝日に休診"), c("その他の休診日（gw、お盆等）")
        self.c_weekly = [(d, c(f"毎週決まった曜日に休診（{d}）")) for d, _ in DAYS[:7]]
        self.c_weeks = {
            d: [(n, c(f"決まった週に休診（定期週）第{n}週（{d}）")) for n in range(1, 6)]
            for d, _ in DAYS[:7]
        }
        name = Path(ctx.filename).name.lower()
        self.file_kind: str | None = None
        for prefix, word, kind in (
            ("01-", "hospital", FacilityKind.HOSPITAL),
            ("02-", "clinic", FacilityKind.CLINIC),
            ("03-", "dental", FacilityKind.DENTAL),
        ):
            if name.startswith(prefix) or word in name:
                self.file_kind = kind
                break
        self.seen: dict[str, int] = {}

    def parse(self, line: int, row: list[str]) -> _IryouRow | None:
        (
            raw_id,
            name,
            kana,
            short,
            kind_s,
            pref_s,
            city_s,
            address,
            lat_s,
            lng_s,
            url,
            beds_s,
        ) = self.cells(row)
        medical_id, padded = _code_with_zeros(raw_id, 13)
        if len(medical_id) != 13:
            self.reject(line, raw_id, f"ID「{raw_id}」が13桁の数字ではありません")
            return None
        kind_code = _digits(kind_s)
        kind = IRYOU_KIND.get(kind_code) or (None if kind_s else self.file_kind)
        if kind is None:
            label = IRYOU_KIND_LABEL.get(kind_code, "不明")
            self.reject(
                line,
                medical_id,
                f"機関区分「{kind_s}」（{label}）は取り込めません（1 病院・2 診療所・3 歯科診療所のみ）",
            )
            return None
        pref, city = _digits(pref_s), _digits(city_s)
        if not (1 <= len(pref) <= 2 and 1 <= len(city) <= 3):
            self.reject(
                line,
                medical_id,
                f"都道府県コード「{pref_s}」・市区町村コード「{city_s}」が数字2桁・3桁ではありません",
            )
            return None
        muni = self.ctx.munis.get(code6_from(pref, city))
        if muni is None:
            self.reject(
                line,
                medical_id,
                f"都道府県コード「{pref_s}」・市区町村コード「{city_s}」の市区町村が見つかりません",
            )
            return None
        if not name:
            self.reject(line, medical_id, "正式名称が空欄です")
            return None
        address = _strip_prefecture(address, muni.prefecture)
        if not address:
            self.reject(line, medical_id, "所在地が空欄です")
            return None
        point = _point(lat_s, lng_s)
        if isinstance(point, str):
            self.reject(line, medical_id, point)
            return None
        if medical_id in self.seen:
            self.reject(
                line,
                medical_id,
                f"同じIDの行が{self.seen[medical_id]}行目にもあります（後の行は不採用）",
            )
            return None
        self.seen[medical_id] = line
        if not self.in_scope(muni.id):
            return None

        notes = []
        if padded:
            notes.append(f"ID「{raw_id}」の先頭の0を補いました")
        beds, ok = _count(beds_s)
        if not ok:
            notes.append(f"合計病床数「{beds_s}」が数値ではないため空欄にしました")
        fields: dict[str, Any] = {
            "kind": kind,
            "name": name[:200],
            "kana": kana[:200],
            "short_name": short[:100],
            "municipality_id": muni.id,
            "address": address[:200],
            "website": _url(url),
            "closed_days": self._closed_days(row),
            "beds": beds,
            "source": "iryou",
        }
        if self.ctx.source_date is not None:
            fields["source_date"] = self.ctx.source_date
        return _IryouRow(line, medical_id, fields, point, notes)

    def _closed_days(self, row: list[str]) -> str:
        """The 休診 flags (1 = open, 0 = closed; blank = not reported) as text: 日曜、第2・4土曜、祝日."""
        weekly, by_week = [], []
        for d, i in self.c_weekly:
            weeks = [str(n) for n, j in self.c_weeks[d] if _get(row, j) == "0"]
            if _get(row, i) == "0" or len(weeks) == 5:
                weekly.append(f"{d}曜")
            elif weeks:
                by_week.append(f"第{'・'.join(weeks)}{d}曜")
        parts = weekly + by_week
        if _get(row, self.c_holiday) == "0":
            parts.append("祝日")
        other = _get(row, self.c_other)
        if other:
            parts.append(other)
        return "、".join(parts)[:200]

    pipelined = True

    def key(self, parsed: _IryouRow) -> str:
        return parsed.medical_id

    def prepare(self, batch: list[_IryouRow]) -> _Prepared:
        load = ["id", "info_updated_at", "corporation_name", *IRYOU_FIELDS]
        existing = {
            f["medical_id"]: f
            for f in _in(Facility, "medical_id", [r.medical_id for r in batch]).values(
                "medical_id", *load
            )
        }
        outcomes: list[Outcome] = []
        notes: list[RowReport] = []
        new: list[tuple[str, dict[str, Any]]] = []
        changed: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        for r in batch:
            row = existing.get(r.medical_id)
            cur: dict[str, Any] = {k: row[k] for k in IRYOU_FIELDS} if row else {}
            orig = dict(cur)
            edited = bool(row and row["info_updated_at"] is not None)
            for k, v in r.fields.items():
                if k in SHARED_FIELDS and edited and cur.get(k):
                    continue
                cur[k] = v
            if r.point is not None:
                cur["lat"], cur["lng"] = r.point
            else:
                notes.append(
                    RowReport(
                        r.line,
                        r.medical_id,
                        _fill_position(cur, self.ctx.points.get(r.fields["municipality_id"])),
                        NOTE,
                    )
                )
            notes += [RowReport(r.line, r.medical_id, n, NOTE) for n in r.notes]
            if row is None:
                cur.setdefault("source_date", None)
                new.append((r.medical_id, cur))
                outcomes.append((r.line, CREATED))
            elif cur != orig:
                changed.append((row["id"], cur, {"corporation_name": row["corporation_name"]}))
                outcomes.append((r.line, UPDATED))
            else:
                outcomes.append((r.line, UNCHANGED))
        _, create = _plan_new_facilities(new, "medical_id")
        updates = _facility_updates(changed)

        def save() -> None:
            if new:
                create()
            _update_facilities(updates, IRYOU_FIELDS)

        return _Prepared(_Written(outcomes, notes), save, {r.medical_id for r in batch})


# ---- 医療情報ネット 診療科・診療時間票 ------------------------------------------------------

HOURS_PLACEHOLDER = ("00:00", "00:00")


@dataclass(slots=True)
class _HoursRow:
    line: int
    medical_id: str
    code: str
    name: str
    band: int
    days: dict[str, dict[str, Any]]


class _IryouHoursProcessor(_Processor):
    COLUMNS = ("ID", "診療科目コード", "診療科目名", "診療時間帯")

    def __init__(self, ctx: _Context, index: dict[str, int]) -> None:
        super().__init__(ctx, index)
        c = self.col
        self.c_days = [
            (
                day,
                key,
                c(f"{day}_診療開始時間"),
                c(f"{day}_診療終了時間"),
                c(f"{day}_外来受付開始時間"),
                c(f"{day}_外来受付終了時間"),
            )
            for day, key in DAYS
        ]
        self.seen: dict[int, int] = {}
        self.written: set[tuple[int, str]] = set()

    def group(self, parsed: _HoursRow) -> object:
        return parsed.medical_id

    def parse(self, line: int, row: list[str]) -> _HoursRow | None:
        raw_id, code_s, name, band_s = self.cells(row)
        medical_id, _ = _code_with_zeros(raw_id, 13)
        if len(medical_id) != 13:
            self.reject(line, raw_id, f"ID「{raw_id}」が13桁の数字ではありません")
            return None
        code = _digits(code_s)
        if len(code) != 5:
            self.reject(line, medical_id, f"診療科目コード「{code_s}」が5桁の数字ではありません")
            return None
        if not name:
            self.reject(line, medical_id, f"診療科目コード{code}の診療科目名が空欄です")
            return None
        band_d = _digits(band_s)
        if not band_d or not 1 <= int(band_d) <= 9:
            self.reject(line, medical_id, f"診療時間帯「{band_s}」が1〜9の数字ではありません")
            return None
        band = int(band_d)
        key = int(medical_id) * 1_000_000 + int(code) * 10 + band
        if key in self.seen:
            self.reject(
                line,
                medical_id,
                f"同じID・診療科目コード・診療時間帯の行が{self.seen[key]}行目にもあります（後の行は不採用）",
            )
            return None
        days: dict[str, dict[str, Any]] = {}
        for day, dkey, i_start, i_end, i_rs, i_re in self.c_days:
            start, end, rs, re_ = (
                row[i].strip() if i is not None else "" for i in (i_start, i_end, i_rs, i_re)
            )
            if (start, end) == HOURS_PLACEHOLDER:
                start = end = ""
            if (rs, re_) == HOURS_PLACEHOLDER:
                rs = re_ = ""
            if not (start or end or rs or re_):
                continue
            if bool(start) != bool(end):
                self.reject(
                    line, medical_id, f"{day}曜の診療開始・終了時間の片方だけが入っています"
                )
                return None
            for value in (start, end, rs, re_):
                if value and not _time_re.match(value):
                    self.reject(
                        line, medical_id, f"{day}曜の時刻「{value}」が HH:MM の形式ではありません"
                    )
                    return None
            entry: dict[str, Any] = {"band": band, "start": start, "end": end}
            if rs:
                entry["reception_start"] = rs
            if re_:
                entry["reception_end"] = re_
            days[dkey] = entry
        self.seen[key] = line
        return _HoursRow(line, medical_id, code, name[:60], band, days)

    def write(self, batch: list[_HoursRow]) -> _Written:
        facilities = {
            mid: (fid, muni)
            for mid, fid, muni in _in(
                Facility, "medical_id", {r.medical_id for r in batch}
            ).values_list("medical_id", "id", "municipality_id")
        }
        existing = {
            (fid, code): (sid, name, hours)
            for sid, fid, code, name, hours in _in(
                Specialty, "facility", [fid for fid, _ in facilities.values()]
            ).values_list("id", "facility_id", "code", "name", "hours")
        }
        groups: dict[tuple[str, str], list[_HoursRow]] = {}
        for r in batch:
            groups.setdefault((r.medical_id, r.code), []).append(r)

        out = _Written([], [])
        create: list[Specialty] = []
        update: list[Specialty] = []
        for (mid, code), rows in groups.items():
            fac = facilities.get(mid)
            if fac is None:
                out.reports += [
                    RowReport(
                        r.line,
                        mid,
                        f"ID「{mid}」の医療機関が登録されていません（先に施設票を取り込んでください）",
                    )
                    for r in rows
                ]
                continue
            fid, muni = fac
            if self.ctx.scope is not None and muni not in self.ctx.scope:
                out.skipped += len(rows)
                continue
            before = existing.get((fid, code))
            # Bands of one speciality split across batches merge with what this run wrote.
            merged = (
                {d: list(v) for d, v in before[2].items()}
                if before and (fid, code) in self.written
                else {}
            )
            for r in rows:
                for dkey, entry in r.days.items():
                    entries = [e for e in merged.get(dkey, []) if e.get("band") != r.band]
                    merged[dkey] = sorted([*entries, entry], key=lambda e: e.get("band", 0))
            hours = {key: merged[key] for _, key in DAYS if key in merged}
            name = rows[0].name
            if before is None:
                create.append(Specialty(facility_id=fid, code=code, name=name, hours=hours))
                outcome = CREATED
            elif (before[1], before[2]) != (name, hours):
                update.append(Specialty(pk=before[0], name=name, hours=hours))
                outcome = UPDATED
            else:
                outcome = UNCHANGED
            out.outcomes += [(r.line, outcome) for r in rows]
        insert_rows(
            Specialty,
            [
                {"facility_id": c.facility_id, "code": c.code, "name": c.name, "hours": c.hours}
                for c in create
            ],
        )
        update_rows(
            Specialty,
            ["name", "hours"],
            [(u.pk, {"name": u.name, "hours": u.hours}) for u in update],
        )
        self.written.update((s.facility_id, s.code) for s in create)
        self.written.update((facilities[mid][0], code) for mid, code in groups if mid in facilities)
        return out


PROCESSORS: dict[str, type[_Processor]] = {
    KAIGO: _KaigoProcessor,
    IRYOU_FACILITY: _IryouFacilityProcessor,
    IRYOU_HOURS: _IryouHoursProcessor,
}


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

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
    writes are held back and written after it, so that they see what it wrote. Each batch is
    still one transaction, committed in file order; an IntegrityError (a concurrent import
    created a facility first) sends the batch through the serial _flush, which retries.
    Only where the caller holds no transaction: a second connection could not join it.
    """

    def write(prepared: _Prepared) -> None:
        with transaction.atomic():
            prepared.save()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-write") as writer:
        inflight: deque[tuple[_Batch, list[Any], _Prepared, Future[None]]] = deque()

        def finish_oldest() -> None:
            batch, rows, prepared, future = inflight.popleft()
            try:
                future.result()
            except IntegrityError:
                _flush(proc, rows, result)
            else:
                _tally(result, prepared.written)
            done(batch)

        try:
            for batch in batches:
                busy = set().union(*(p.keys for _, _, p, _ in inflight))
                rows = [r for r in batch.rows if proc.key(r) not in busy]
                held = [r for r in batch.rows if proc.key(r) in busy]
                prepared = proc.prepare(rows) if rows else None
                while inflight and (held or len(inflight) >= PIPELINE_DEPTH):
                    finish_oldest()
                if held:
                    _flush(proc, held, result)
                if prepared is None:
                    done(batch)
                else:
                    inflight.append((batch, rows, prepared, writer.submit(write, prepared)))
            while inflight:
                finish_oldest()
        finally:
            # The writer thread's connection is its own; close it there.
            writer.submit(connections.close_all).result()


def _flush(proc: _Processor, batch: list[Any], result: ImportResult) -> None:
    for attempt in (1, 2):
        try:
            with transaction.atomic():
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


# --------------------------------------------------------------------------------------------
# Runs: the upload page and the management command record each import as an ImportRun
# --------------------------------------------------------------------------------------------


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
