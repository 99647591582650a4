"""Scheduled house-keeping of accounts, run by the job queue (renkei.lib.jobs)."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings

from renkei.lib.jobs import job


@job(periodic="15 4 * * *", retries=0)
def clear_expired_sessions() -> None:
    """What `manage.py clearsessions` does, daily at 04:15 Japan time."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
