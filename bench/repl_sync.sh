#!/usr/bin/env bash
# Full-sync time, side by side: REPLICAOF to master_link_status:up for
# DEBUG POPULATE N (100-byte values), with redis-server as the replica and
# either redis-server or relica as the master, disk and diskless. Also
# samples the master's peak RSS during the sync.
#
#   bash bench/repl_sync.sh [N]     (default 2000000)
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

launch() { # bin dir extra... ; prints port
  local bin=$1 dir=$2; shift 2
  local port; port=$(free_port)
  mkdir -p "$dir"
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --dir "$dir" --logfile "$dir/log" \
    --enable-debug-command yes --repl-diskless-sync-delay 0 "$@" &
  PIDS+=($!)
  for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  echo "$port $!"
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

run() { # master-bin diskless
  local mbin=$1 diskless=$2 tag; tag=$(basename "$mbin")-$diskless
  read -r mport mpid < <(launch "$mbin" "$WORK/m-$tag" --repl-diskless-sync "$diskless")
  redis-cli -p "$mport" debug populate "$N" key 100 >/dev/null
  local base; base=$(rss_kb "$mpid")
  read -r rport _ < <(launch redis-server "$WORK/r-$tag")
  local start peak=0
  start=$(date +%s.%N)
  redis-cli -p "$rport" replicaof 127.0.0.1 "$mport" >/dev/null
  until redis-cli -p "$rport" info replication | grep -q "master_link_status:up"; do
    local r; r=$(rss_kb "$mpid"); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.02
  done
  local end; end=$(date +%s.%N)
  printf '%-24s sync %.2f s  master RSS before %d MB, peak %d MB\n' "$tag" \
    "$(echo "$end - $start" | bc)" $((base / 1024)) $((peak / 1024))
  redis-cli -p "$rport" shutdown nosave >/dev/null 2>&1 || true
  redis-cli -p "$mport" shutdown nosave >/dev/null 2>&1 || true
}

for d in no yes; do
  run redis-server "$d"
  run "$RELICA" "$d"
done
