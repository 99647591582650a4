"""Run background jobs: a Procrastinate worker on PostgreSQL, the periodic jobs on SQLite.

    manage.py run_worker                      # every queue, the periodic jobs scheduled too
    manage.py run_worker --queues mail        # only mail (options of `procrastinate worker`)

With JOBS_BACKEND=immediate (the SQLite demo) enqueued jobs already run in the web process;
this command then only runs the periodic jobs when they are due (the stall sweep, reminders,
clean-ups), one at a time, until it is stopped.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from renkei.lib import jobs

TOKYO = ZoneInfo("Asia/Tokyo")


class Command(BaseCommand):
    help = "バックグラウンドジョブを実行します（PostgreSQL: ワーカー、SQLite: 定期ジョブのみ）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("worker_args", nargs="*", help="procrastinate worker の引数")
        parser.add_argument(
            "--once",
            action="store_true",
            help="SQLite: 今の時点で期限の来た定期ジョブを一度だけ実行",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.JOBS_BACKEND == "procrastinate":
            from procrastinate.contrib.django import app
            from procrastinate.contrib.django.django_connector import DjangoConnector

            # Procrastinate's command swaps the Django connector for the one this returns:
            # its pool, with the connection check of ADR 0062 (ADR 0083).
            if isinstance(app.connector, DjangoConnector):
                app.connector.get_worker_connector = jobs.worker_connector  # type: ignore[method-assign]
            call_command("procrastinate", "worker", *options["worker_args"])
            return
        jobs.import_job_modules()
        periodic = [j for j in jobs.registry.values() if j.periodic]
        if options["once"]:
            for job in periodic:
                self._run(job)
            return
        self.stdout.write(f"定期ジョブ {len(periodic)}件を実行します（Ctrl+C で停止）")
        now = dt.datetime.now(TOKYO)
        schedule = {j.name: croniter(j.periodic, now) for j in periodic}
        due = {name: it.get_next(dt.datetime) for name, it in schedule.items()}
        while True:
            now = dt.datetime.now(TOKYO)
            for job in periodic:
                if due[job.name] <= now:
                    self._run(job)
                    due[job.name] = schedule[job.name].get_next(dt.datetime)
            # Like a request: no connection kept past its age, none broken reused.
            close_old_connections()
            time.sleep(max(1.0, min((d - now).total_seconds() for d in due.values())))

    def _run(self, job: jobs.Job) -> None:
        try:
            job()
        except Exception:
            jobs.logger.exception("periodic job %s failed", job.name)
