"""Scheduled work of the rotas, run by the job queue (renkei.lib.jobs)."""

from __future__ import annotations

from renkei.lib.jobs import job
from renkei.oncall.actions import alert_gaps


@job(periodic="15 * * * *", retries=0)
def alert_rota_gaps() -> int:
    """Hourly: tell organisers about published shifts with nobody on duty that start within the
    rota's alert window, once per shift. Returns how many shifts were alerted."""
    return alert_gaps()
