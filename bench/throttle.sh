#!/usr/bin/env bash
# Run a benchmark as if on a slower host: the command, its children and every PostgreSQL
# backend started meanwhile share a CPU quota (a cgroup), then everything is moved back.
#
#   bench/throttle.sh 0.85 python bench/loadgen.py --start-server
#   bench/throttle.sh 0.85 python bench/import_bench.py --only postgres
#
# CORES is the CPU time the group may use per wall-clock second (0.85 = 0.85 of one core,
# spread over both). 0.85 of this machine's 2 cores is the speed of the slowest host seen in
# session 2 (its calibration loop took 2.4 times as long as on the host of session 3), so a
# throughput met under 0.85 is met there too. A quota is not a slower CPU (work runs at full
# speed in bursts, then waits), so read latencies under it with care; throughput and wall time
# of CPU-bound work are what it emulates. Needs root and the cgroup cpu controller (v1 or v2);
# the PostgreSQL postmaster is moved into the group so that the backends it forks are counted.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,8p' "$0"; exit 2; }
cores=$1; shift
period=100000
quota=$(python3 -c "print(int($cores * $period))")

pidfile=$(ls /var/run/postgresql/*.pid 2>/dev/null | head -n1 || true)
[ -n "$pidfile" ] || { echo "no PostgreSQL pid file in /var/run/postgresql" >&2; exit 1; }
postmaster=$(head -n1 "$pidfile")

if [ -d /sys/fs/cgroup/cpu ] && [ -w /sys/fs/cgroup/cpu ]; then   # cgroup v1
  root=/sys/fs/cgroup/cpu; group=$root/renkei-bench
  mkdir -p "$group"
  echo "$period" > "$group/cpu.cfs_period_us"; echo "$quota" > "$group/cpu.cfs_quota_us"
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then               # cgroup v2
  root=/sys/fs/cgroup; group=$root/renkei-bench
  mkdir -p "$group"
  echo "$quota $period" > "$group/cpu.max"
else
  echo "no writable cgroup cpu controller" >&2; exit 1
fi

restore() {
  while read -r pid; do echo "$pid" > "$root/cgroup.procs" 2>/dev/null || true; done < "$group/cgroup.procs"
  rmdir "$group" 2>/dev/null || true
}
trap restore EXIT
for pid in "$postmaster" $(pgrep -P "$postmaster"); do echo "$pid" > "$group/cgroup.procs"; done
echo $$ > "$group/cgroup.procs"
echo "throttled to $cores of a core's time per second: $*" >&2
"$@"
