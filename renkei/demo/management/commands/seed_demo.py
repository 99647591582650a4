"""``manage.py seed_demo``: the demo region, its organisations and sign-ins (used by run.py demo)."""

from __future__ import annotations

import time
import unicodedata
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from renkei.accounts.models import Role
from renkei.demo import seed
from renkei.demo.authenticators import demo_secrets
from renkei.demo.common import DEFAULT_FACILITIES, MAX_FACILITIES
from renkei.demo.organizations import demo_logins
from renkei.demo.tokens import usage_lines
from renkei.directory.models import FacilityKind
from renkei.testing import DEMO_PASSWORD

LABELS = {"facilities": "施設", "users": "利用者", "organizations": "組織"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = "デモ地域（神奈川県の9つの二次医療圏）の施設・組織・ログインを作成します。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="デモの施設・組織・利用者を削除してから作り直します（地域・処置項目は残します）",
        )
        parser.add_argument(
            "--facilities",
            type=int,
            default=DEFAULT_FACILITIES,
            help=f"自動生成する施設の数（デモ組織の施設は別、既定 {DEFAULT_FACILITIES}）",
        )

    def handle(self, *args: Any, reset: bool, facilities: int, **options: Any) -> None:
        if not 0 <= facilities <= MAX_FACILITIES:
            raise CommandError(
                f"--facilities は0〜{MAX_FACILITIES}の整数で指定してください（{facilities}）"
            )
        if reset:
            report = seed.reset_demo()
            deleted = (
                "、".join(f"{LABELS[k]} {v}件" for k, v in report.deleted.items() if v) or "なし"
            )
            self.stdout.write(f"デモデータを削除しました: {deleted}")
            if report.retired:
                retired = "、".join(f"{LABELS[k]} {v}件" for k, v in report.retired.items())
                self.stdout.write(
                    f"監査ログなどから参照されているため無効化して残しました: {retired}"
                )
        elif seed.demo_present():
            counts = seed.demo_counts()
            self.stdout.write(
                f"デモデータは作成済みです（施設 {counts.facilities}件・組織 {counts.organizations}件・"
                f"利用者 {counts.users}人）。何も追加しませんでした。"
                "作り直すには --reset を付けて実行してください。"
            )
            self.print_logins(seed.seed_feature_demos())
            return
        started = time.monotonic()
        try:
            result = seed.seed_demo(facilities=facilities)
        except seed.SeedConflict as e:
            raise CommandError(str(e)) from e
        elapsed = time.monotonic() - started
        kinds = dict(FacilityKind.choices)
        self.stdout.write(
            self.style.SUCCESS(
                f"デモ地域を作成しました（{elapsed:.1f}秒）: 施設 {result.facilities}件・"
                f"組織 {result.organizations}件・利用者 {result.users}人"
            )
        )
        breakdown = "、".join(
            f"{kinds.get(k, k)} {n}"
            for k, n in sorted(result.by_kind.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        self.stdout.write(f"  種別: {breakdown}")
        self.print_logins(seed.seed_feature_demos())

    def print_logins(self, extra: list[tuple[str, str, str, str]]) -> None:
        roles = dict(Role.choices)
        header = ("ログインID", "パスワード", "役割", "所属", "二要素認証の秘密鍵", "まず試すこと")
        rows = [
            (login.username, DEMO_PASSWORD, roles[login.role], org, login.hint)
            for login, org in demo_logins()
        ] + [(username, DEMO_PASSWORD, role, org, hint) for username, role, org, hint in extra]
        secrets = demo_secrets([r[0] for r in rows])
        table = [header, *[(*r[:4], secrets.get(r[0], "-"), r[4]) for r in rows]]
        widths = [max(_width(r[i]) for r in table) for i in range(5)]
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("デモ用ログイン（パスワードは全員共通）"))
        for i, row in enumerate(table):
            line = "  ".join(_pad(c, w) for c, w in zip(row[:5], widths, strict=True))
            self.stdout.write(f"{line}  {row[5]}")
            if i == 0:
                self.stdout.write("-" * (sum(widths) + 2 * 5 + _width(header[5])))
        self.stdout.write("")
        self.stdout.write(
            "二要素認証の秘密鍵（base32）を認証アプリ（Google Authenticator など）に"
            "「セットアップキーを入力」で登録し、ログイン後に表示される6桁の確認コードを入力します。"
        )
        if usage := usage_lines():
            self.stdout.write("")
            for line in usage:
                self.stdout.write(line)
        self.stdout.write(
            "admin は管理画面 /admin/ も使えます。"
            "ここにある人物・施設名・電話番号はすべて架空のものです。"
        )
