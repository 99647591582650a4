#!/usr/bin/env bash
# Two gunicorn servers and two run_worker workers on one PostgreSQL database, with a local SMTP
# sink: a placement round, a burst of 100 event applications, an import whose worker is killed,
# mail through a refusing then working SMTP server (tests/test_scale_out.py, ADR 0039).
set -euo pipefail
cd "$(dirname "$0")/.."
RENKEI_MULTIPROCESS=1 DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}" \
  DB_TEST_NAME="${DB_TEST_NAME:-test_renkei_multiprocess}" \
  .venv/bin/python -m pytest -p no:cacheprovider --create-db -s -q tests/test_scale_out.py
