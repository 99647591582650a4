"""Import of an existing 事業一覧 from Excel or CSV (a municipality will not retype last year's).

Three steps: the upload is read into a header and rows and stored (`start_import`); the user
says which column is which (`MappingInput`, the mapping step); every row is checked and either
all are written in one transaction or none is, with a report line per bad row naming its line
in the file (`run_import`, a job when the file is large).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership
from renkei.lib.actions import ActionError, Conflict
from renkei.lib.inputs import FiscalYear, Input
from renkei.lib.jobs import job
from renkei.lib.programme import ProgrammeItem, Scene
from renkei.programmes.models import (
    ITEM_BY_SHORT,
    OWNER_KINDS,
    BudgetLine,
    FundingSource,
    ImportStatus,
    ProgrammeImport,
    ProgrammeLine,
    ProgrammeTable,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# Above this many rows the check and the write run as a job, with progress on the import's page.
INLINE_ROWS = 300

# Target fields, in the order the mapping step shows them.
TARGETS: dict[str, str] = {
    "section": "区分（見出し）",
    "name": "事業名称（必須）",
    "items": "事業項目（ア〜ク）",
    "scenes": "場面",
    "content": "事業内容",
    "results": "実績",
    "plan": "予定",
    "effect": "事業効果",
    "contractor_name": "受託者",
    "amount": "予算額（千円）",
    "source": "財源",
    "budget_label": "予算の内訳・摘要",
}
# Header words that suggest a column for a target (the mapping step's first guess).
GUESSES: dict[str, tuple[str, ...]] = {
    "section": ("区分", "見出し", "分野"),
    "name": ("事業名",),
    "items": ("項目", "ア〜ク", "事業項目"),
    "scenes": ("場面",),
    "content": ("事業内容", "内容", "概要"),
    "results": ("実績",),
    "plan": ("予定",),
    "effect": ("効果",),
    "contractor_name": ("受託", "委託先"),
    "amount": ("予算額", "予算", "金額"),
    "source": ("財源",),
    "budget_label": ("摘要", "内訳"),
}
TEXT_LIMITS = {
    "section": 120,
    "name": 200,
    "content": 4000,
    "results": 4000,
    "plan": 4000,
    "effect": 4000,
    "contractor_name": 120,
    "budget_label": 120,
}


class FileRefused(ActionError):
    pass


FILE_GONE = (
    "取込みのファイルが見つかりません（保存期間を過ぎたか、削除されました）。"
    "お手数ですが、もう一度ファイルを読み込んでください"
)


def stored_rows(imp: ProgrammeImport) -> list[list[str]]:
    """The stored upload's rows, or a refusal asking for the file again when it is gone."""
    try:
        with imp.file.open("rb") as handle:
            data = handle.read()
    except (OSError, ValueError):  # missing from the storage, or no file recorded at all
        raise FileRefused(FILE_GONE) from None
    return read_rows(data, imp.file.name or "")


