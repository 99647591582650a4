"""Walk the audit log's hash chain; exit non-zero naming the first broken entry (ADR 0015)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from renkei.accounts.audit_chain import Anchor, verify


class Command(BaseCommand):
    help = (
        "監査ログのハッシュ連鎖を先頭から検証します。壊れた最初の記録を示して異常終了します。"
        "--anchor に以前記録したアンカー（ID:ハッシュ）を渡すと、連鎖の作り直しや末尾の削除も検出します"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="ID:DIGEST",
            help="日次ジョブがログに書いたアンカー（複数指定可）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            anchors = [Anchor.parse(text) for text in options["anchor"]]
        except ValueError as e:
            raise CommandError(str(e)) from e
        report = verify(anchors)
        if not report.ok:
            raise CommandError("\n".join(report.problems()))
        self.stdout.write(
            f"監査ログの連鎖を検証しました: {report.checked}件、改ざんなし"
            f"（{report.seconds:.1f}秒）。最新のアンカー: {report.latest or 'なし（記録0件）'}"
        )
