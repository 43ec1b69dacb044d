#!/usr/bin/env bash
# Replication lag under write load: a master (relica, and redis-server for
# comparison) with a replica (a real redis-server, and relica), in sync;
# redis-benchmark SET load against the master while bench/repl_probe.py
# samples, every ~10 ms, slave_repl_offset (replica INFO replication) and master_repl_offset (master
# INFO replication). Reports the max, mean and p99 lag in bytes and whether
# the replica converges (offsets equal) within a deadline after the load
# ends. Target: relica keeps the replica within 1 MB under SET load.
#
#   bash bench/repl_lag.sh
#   REQUESTS=200000 NP_REQUESTS=50000 bash bench/repl_lag.sh     (small run)
#
# Environment:
#   REQUESTS      pipelined run: -n (default 2000000), -P 16
#   NP_REQUESTS   non-pipelined run: -n (default 500000); 0 skips it
#   KEYSPACE      -r (default 1000000)
#   MASTERS       default "relica redis"
#   REPLICAS      default "redis relica" (each master is run with each)
#   CONVERGE      seconds the replica may take to catch up after the load (10)
#   INTERVAL      sampling interval in seconds (0.01)
#
#   ORDER         replica-first (default) or master-first
#
# The two INFOs of a sample are separate requests, so a sample is not
# atomic. Read replica first, then master (the default), the master can only
# have moved ahead in between: the lag is slightly overestimated, an upper
# bound, which is the safe side for a "within 1 MB" target. Read master
# first, the replica can advance past the master's (older) offset in
# between, so the lag is underestimated and can even come out negative.
#
# Needs redis-server, redis-cli, redis-benchmark and python3. Builds relica in
# release mode first (honours CARGO_TARGET_DIR). Run it by hand on a quiet
# machine; nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-2000000}
NP_REQUESTS=${NP_REQUESTS:-500000}
KEYSPACE=${KEYSPACE:-1000000}
MASTERS=${MASTERS:-relica redis}
REPLICAS=${REPLICAS:-redis relica}
CONVERGE=${CONVERGE:-10}
export INTERVAL=${INTERVAL:-0.01}
export ORDER=${ORDER:-replica-first}
case $ORDER in replica-first|master-first) ;; *) echo "ORDER: replica-first or master-first" >&2; exit 2 ;; esac
TARGET=$((1024 * 1024))
for b in redis-server redis-cli redis-benchmark python3; do
  command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 1; }
done
for m in $MASTERS $REPLICAS; do
  case $m in relica|redis) ;; *) echo "unknown server $m (relica redis)" >&2; exit 2 ;; esac
done
# shellcheck source=bench/lib.sh
source bench/lib.sh
info_field() { # port section field
  redis-cli -p "$1" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f {print $2}'
}
# in_sync mport rport deadline: link up and offsets equal.
in_sync() {
  local end=$((SECONDS + $3)) mo ro
  while ((SECONDS < end)); do
    if [ "$(info_field "$2" replication master_link_status)" = up ]; then
      mo=$(info_field "$1" replication master_repl_offset)
      ro=$(info_field "$2" replication slave_repl_offset)
      [ -n "$mo" ] && [ "$mo" = "$ro" ] && return 0
    fi
    sleep 0.05
  done
  return 1
}

FAILED=0
fmt_bytes() { python3 -c "import sys; b=float(sys.argv[1]); print(f'{b/1048576:.2f}MB' if abs(b) >= 1048576 else f'{b/1024:.0f}KB')" "$1"; }

