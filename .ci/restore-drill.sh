#!/usr/bin/env bash
# CI: the backup and restore drill on PostgreSQL (issue 17 §6, docs/operations.md "Backups").
# A seeded database is backed up encrypted (a throwaway gpg key), restored into a new database
# and verified by scripts/restore_drill.sh; then an audit entry is edited with the triggers off,
# and the drill of a new backup must fail.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
server=${DRILL_SERVER_URL:-postgres://postgres@127.0.0.1:5432}
src=renkei_ci_drill_src
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  psql "$server/postgres" -XqAt -c "DROP DATABASE IF EXISTS $src" >/dev/null 2>&1 || true
}
trap cleanup EXIT
started=$(date +%s)

psql "$server/postgres" -XqAt -c "DROP DATABASE IF EXISTS $src" -c "CREATE DATABASE $src"
export DEBUG=True JOBS_BACKEND=immediate DATABASE_URL="$server/$src" DRILL_SERVER_URL="$server"
$PY manage.py migrate -v0
$PY manage.py seed_demo --facilities 200 >/dev/null
mkdir -p "$work/media/imports" && echo "番号,名称" >"$work/media/imports/sample.csv"

export GNUPGHOME="$work/gnupg" BACKUP_DIR="$work/backups" MEDIA_ROOT="$work/media"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-generate-key 'Renkei drill <drill@renkei.invalid>' \
  future-default default never
BACKUP_GPG_RECIPIENT=drill@renkei.invalid scripts/backup.sh
scripts/restore_drill.sh "$(find "$BACKUP_DIR" -maxdepth 1 -name 'renkei-*' | sort | tail -n1)"

psql "$DATABASE_URL" -XqAt >/dev/null <<'SQL'
ALTER TABLE accounts_auditentry DISABLE TRIGGER USER;
UPDATE accounts_auditentry SET actor_label = 'someone else'
 WHERE id = (SELECT id FROM accounts_auditentry ORDER BY id OFFSET 3 LIMIT 1);
ALTER TABLE accounts_auditentry ENABLE TRIGGER USER;
SQL
sleep 1 # a new generation's name (one per second)
BACKUP_GPG_RECIPIENT=drill@renkei.invalid scripts/backup.sh
if scripts/restore_drill.sh "$(find "$BACKUP_DIR" -maxdepth 1 -name 'renkei-*' | sort | tail -n1)" 2>"$work/tampered.err"; then
  echo "restore drill passed a backup whose audit log was edited" >&2
  exit 1
fi
grep -q "で切れています" "$work/tampered.err" || { cat "$work/tampered.err" >&2; exit 1; }
echo "restore drill: a tampered audit log is refused, as it must be"
echo "restore-drill step: $(($(date +%s) - started)) s"
