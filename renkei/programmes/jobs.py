"""The app's jobs, imported by the worker at start (renkei.lib.jobs.import_job_modules)."""

from __future__ import annotations

from renkei.programmes.imports import run_import

__all__ = ["run_import"]
