"""Scheduled house-keeping of accounts, run by the job queue (renkei.lib.jobs)."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings

from renkei.lib.jobs import job


@job(periodic="15 4 * * *", retries=0)
def clear_expired_sessions() -> None:
    """What `manage.py clearsessions` does, daily at 04:15 Japan time."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


class AuditChainBroken(Exception):
    """Raised by the daily check so that the failure is recorded (renkei.ops) and alerted."""


@job(periodic="30 3 * * *", retries=0)
def verify_audit_chain() -> None:
    """Walk the audit log's hash chain daily at 03:30 and write the anchor (the latest id and
    digest) to the log output, where it is kept outside the database (ADR 0015)."""
    from renkei.accounts.audit_chain import logger, verify

    report = verify()
    if not report.ok:
        for line in report.problems():
            logger.error("audit chain broken: %s", line)
        raise AuditChainBroken("; ".join(report.problems()))
    logger.info(
        "audit anchor %s (%d entries verified in %.1f s)",
        report.latest or "none",
        report.checked,
        report.seconds,
    )
