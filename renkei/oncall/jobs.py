"""Scheduled work of the rotas, run by the job queue (renkei.lib.jobs)."""

from __future__ import annotations

from renkei.lib.jobs import job
from renkei.oncall.actions import alert_gaps


@job(periodic="15 * * * *", retries=0)
def alert_rota_gaps() -> int:
    """Hourly: tell organisers about published shifts with nobody on duty that start within the
    rota's alert window, once per shift. Returns how many shifts were alerted."""
    return alert_gaps()


@job(periodic="30 8 * * *", retries=0)
def alert_stale_backup_beds() -> int:
    """Daily: tell each hospital, once per registration, about registered patients whose last
    information exchange is older than three months."""
    from renkei.oncall.beds import alert_stale

    return alert_stale()


@job(periodic="0 9 * * *", retries=0)
def remind_cooperation_confirmations() -> int:
    """Daily: once a fiscal year, remind care facilities whose yearly confirmation with their
    協力医療機関 has not been filed to the municipality."""
    from renkei.oncall.beds import remind_confirmations

    return remind_confirmations()
