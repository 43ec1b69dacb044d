#!/usr/bin/env bash
# GET throughput with client-side caching on, relica beside redis-server on
# loopback: 50 RESP3 connections with CLIENT TRACKING on (default mode),
# each reading its own 1,000 keys (so the tracking table holds 50,000
# keys), one request in flight per connection as redis-benchmark -c 50.
# A second run adds a writer that changes one of the cached keys every 10
# rounds, so invalidation messages flow too. redis-benchmark cannot turn
# tracking on, so the load comes from crates/server/examples/tracking_load.rs.
# Prints GETs per second and the ratio relica / redis.
#
#   bash bench/tracking.sh [seconds]          (default 10 per run)
#   RELICA=/path/to/relica-server bash bench/tracking.sh
#
# Needs redis-server and redis-cli. Run it by hand on a quiet machine;
# nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SECS=${1:-10}
cargo build --release -q -p relica-server --example tracking_load
LOAD=${CARGO_TARGET_DIR:-target}/release/examples/tracking_load

declare -A RPS
for name in redis relica; do
  bin=$RELICA
  [ "$name" = redis ] && bin=$(command -v redis-server)
  launch "$bin" "$WORK/$name"
  for mode in 0 10; do
    out=$("$LOAD" "$LPORT" 50 1000 "$SECS" "$mode")
    RPS[$name,$mode]=$(echo "$out" | sed -n 's/.*gets_per_sec=\([0-9]*\).*/\1/p')
    echo "$name write_every=$mode: $out; $(redis-cli -p "$LPORT" info stats | grep -E '^tracking_total_(keys|items)' | tr -d '\r' | tr '\n' ' ')"
  done
  stop "$LPORT" "$LPID"
done

printf '%-40s %10s %10s %6s\n' run redis relica ratio
for mode in 0 10; do
  r=${RPS[redis,$mode]} l=${RPS[relica,$mode]}
  label="GET, 50 tracking clients"
  [ "$mode" = 0 ] || label="$label, a SET every $mode rounds"
  printf '%-40s %10s %10s %6s\n' "$label" "$r" "$l" \
    "$(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$l" "$r")"
done
