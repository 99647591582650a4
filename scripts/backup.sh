#!/usr/bin/env bash
# Back up Renkei (docs/operations.md "Backups"): the database as a pg_dump custom-format archive,
# MEDIA_ROOT as a tar, and a manifest of checksums, into a new generation directory
#   $BACKUP_DIR/renkei-YYYYmmdd-HHMMSS/
# encrypted with gpg to BACKUP_GPG_RECIPIENT (a public key: the backup host cannot read its own
# backups), keeping the newest BACKUP_KEEP generations. Keys and secrets (SECRET_KEY,
# FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY) are NOT in the backup: they are kept apart (R17).
#
#   DATABASE_URL=postgres://renkei_owner@db/renkei BACKUP_DIR=/srv/backups \
#   BACKUP_GPG_RECIPIENT=backup@renkei.example.jp scripts/backup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?set DATABASE_URL (postgres://…) of the database to back up}"
BACKUP_DIR=${BACKUP_DIR:-var/backups}
MEDIA_ROOT=${MEDIA_ROOT:-${RENKEI_VAR_DIR:-var}/media}
BACKUP_KEEP=${BACKUP_KEEP:-14}
RECIPIENT=${BACKUP_GPG_RECIPIENT:-}
if [[ -z "$RECIPIENT" && "${BACKUP_UNENCRYPTED:-}" != "1" ]]; then
  echo "backup: set BACKUP_GPG_RECIPIENT (or BACKUP_UNENCRYPTED=1 for a test)" >&2
  exit 2
fi
case "$DATABASE_URL" in postgres://* | postgresql://*) ;; *)
  echo "backup: DATABASE_URL must be a PostgreSQL URL" >&2
  exit 2
  ;;
esac

started=$(date +%s)
stamp=$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$BACKUP_DIR"
work="$BACKUP_DIR/.renkei-$stamp.partial"
final="$BACKUP_DIR/renkei-$stamp"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

# One consistent snapshot of the whole database (pg_dump runs in a single transaction).
pg_dump --format=custom --compress=6 --file="$work/db.dump" "$DATABASE_URL"

if [[ -d "$MEDIA_ROOT" ]]; then
  tar --create --file="$work/media.tar" --directory="$MEDIA_ROOT" .
  media_files=$(find "$MEDIA_ROOT" -type f | wc -l)
else
  tar --create --file="$work/media.tar" --files-from=/dev/null
  media_files=0
fi

{
  echo "created_utc=$stamp"
  echo "server_version=$(psql "$DATABASE_URL" -XAtc 'SHOW server_version')"
  echo "pg_dump=$(pg_dump --version)"
  echo "commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "media_files=$media_files"
  echo "encrypted=$([[ -n "$RECIPIENT" ]] && echo gpg || echo no)"
} >"$work/INFO"

if [[ -n "$RECIPIENT" ]]; then
  for f in db.dump media.tar; do
    gpg --batch --yes --trust-model always --encrypt --recipient "$RECIPIENT" \
      --output "$work/$f.gpg" "$work/$f"
    rm -f "$work/$f"
  done
fi
(cd "$work" && sha256sum -- db.dump* media.tar* INFO >SHA256SUMS)

mv "$work" "$final"
trap - EXIT

# Generations: keep the newest BACKUP_KEEP, remove older ones.
mapfile -t generations < <(find "$BACKUP_DIR" -maxdepth 1 -type d -name 'renkei-*' | sort -r)
for old in "${generations[@]:$BACKUP_KEEP}"; do
  rm -rf -- "$old"
done

size=$(du -sh "$final" | cut -f1)
echo "backup: $final ($size, $media_files media files, $(($(date +%s) - started)) s;" \
  "${#generations[@]} generation(s) before pruning, keeping $BACKUP_KEEP)"
