"""What the three formats share: the import's context and the row processor's base class."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renkei.directory.imports.columns import ALIASES, _hkey
from renkei.directory.imports.results import ImportResult, RowReport
from renkei.directory.imports.values import _digits
from renkei.regions.models import Municipality, jis_check_digit


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
