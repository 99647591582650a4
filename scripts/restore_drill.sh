#!/usr/bin/env bash
# Restore drill (docs/operations.md "Backups"): restore one backup generation made by
# scripts/backup.sh into a NEW database, and prove it is whole:
#   - checksums of the generation (SHA256SUMS) match;
#   - every table holds exactly as many rows as the dump carries;
#   - the media archive unpacks, with as many files as were backed up;
#   - the audit log's hash chain verifies (manage.py verify_audit) and every consultation's
#     version chain verifies (manage.py verify_consultations);
# then report the time taken, and drop the drill database (DRILL_KEEP=1 keeps it).
#
#   DRILL_SERVER_URL=postgres://postgres@127.0.0.1:5432 scripts/restore_drill.sh /srv/backups/renkei-20261206-021500
#
# Encrypted generations are decrypted with gpg: run the drill where the private key is (the
# offline copy's machine), not on the backup host. Exit status 0 only when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."

generation=${1:?usage: scripts/restore_drill.sh BACKUP_GENERATION_DIR}
PY=${PYTHON:-.venv/bin/python}
if [[ -z "${DRILL_SERVER_URL:-}" ]]; then
  : "${DATABASE_URL:?set DRILL_SERVER_URL (postgres://user@host:port) or DATABASE_URL}"
  DRILL_SERVER_URL=$(sed -E 's#^(postgres(ql)?://[^/]*).*#\1#' <<<"$DATABASE_URL")
fi
drill_db=${DRILL_DATABASE:-renkei_drill_$(date -u +%Y%m%d%H%M%S)_$$}
drill_url="$DRILL_SERVER_URL/$drill_db"
started=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
fail() {
  echo "restore drill: FAILED: $*" >&2
  exit 1
}

tmp=$(mktemp -d)
cleanup() {
  rm -rf "$tmp"
  if [[ "${DRILL_KEEP:-}" != "1" ]]; then
    psql "$DRILL_SERVER_URL/postgres" -XqAt -c "DROP DATABASE IF EXISTS \"$drill_db\"" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

echo "restore drill: $generation -> database $drill_db"
(cd "$generation" && sha256sum --quiet --check SHA256SUMS) || fail "checksums do not match"

for f in db.dump media.tar; do
  if [[ -f "$generation/$f.gpg" ]]; then
    gpg --batch --quiet --yes --decrypt --output "$tmp/$f" "$generation/$f.gpg" || fail "cannot decrypt $f.gpg"
  else
    cp "$generation/$f" "$tmp/$f"
  fi
done

# Rows per table as the dump carries them: each COPY block has one line per row.
pg_restore --data-only --file=- "$tmp/db.dump" | awk '
  /^COPY / { table = $2; sub(/^public\./, "", table); rows[table] = 0; inblock = 1; next }
  inblock && $0 == "\\." { inblock = 0; next }
  inblock { rows[table]++ }
  END { for (t in rows) print t, rows[t] }' | sort >"$tmp/expected"

restore_started=$(date +%s.%N)
psql "$DRILL_SERVER_URL/postgres" -XqAt -c "CREATE DATABASE \"$drill_db\"" >/dev/null
pg_restore --exit-on-error --no-owner --no-privileges --jobs=2 --dbname="$drill_url" "$tmp/db.dump" ||
  fail "pg_restore failed"
restore_seconds=$(elapsed "$restore_started")

# The same counts in the restored database, in one query.
awk '{ gsub(/"/, "", $1); printf "%sSELECT %s, count(*) FROM \"%s\"", (NR > 1 ? " UNION ALL " : ""), "'"'"'" $1 "'"'"'", $1 }' \
  "$tmp/expected" >"$tmp/count.sql"
psql "$drill_url" -XqAt -F ' ' -f "$tmp/count.sql" | sort >"$tmp/actual"
if ! diff -u "$tmp/expected" "$tmp/actual" >"$tmp/counts.diff"; then
  cat "$tmp/counts.diff" >&2
  fail "row counts differ between the dump and the restored database"
fi
tables=$(wc -l <"$tmp/expected")
total_rows=$(awk '{ s += $2 } END { print s + 0 }' "$tmp/expected")
for t in accounts_auditentry desk_consultationversion directory_facility; do
  grep -q "^$t " "$tmp/expected" || fail "table $t missing from the dump"
done

mkdir -p "$tmp/media"
tar --extract --file="$tmp/media.tar" --directory="$tmp/media" || fail "media archive does not unpack"
media_files=$(find "$tmp/media" -type f | wc -l)
expected_media=$(sed -n 's/^media_files=//p' "$generation/INFO")
[[ "$media_files" == "$expected_media" ]] || fail "media: $media_files files, backup says $expected_media"

DATABASE_URL="$drill_url" JOBS_BACKEND=immediate "$PY" manage.py verify_audit ||
  fail "the audit log's hash chain does not verify"
DATABASE_URL="$drill_url" JOBS_BACKEND=immediate "$PY" manage.py verify_consultations ||
  fail "a consultation's version chain does not verify"

audit_rows=$(awk '$1 == "accounts_auditentry" { print $2 }' "$tmp/expected")
echo "restore drill: OK — $tables tables, $total_rows rows (audit log $audit_rows) and" \
  "$media_files media files restored and verified;" \
  "pg_restore ${restore_seconds} s, whole drill $(elapsed "$started") s"
