#!/usr/bin/env bash
# Issue 9 §1: prove the two install paths that a green test run does not.
#  1. Production from requirements.lock ALONE (no dev tools in the environment): a fresh venv,
#     migrate, collectstatic, gunicorn with production settings, and the pages a visitor opens
#     first, plus a static file they link, all 200; /healthz 200.
#  2. The README's demo command (`python3 run.py demo`) from a fresh clone of this commit,
#     answering on its port.
# pip's download cache (PIP_CACHE_DIR, default ~/.cache/pip) keeps both installs fast.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
commit=$(git rev-parse HEAD)
PORT_PROD=${INSTALL_PATHS_PORT:-8110}
PORT_DEMO=$((PORT_PROD + 1))
work=$(mktemp -d /tmp/renkei-install-paths.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf "[install-paths %ss] %s\n" "$SECONDS" "$*"; }
fail() { say "FAILED: $*"; for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; exit 1; }

wait_for() {  # url, seconds
  for _ in $(seq 1 "$2"); do
    curl -s -o /dev/null -H 'X-Forwarded-Proto: https' "$1" && return 0
    sleep 1
  done
  return 1
}

expect_200() {  # url
  local code
  code=$(curl -s -o "$work/body" -w '%{http_code}' -H 'X-Forwarded-Proto: https' "$1")
  [ "$code" = 200 ] || { head -c 2000 "$work/body"; echo; fail "GET $1 answered $code"; }
  say "200 $1"
}

# --- 1. production from the runtime lock alone -------------------------------------------
say "venv from requirements.lock alone"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-compile --disable-pip-version-check -r requirements.lock
PY=$work/venv/bin/python
if "$PY" -c 'import pytest' 2>/dev/null || "$PY" -c 'import mypy' 2>/dev/null; then
  fail "dev tools leaked into the runtime venv"
fi
newkey() { "$PY" -c 'from renkei.lib.crypto import new_key; print(new_key())'; }

if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  db=renkei_install_paths_$$
  psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  database_url="postgres://postgres@127.0.0.1:5432/$db"
  trap 'cleanup; psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
else
  database_url="sqlite:///$work/renkei.sqlite3"
fi
say "database: ${database_url%%:*}"

export DEBUG=False ALLOWED_HOSTS=127.0.0.1,localhost DATABASE_URL="$database_url" \
  STATIC_ROOT="$work/static" MEDIA_ROOT="$work/media" RENKEI_VAR_DIR="$work/var" \
  JOBS_BACKEND=immediate
SECRET_KEY="ci-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
FIELD_ENCRYPTION_KEYS="ci:$(newkey)"
BLIND_INDEX_KEY="$(newkey)"
export SECRET_KEY FIELD_ENCRYPTION_KEYS BLIND_INDEX_KEY
mkdir -p "$work/var"

"$PY" manage.py migrate --noinput -v 0 || fail "migrate"
"$PY" manage.py collectstatic --noinput -v 0 || fail "collectstatic"
say "gunicorn on 127.0.0.1:$PORT_PROD (DEBUG=False)"
setsid "$work/venv/bin/gunicorn" renkei.wsgi --bind "127.0.0.1:$PORT_PROD" --workers 2 \
  >"$work/gunicorn.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$PORT_PROD/healthz" 60 || fail "gunicorn did not answer"
expect_200 "http://127.0.0.1:$PORT_PROD/healthz"
for path in / /directory/ /accounts/login/ /events/; do
  expect_200 "http://127.0.0.1:$PORT_PROD$path"
done
asset=$(curl -s -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$PORT_PROD/" \
  | grep -o 'href="/static/[^"]*\.css"' | head -n1 | sed 's/^href="//; s/"$//')
[ -n "$asset" ] || fail "the home page links no stylesheet"
expect_200 "http://127.0.0.1:$PORT_PROD$asset"
unset DEBUG ALLOWED_HOSTS DATABASE_URL STATIC_ROOT MEDIA_ROOT RENKEI_VAR_DIR JOBS_BACKEND \
  SECRET_KEY FIELD_ENCRYPTION_KEYS BLIND_INDEX_KEY

# --- 2. the README's demo command from a fresh clone ---------------------------------------
say "fresh clone of $commit: python3 run.py demo --port $PORT_DEMO"
git clone -q "$repo" "$work/clone"
git -C "$work/clone" checkout -q "$commit"
(cd "$work/clone" && exec setsid python3 run.py demo --port "$PORT_DEMO") >"$work/demo.log" 2>&1 &
pids+=($!)
# A fresh venv, a migration and the seed before the first answer; .ci/run runs this beside two
# other lanes on the same cores (ADR 0073), so the bound for "it never answers" is generous.
wait_for "http://127.0.0.1:$PORT_DEMO/" 480 || fail "the demo did not answer on $PORT_DEMO"
expect_200 "http://127.0.0.1:$PORT_DEMO/"
expect_200 "http://127.0.0.1:$PORT_DEMO/directory/"
grep -q "renkei-demo-2026" "$work/demo.log" || fail "the demo printed no logins"
say "ok"
