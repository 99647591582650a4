#!/usr/bin/env bash
# A benchmark on an earlier commit and on this tree in one run, against the same database:
# "before" and "after" alternate ROUNDS times (default 1), so a drift of a shared host's load
# shows instead of passing for a speed-up. The earlier commit is exported to a temporary
# directory (no checkout, nothing in this tree changes) and uses this tree's .venv.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_oncall \
#     bench/before_after.sh d1c3140 python bench/oncall_bench.py --runs 1 --requests 200
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_care \
#     bench/before_after.sh d1c3140 python bench/care_bench.py --runs 100
#
# The command runs from each tree's root with .venv/bin first on PATH; both trees must have the
# same migrations (the database is shared).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,13p' "$0"; exit 2; }
rev=$1; shift
here=$(cd "$(dirname "$0")/.." && pwd)
before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
git -C "$here" archive "$rev" | tar -x -C "$before"
ln -s "$here/.venv" "$before/.venv"
# Collected static files (DEBUG off needs their manifest) are not in git: share this tree's.
if [ -e "$here/var" ] && [ ! -e "$before/var" ]; then ln -s "$here/var" "$before/var"; fi
for round in $(seq "${ROUNDS:-1}"); do
  for side in before after; do
    if [ "$side" = before ]; then dir=$before; what=$rev; else dir=$here; what="$(git -C "$here" rev-parse --short HEAD) (this tree)"; fi
    echo "== $side: $what, round $round; $(uptime)"
    (cd "$dir" && PATH="$dir/.venv/bin:$PATH" "$@")
  done
done
echo "== done; $(uptime)"
