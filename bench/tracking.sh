#!/usr/bin/env bash
# GET throughput with client-side caching on, relica beside redis-server on
# loopback: 50 RESP3 connections with CLIENT TRACKING on (default mode),
# each reading its own 1,000 keys (so the tracking table holds 50,000
# keys), one request in flight per connection, closed loop on one epoll
# thread as redis-benchmark -c 50 runs. A second load adds writes: one SET
# of a cached key per 10 rounds of GETs, so invalidation messages flow too.
# redis-benchmark cannot turn tracking on, so the load comes from
# crates/server/examples/tracking_load.rs. Both servers run side by side and
# the runs alternate between them (ROUNDS rounds, default 3), so that a
# busy machine weighs on both alike; prints each run, the medians and the
# ratio relica / redis.
#
#   bash bench/tracking.sh [seconds]          (default 5 per run)
#   ROUNDS=5 RELICA=/path/to/relica-server bash bench/tracking.sh
#
# Needs redis-server and redis-cli. Run it by hand on a quiet machine;
# nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SECS=${1:-5}
ROUNDS=${ROUNDS:-3}
cargo build --release -q -p relica-server --example tracking_load
LOAD=${CARGO_TARGET_DIR:-target}/release/examples/tracking_load

declare -A PORT RUNS
launch "$(command -v redis-server)" "$WORK/redis"
PORT[redis]=$LPORT
launch "$RELICA" "$WORK/relica"
PORT[relica]=$LPORT

median() { python3 -c 'import sys, statistics; print(int(statistics.median(float(x) for x in sys.argv[1:])))' "$@"; }

for mode in 0 10; do
  for round in $(seq "$ROUNDS"); do
    for name in redis relica; do
      out=$("$LOAD" "${PORT[$name]}" 50 1000 "$SECS" "$mode")
      rps=$(echo "$out" | sed -n 's/.*gets_per_sec=\([0-9]*\).*/\1/p')
      RUNS[$name,$mode]="${RUNS[$name,$mode]:-} $rps"
      echo "round $round $name write_every=$mode: $out"
    done
  done
done
for name in redis relica; do
  echo "$name: $(redis-cli -p "${PORT[$name]}" info | grep -E '^tracking_' | tr -d '\r' | tr '\n' ' ')"
done

printf '%-48s %10s %10s %6s\n' "load (median GETs/s)" redis relica ratio
for mode in 0 10; do
  # shellcheck disable=SC2086 # the runs are a list of words
  r=$(median ${RUNS[redis,$mode]}) l=$(median ${RUNS[relica,$mode]})
  label="GET, 50 tracking clients"
  [ "$mode" = 0 ] || label="$label, 1 SET per $mode rounds"
  printf '%-48s %10s %10s %6s\n' "$label" "$r" "$l" \
    "$(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$l" "$r")"
done
