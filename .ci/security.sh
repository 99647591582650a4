#!/usr/bin/env bash
# Security gates (issue 17 §7): ruff's flake8-bandit rules over renkei/, and pip-audit over both
# lock files.
#
# pip-audit asks a vulnerability service about each pinned version: first PyPI's JSON API
# (https://pypi.org/pypi/<name>/<version>/json, `-s pypi`), then, if PyPI answered for none of
# the packages, OSV (https://api.osv.dev, `-s osv`). The step fails on any known vulnerability and
# on any package a service that answered could not audit. Only when neither service answered for
# any package does it skip, naming what each said (a 404 for every per-version page, a name that
# does not resolve) instead of passing silently or failing on the network.
#
# Seen on the development sandbox (2026-12-07): its registry access serves PyPI's project pages
# (/pypi/<name>/json) but answers 404 for every per-version page, and api.osv.dev does not
# resolve, so there the step skips with both reasons; on a runner with network it audits.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

echo "[security] ruff S (flake8-bandit) over renkei/"
# The same rules and justified exceptions as pyproject (S101 is ignored there: asserts narrow types).
.venv/bin/ruff check renkei --select S --ignore S101

audit() {  # $1 lock file, $2 service; exit 0 audited clean, 1 vulnerable, 3 no answer
  local out status=0
  out=$(mktemp)
  .venv/bin/pip-audit -r "$1" -s "$2" --no-deps --disable-pip --progress-spinner off \
    --format json --output "$out" 2>"$out.err" || status=$?
  $PY - "$out" "$1" "$2" "$status" <<'PYEOF'
import json, pathlib, sys

path, lock, service, status = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
try:
    deps = json.load(open(path))["dependencies"]
except (OSError, ValueError, KeyError):
    err = pathlib.Path(path + ".err").read_text(errors="replace").strip().splitlines()
    print(f"  {service}: no report (exit {status}): {err[-1][:300] if err else 'no output'}")
    sys.exit(3)
vulnerable = [d for d in deps if d.get("vulns")]
skipped = [d for d in deps if d.get("skip_reason")]
for d in vulnerable:
    ids = ", ".join(v["id"] + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else "") for v in d["vulns"])
    print(f"  VULNERABLE {d['name']} {d['version']}: {ids}")
if vulnerable:
    print(f"[security] {len(vulnerable)} vulnerable package(s) in {lock} ({service})")
    sys.exit(1)
if deps and len(skipped) == len(deps):
    reason = skipped[0]["skip_reason"]
    if all("not found on PyPI" in d["skip_reason"] for d in skipped):
        reason = ("404 for the per-version JSON page of every pinned package "
                  "(https://pypi.org/pypi/<name>/<version>/json)")
    print(f"  {service}: answered for none of the {len(deps)} packages: {reason}")
    sys.exit(3)
if skipped:
    for d in skipped:
        print(f"  NOT AUDITED {d['name']} {d.get('version', '')}: {d['skip_reason']}")
    print(f"[security] {len(skipped)} package(s) of {lock} could not be audited ({service})")
    sys.exit(1)
print(f"  {len(deps)} packages audited by {service}, no known vulnerabilities")
PYEOF
  status=$?
  rm -f "$out" "$out.err"
  return $status
}

for lock in requirements.lock requirements-dev.lock; do
  echo "[security] pip-audit -r $lock"
  result=3
  for service in pypi osv; do
    result=0
    audit "$lock" "$service" || result=$?
    [ "$result" -eq 3 ] || break
  done
  case $result in
    0) ;;
    3) echo "  SKIPPED: neither vulnerability service answered (reasons above): $lock not audited." ;;
    *) exit 1 ;;
  esac
done
