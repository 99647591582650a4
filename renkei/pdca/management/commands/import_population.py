"""Import the 65+ population of every municipality from the 住民基本台帳 年齢階級別人口 file.

    python manage.py import_population 2501nsjin.xlsx --fiscal-year 2025

The file is e-Stat's (or the ministry's) 市区町村別 年齢階級別人口 table, CSV or .xlsx; see
docs/pdca-population.md for where to get it. All rows are written or none: a bad row is
reported with its line and the command exits with status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from renkei.lib.actions import ActionError
from renkei.pdca.population import import_population, issue_lines


class Command(BaseCommand):
    help = "住民基本台帳の年齢階級別人口（市区町村別）から65歳以上人口を取り込む"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--fiscal-year", type=int, required=True, help="年度（西暦）")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        year: int = options["fiscal_year"]
        if not 2000 <= year <= 2100:
            raise CommandError("年度は2000〜2100の西暦で指定してください")
        try:
            report = import_population(path.read_bytes(), path.name, fiscal_year=year, by=None)
        except OSError as e:
            raise CommandError(f"ファイルを読めません: {e}") from None
        except ActionError as e:
            raise CommandError(e.message) from None
        if not report.ok:
            for line in issue_lines(report):
                self.stderr.write(line)
            raise CommandError(
                f"誤りのある行が{len(report.issues)}件あります。何も保存していません"
            )
        self.stdout.write(
            f"{year}年度の65歳以上人口を{report.written}市区町村について保存しました"
            f"（対象外・集計行 {report.skipped + report.outside}行）"
        )
