#!/usr/bin/env bash
# RDB side by side: SAVE time, file size, start-up load time, and peak RSS
# growth during BGSAVE under a continuous write load, for relica and
# redis-server on the same data (N keys of 100 bytes written by
# redis-benchmark, so the write load during BGSAVE overwrites existing keys
# instead of growing the dataset).
#
#   bash bench/rdb.sh [N]     (default 2000000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
cargo build --release -q -p relica-server
RELICA=target/release/relica-server
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
tree_rss_kb() { # the process and its children (Redis's fork)
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do total=$((total + $(rss_kb "$p"))); done
  echo "$total"
}

launch() { # bin dir -> "port pid"
  local bin=$1 dir=$2 port; port=$(free_port)
  mkdir -p "$dir"
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --dir "$dir" --logfile "$dir/log" \
    --enable-debug-command yes &
  PIDS+=($!)
  for _ in $(seq 600); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
  echo "$port $!"
}

for bin in redis-server "$RELICA"; do
  name=$(basename "$bin")
  dir="$WORK/$name"
  read -r port pid < <(launch "$bin" "$dir")
  redis-benchmark -p "$port" -q -n $((N * 4)) -r "$N" -t set -d 100 -c 20 -P 16 >/dev/null 2>&1
  t0=$(date +%s.%N); redis-cli -p "$port" save >/dev/null; t1=$(date +%s.%N)
  size=$(stat -c %s "$dir/dump.rdb")
  base=$(tree_rss_kb "$pid")
  # BGSAVE while redis-benchmark overwrites existing keys.
  redis-benchmark -p "$port" -q -n 100000000 -r "$N" -t set -d 100 -c 20 >/dev/null 2>&1 &
  bench=$!
  sleep 1
  redis-cli -p "$port" bgsave >/dev/null
  peak=$base
  while redis-cli -p "$port" info persistence | grep -q "rdb_bgsave_in_progress:1"; do
    r=$(tree_rss_kb "$pid"); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.05
  done
  kill "$bench" 2>/dev/null || true; wait "$bench" 2>/dev/null || true
  redis-cli -p "$port" save >/dev/null
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  sleep 0.5
  t2=$(date +%s.%N)
  read -r port2 _ < <(launch "$bin" "$dir")
  t3=$(date +%s.%N)
  printf '%-16s SAVE %.2f s  file %d MB  load %.2f s  BGSAVE under writes: RSS %d MB -> peak %d MB (+%d%%)\n' \
    "$name" "$(echo "$t1 - $t0" | bc)" $((size / 1048576)) "$(echo "$t3 - $t2" | bc)" \
    $((base / 1024)) $((peak / 1024)) $(( (peak - base) * 100 / (base + 1) ))
  redis-cli -p "$port2" shutdown nosave >/dev/null 2>&1 || true
done
