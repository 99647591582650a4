from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What an operator watches: the job queue and the jobs that failed."""

    name = "renkei.ops"
    verbose_name = "運用（ジョブキュー）"

    def ready(self) -> None:
        # Registers `check --deploy`'s refusal of demo-only settings.
        import renkei.lib.startup  # noqa: F401
        from renkei.lib.jobs import job_failed
        from renkei.ops.signals import record_failure

        job_failed.connect(record_failure, dispatch_uid="renkei.ops.record_failure")
