"""What an import did: its counts and its per-row reports, and the refusal of a whole file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
