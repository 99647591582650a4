"""python manage.py import_opendata FILE [FILE...] — import official open-data CSVs.

Each file becomes an ImportRun (shown on the upload page to operators) and is audited.
The exit status is non-zero when any file was refused or failed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from renkei.directory import imports
from renkei.directory.imports.points import ward_points_from_facilities
from renkei.directory.models import ImportRun

ACTOR = "manage.py import_opendata"
FORMAT_ORDER = {imports.KAIGO: 0, imports.IRYOU_FACILITY: 1, imports.IRYOU_HOURS: 2}


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"日付は YYYY-MM-DD で指定してください: {value}") from None


def sniff_format(path: Path) -> str | None:
    """The format from the first line only, so that 施設票 can be imported before 診療時間票."""
    try:
        with path.open("rb") as f:
            head = f.read(16384)
    except OSError:
        return None
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = head.decode(encoding, errors="ignore")
            header = next(csv.reader(io.StringIO(text, newline="")))
        except (csv.Error, StopIteration):
            continue
        fmt = imports.detect_format(header)
        if fmt:
            return fmt
    return None


class Command(BaseCommand):
    help = (
        "介護サービス情報公表・医療情報ネットのオープンデータ（CSV）を施設・事業所に取り込みます。"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="CSV または CSV を1つ含む ZIP")
        parser.add_argument(
            "--format",
            default="auto",
            choices=[c for c, _ in imports.FORMAT_CHOICES],
            help="形式（既定は見出し行から自動判別）",
        )
        parser.add_argument(
            "--source-date",
            type=iso_date,
            default=None,
            help="データの時点 YYYY-MM-DD（省略時はファイル名の _YYYYMMDD、なければ変更しない）",
        )
        parser.add_argument("--batch-size", type=int, default=imports.BATCH_SIZE)
        parser.add_argument(
            "--show", type=int, default=20, help="ファイルごとに表示する不採用・注意の行数"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = options["files"]
        fmt: str = options["format"]
        if fmt == "auto":
            files = sorted(files, key=lambda p: FORMAT_ORDER.get(sniff_format(p) or "", -1))
        failed = 0
        for path in files:
            if not path.is_file():
                self.stderr.write(f"{path}: ファイルが見つかりません。")
                failed += 1
                continue
            if not self._import(path, fmt, options):
                failed += 1
        if wards := ward_points_from_facilities():
            self.stdout.write(f"区の代表地点を、区内の施設の位置から{wards}件設定しました")
        if failed:
            raise CommandError(f"{failed}件のファイルを取り込めませんでした。")

    def _import(self, path: Path, fmt: str, options: dict[str, Any]) -> bool:
        run = ImportRun.objects.create(format=fmt, filename=path.name[:200])
        self.stdout.write(f"{path.name}: 取込を開始します")
        tty = self.stdout.isatty()
        last = [-1]

        def progress(done: int, total: int) -> None:
            pct = 100 * done // total if total else 100
            if tty:
                self.stdout.write(f"\r  {done:,} / {total:,} 行（{pct}%）", ending="")
                self.stdout.flush()
            elif pct // 10 != last[0]:
                last[0] = pct // 10
                self.stdout.write(f"  {done:,} / {total:,} 行（{pct}%）")

        result = imports.run_import(
            run,
            path,
            source_date=options["source_date"],
            actor_label=ACTOR,
            batch_size=max(1, options["batch_size"]),
            on_progress=progress,
        )
        if tty:
            self.stdout.write("")
        run.refresh_from_db()
        if result is None:
            self.stderr.write(f"{path.name}: {run.get_status_display()} — {run.message}")
            return False
        speed = f"{result.seconds:.1f}秒、{result.rows_per_second:,.0f}行/秒"
        self.stdout.write(f"{path.name}: {result.summary()}（{speed}）")
        shown = result.reports[: options["show"]]
        for r in shown:
            label = "不採用" if r.level == imports.REJECTED else "注意"
            self.stdout.write(f"  {r.line}行目 [{label}] {r.key}: {r.reason}")
        if len(result.reports) > len(shown):
            self.stdout.write(
                f"  ほか{len(result.reports) - len(shown):,}件（取込履歴の画面で確認できます）"
            )
        return True
