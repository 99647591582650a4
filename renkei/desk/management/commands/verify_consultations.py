"""Walk every consultation's version chain; exit non-zero naming each broken one (R12).

The restore drill (scripts/restore_drill.sh) runs it on the restored copy, beside verify_audit.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from renkei.desk.models import broken_version_chains


class Command(BaseCommand):
    help = (
        "相談記録の版のハッシュ連鎖をすべて検証します。壊れた相談記録があれば示して異常終了します"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        broken, checked = broken_version_chains()
        if broken:
            raise CommandError(
                "\n".join(
                    f"相談記録 {v.consultation.code} の第{v.number}版"
                    f"（{timezone.localtime(v.created_at):%Y-%m-%d %H:%M}）で版の連鎖が切れています"
                    for v in broken
                )
            )
        self.stdout.write(
            f"相談記録の版の連鎖を検証しました: {checked}版、改ざんなし"
            f"（{time.perf_counter() - started:.1f}秒）"
        )