# one_load mport rport master replica label benchmark-args...
one_load() {
  local mport=$1 rport=$2 master=$3 replica=$4 label=$5; shift 5
  local stopf="$WORK/stop-$master-$replica-$label" out="$WORK/probe-$master-$replica-$label"
  rm -f "$stopf" "$stopf.ready"
  DEADLINE=$CONVERGE python3 "$PROBE" lag "$mport" "$rport" "$stopf" >"$out" &
  local ppid=$!
  PIDS+=("$ppid")
  local t
  for t in $(seq 200); do [ -e "$stopf.ready" ] && break; sleep 0.05; done
  [ -e "$stopf.ready" ] || { echo "$master $label: lag probe did not start" >&2; exit 1; }
  local rps
  rps=$(redis-benchmark -h 127.0.0.1 -p "$mport" -t set -r "$KEYSPACE" -d 100 -q "$@" 2>/dev/null \
    | tr '\r' '\n' | grep -o 'SET: [0-9.]* requests per second' | tail -1 | awk '{print $2}') || true
  touch "$stopf"
  local rc=0
  wait "$ppid" || rc=$?
  forget "$ppid"
  [ "$rc" = 0 ] || { echo "$master $label: lag probe failed (rc $rc)" >&2; FAILED=1; return; }
  local n iv max mean p99 conv cms mo ro amax
  read -r n iv max mean p99 conv cms mo ro amax <"$out"
  local verdict="" converged
  if [ "$conv" = 1 ]; then converged="converged in $cms ms"; else
    converged="NOT converged within $CONVERGE s (master $mo, replica $ro)"; FAILED=1; fi
  if [ "$master" = relica ]; then
    if ((max <= TARGET)); then verdict="target max<=1MB: ok"; else verdict="target max<=1MB: MISS"; fi
  fi
  printf '%-7s %-7s %-16s %10s %7s %5s %10s %9s %10s %10s  %s%s\n' "$master" "$replica" "$label" "${rps:-?}" "$n" "$iv" \
    "$max" "($(fmt_bytes "$max"))" "$mean" "$p99" "$converged" "${verdict:+; $verdict}"
}

binary() { if [ "$1" = relica ]; then echo "$RELICA"; else echo redis-server; fi; }

run_pair() { # master replica, each relica|redis
  local m=$1 r=$2
  launch "$(binary "$m")" "$WORK/m-$m-$r"
  local mport=$LPORT mpid=$LPID
  launch "$(binary "$r")" "$WORK/r-$m-$r"
  local rport=$LPORT rpid=$LPID
  redis-cli -p "$rport" replicaof 127.0.0.1 "$mport" >/dev/null
  in_sync "$mport" "$rport" 60 || { echo "$m: replica not in sync after 60 s" >&2; exit 1; }
  one_load "$mport" "$rport" "$m" "$r" "P16 n=$REQUESTS" -n "$REQUESTS" -P 16
  if [ "$NP_REQUESTS" != 0 ]; then
    one_load "$mport" "$rport" "$m" "$r" "P1 n=$NP_REQUESTS" -n "$NP_REQUESTS"
  fi
  stop "$rport" "$rpid"
  stop "$mport" "$mpid"
}

echo "== replication lag under SET load (-r $KEYSPACE -d 100), sampled every ${INTERVAL}s"
if [ "${ORDER:-replica-first}" = master-first ]; then
  echo "   lag = master_repl_offset (master INFO, read FIRST) - slave_repl_offset (replica INFO, read"
  echo "   second): two requests, not atomic; read in this order the lag is slightly UNDERestimated"
  echo "   (the replica may pass the master's older offset; negative values are possible)."
else
  echo "   lag = master_repl_offset (master INFO, read second) - slave_repl_offset (replica INFO, read"
  echo "   FIRST): two requests, not atomic, so the lag is slightly overestimated (an upper bound)."
fi
echo "   max/mean/p99 over the samples taken while redis-benchmark runs; convergence: time after"
echo "   the load ends until the replica offset equals the master offset (deadline ${CONVERGE}s)."
printf '%-7s %-7s %-16s %10s %7s %5s %10s %9s %10s %10s  %s\n' master replica load "SET rps" samples "iv ms" \
  "max lag B" "" "mean lag B" "p99 lag B" convergence
for r in $REPLICAS; do
  for m in $MASTERS; do
    run_pair "$m" "$r"
  done
done
exit "$FAILED"