def _normal(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # Seed 000's cells carry HTML (<p>, <ul><li>); keep the lines, drop the tags.
    if "<" in text and ">" in text:
        text = re.sub(r"(?i)<\s*(br|/p|/li|li)[^>]*>", "\n", text)
        text = re.sub(r"<[^>]{0,200}>", "", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [ln.strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln).strip()


def read_rows(data: bytes, filename: str) -> list[list[str]]:
    """All rows of the first sheet (XLSX) or of the CSV, as text."""
    if not data.strip():
        raise FileRefused("ファイルが空です", field="file")
    if filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRefused(
            "文字コードを読み取れません。UTF-8 または Shift_JIS の CSV にしてください", field="file"
        )
    if "\x00" in text:
        raise FileRefused("CSV ではないファイルのようです", field="file")
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    try:
        return [
            [_normal(c) for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
    except csv.Error as e:
        raise FileRefused(f"CSV として読めません（{e}）", field="file") from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > 50 * MAX_BYTES:
                raise FileRefused("展開後のファイルが大きすぎます", field="file")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except FileRefused:
        raise
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise FileRefused("Excel（.xlsx）のファイルとして読めません", field="file") from None
    ws = wb.worksheets[0]
    rows = []
    for row in ws.iter_rows(values_only=True):
        rows.append([_normal(c) for c in row])
        if len(rows) > MAX_ROWS + 1:
            break
    wb.close()
    return rows


def guess_mapping(header: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for target, words in GUESSES.items():
        for i, h in enumerate(header):
            if i not in used and any(w in h for w in words):
                mapping[target] = i
                used.add(i)
                break
    return mapping


@transaction.atomic
def start_import(
    *,
    by: Membership,
    fiscal_year: int,
    upload: UploadedFile[bytes],
    request: HttpRequest | None = None,
) -> ProgrammeImport:
    if by.organization.kind not in OWNER_KINDS:
        raise ActionError("事業の記録を作れるのは市区町村・都道府県・医師会などの組織です")
    if (upload.size or 0) > MAX_BYTES:
        raise FileRefused("ファイルは5MBまでにしてください", field="file")
    name = (upload.name or "upload.csv")[-200:]
    data = upload.read()
    rows = list(read_rows(data, name))
    # The header is the first row with a value in it; the line numbers stay the file's.
    first = next((i for i, r in enumerate(rows) if any(r)), None)
    if first is None:
        raise FileRefused("ファイルに行がありません", field="file")
    if len(rows) - first - 1 > MAX_ROWS:
        raise FileRefused(f"行が多すぎます（{MAX_ROWS}行まで）", field="file")
    header = [h or f"（{i + 1}列目）" for i, h in enumerate(rows[first])]
    imp = ProgrammeImport(
        owner=by.organization,
        fiscal_year=fiscal_year,
        filename=name,
        header=header,
        preview=list(rows[first + 1 : first + 6]),
        mapping=guess_mapping(header),
        status=ImportStatus.UPLOADED,
        total=sum(1 for r in rows[first + 1 :] if any(r)),
        created_by=by.user,
    )
    imp.report = [{"header_line": first + 1}]
    imp.file.save(
        "import.xlsx" if name.lower().endswith(".xlsx") else "import.csv",
        ContentFile(data),
        save=False,
    )
    imp.save()
    AuditEntry.record(
        "programmes.import_started",
        request=request,
        by=by,
        target=imp,
        detail={"filename": name, "rows": imp.total},
    )
    return imp


class MappingInput(Input):
    """Which column of the file is which field (0-based column numbers; omitted = none)."""

    fiscal_year: FiscalYear
    title: str = Field(..., min_length=1, max_length=120, description="事業一覧の表題")
    columns: dict[str, int] = Field(..., description="項目名 → 列番号（0から）")


@dataclass
class RowResult:
    line: int
    name: str = ""
    errors: list[str] = field(default_factory=list)


def _split_codes(
    text: str, short: dict[str, Any], labels: dict[str, str]
) -> tuple[list[str], list[str]]:
    codes: list[str] = []
    bad: list[str] = []
    for part in re.split(r"[、,，・\s()（）]+", unicodedata.normalize("NFKC", text)):
        if not part:
            continue
        if part in short:
            codes.append(short[part].value)
        elif part in labels:
            codes.append(labels[part])
        else:
            bad.append(part)
    return codes, bad


SCENE_BY_LABEL = {str(s.label): s.value for s in Scene} | {s.value: s.value for s in Scene}
SCENE_SHORT = {"入退院": "discharge", "日常": "daily", "急変": "emergency", "急変時": "emergency"}


def check_rows(
    imp: ProgrammeImport, columns: dict[str, int]
) -> tuple[list[RowResult], list[dict[str, Any]]]:
    """Every row checked; the good rows' values ready to write."""
    rows = stored_rows(imp)
    header_line = int((imp.report or [{}])[0].get("header_line", 1)) if imp.report else 1
    sources = {s.name: s for s in FundingSource.objects.filter(is_active=True)}
    sources.update({s.short_name: s for s in sources.values() if s.short_name})
    results: list[RowResult] = []
    values: list[dict[str, Any]] = []
    for offset, row in enumerate(rows[header_line:], start=header_line + 1):
        if not any(row):
            continue

        def cell(target: str, row: list[str] = row) -> str:
            i = columns.get(target)
            return row[i] if i is not None and i < len(row) else ""

        r = RowResult(line=offset, name=cell("name")[:60])
        v: dict[str, Any] = {"line": offset}
        for target, limit in TEXT_LIMITS.items():
            text = cell(target)
            if len(text) > limit:
                r.errors.append(f"{TARGETS[target]}が長すぎます（{limit}文字まで）")
            v[target] = text
        if not v["name"]:
            r.errors.append("事業名称が空です")
        v["is_new"] = v["name"].startswith(("(新)", "（新）"))
        if v["is_new"]:
            v["name"] = v["name"].split(")", 1)[-1].split("）", 1)[-1].strip()
        items, bad = _split_codes(
            cell("items"), ITEM_BY_SHORT, {str(i.label): i.value for i in ProgrammeItem}
        )
        if bad:
            r.errors.append(f"事業項目が読めません（{'、'.join(bad[:3])}）: ア〜クで書いてください")
        scenes, bad = _split_codes(cell("scenes"), {}, SCENE_BY_LABEL | SCENE_SHORT)
        if bad:
            r.errors.append(f"場面が読めません（{'、'.join(bad[:3])}）")
        v["items"], v["scenes"] = sorted(set(items)), sorted(set(scenes))
        amount_text = (
            unicodedata.normalize("NFKC", cell("amount"))
            .replace(",", "")
            .replace("千円", "")
            .strip()
        )
        v["amount"] = None
        if amount_text and amount_text not in ("-", "—", "－"):
            if not re.fullmatch(r"\d{1,10}", amount_text):
                r.errors.append(f"予算額が数字ではありません（{cell('amount')[:20]}）")
            else:
                v["amount"] = int(amount_text)
        source_text = cell("source").strip()
        v["source"] = None
        if v["amount"] is not None:
            if not source_text:
                r.errors.append("予算額に財源がありません")
            elif source_text not in sources:
                r.errors.append(f"財源が見つかりません（{source_text[:40]}）")
            else:
                v["source"] = sources[source_text]
        elif source_text and source_text not in sources:
            r.errors.append(f"財源が見つかりません（{source_text[:40]}）")
        results.append(r)
        values.append(v)
    return results, values


@transaction.atomic
def apply_mapping(
    imp: ProgrammeImport, *, by: Membership, data: MappingInput, request: HttpRequest | None = None
) -> ProgrammeImport:
    if imp.owner_id != by.organization_id:
        raise ActionError("この取込みは操作できません")
    if imp.status not in (ImportStatus.UPLOADED, ImportStatus.FAILED):
        raise Conflict("この取込みはすでに実行しました")
    unknown = set(data.columns) - set(TARGETS)
    if unknown:
        raise ActionError(f"対応づけの項目が正しくありません（{min(unknown)}）", field="columns")
    if any(not 0 <= i < len(imp.header) for i in data.columns.values()):
        raise ActionError("ファイルにない列が選ばれています", field="columns")
    if "name" not in data.columns:
        raise ActionError("事業名称の列を選んでください", field="columns")
    if not imp.file or not imp.file.storage.exists(imp.file.name or ""):
        raise FileRefused(FILE_GONE)
    used = list(data.columns.values())
    if len(used) != len(set(used)):
        raise ActionError("同じ列を二つの項目に選んでいます", field="columns")
    imp.mapping = {"columns": data.columns, "title": data.title}
    imp.fiscal_year = data.fiscal_year
    imp.status = ImportStatus.RUNNING
    imp.done = 0
    imp.save()
    if imp.total > INLINE_ROWS:
        run_import.enqueue(import_id=imp.pk)
    else:
        _run(imp)
    return imp


@job(queue="default", retries=2, long=True)
def run_import(*, import_id: int) -> None:
    imp = ProgrammeImport.objects.select_related("owner").filter(pk=import_id).first()
    if imp is None or imp.status != ImportStatus.RUNNING:
        return  # already finished by an earlier run of this job
    _run(imp)


def _run(imp: ProgrammeImport) -> None:
    columns = {k: int(v) for k, v in imp.mapping.get("columns", {}).items()}
    report = [{"header_line": (imp.report or [{}])[0].get("header_line", 1)}]
    try:
        results, values = check_rows(imp, columns)
    except FileRefused as e:  # gone between the mapping step and the job
        results, values = [], []
        report.append({"line": 0, "name": "", "errors": [e.message]})
    bad = [r for r in results if r.errors]
    report += [{"line": r.line, "name": r.name, "errors": r.errors} for r in bad]
    with transaction.atomic():
        if bad or not values:
            if not values and len(report) == 1:
                report.append({"line": 0, "name": "", "errors": ["取り込める行がありません"]})
            imp.status = ImportStatus.FAILED
        else:
            imp.table = _write(imp, values)
            imp.status = ImportStatus.DONE
        imp.report = report
        imp.done = len(results)
        imp.finished_at = timezone.now()
        imp.save()
        AuditEntry.record(
            "programmes.import_finished",
            actor=imp.created_by,
            target=imp,
            detail={"status": imp.status, "rows": len(results), "bad": len(bad)},
            actor_label="" if imp.created_by else "取込み",
        )


def _write(imp: ProgrammeImport, values: list[dict[str, Any]]) -> ProgrammeTable:
    table, _ = ProgrammeTable.objects.get_or_create(
        owner=imp.owner,
        fiscal_year=imp.fiscal_year,
        defaults={"title": str(imp.mapping.get("title") or imp.filename)[:120]},
    )
    last = table.lines.order_by("-sort_order").values_list("sort_order", flat=True).first() or 0
    lines = ProgrammeLine.objects.bulk_create(
        ProgrammeLine(
            table=table,
            sort_order=last + (i + 1) * 10,
            section=v["section"],
            name=v["name"],
            is_new=v["is_new"],
            items=v["items"],
            scenes=v["scenes"],
            content=v["content"],
            results=v["results"],
            plan=v["plan"],
            effect=v["effect"],
            contractor_name=v["contractor_name"],
        )
        for i, v in enumerate(values)
    )
    BudgetLine.objects.bulk_create(
        BudgetLine(line=ln, source=v["source"], amount=v["amount"], label=v["budget_label"])
        for ln, v in zip(lines, values, strict=True)
        if v["amount"] is not None and v["source"] is not None
    )
    return table
