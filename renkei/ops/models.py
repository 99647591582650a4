from __future__ import annotations

from django.db import models
from django.utils import timezone


class JobFailure(models.Model):
    """One failed attempt of a background job, with its error (renkei.lib.jobs).

    Procrastinate keeps a job's status but not why it failed; the error lands here, next to
    the job's id, so that an operator sees it in the admin without reading the worker's log.
    """

    job_id = models.BigIntegerField("ジョブID", null=True, blank=True, db_index=True)
    task_name = models.CharField("ジョブ", max_length=200)
    attempt = models.PositiveIntegerField("試行", default=0)
    will_retry = models.BooleanField("再試行予定", default=False)
    error = models.TextField("エラー")
    at = models.DateTimeField("日時", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "ジョブの失敗"
        verbose_name_plural = "ジョブの失敗"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.job_id or '-'} ({self.at:%Y-%m-%d %H:%M})"
