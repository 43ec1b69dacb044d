#!/usr/bin/env bash
# AOF side by side (issue 17): relica and redis-server in the same run, with
# `appendonly yes`:
#   1. SET throughput with `appendfsync everysec` (redis-benchmark, 50
#      clients, without and with pipelining): relica / redis (target >= 1.0);
#   2. BGREWRITEAOF of KEYS keys (DEBUG POPULATE, 100-byte values), wall
#      time until aof_rewrite_in_progress:0: relica / redis (target <= 0.7);
#   3. RSS during that rewrite while redis-benchmark overwrites the keys:
#      peak / RSS before, counting redis-server's fork child (target for
#      relica <= 1.1).
#
#   bash bench/aof.sh [KEYS]      (default 1000000; N requests = KEYS)
#   RELICA=/path/to/relica-server bash bench/aof.sh   (a given binary)
#
# Run it by hand on a quiet machine; nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${1:-1000000}
N=${N:-$KEYS}
source bench/lib.sh

rss_kb() { # 0 for a process gone (or a zombie: no VmRSS)
  local v; v=$(awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || true); echo "${v:-0}"
}
tree_rss_kb() { # the process and its children (Redis's fork)
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do total=$((total + $(rss_kb "$p"))); done
  echo "$total"
}
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }
now() { date +%s.%N; }
rewriting() { redis-cli -p "$1" info persistence | grep -Eq "aof_rewrite_in_progress:1|aof_rewrite_scheduled:1"; }
wait_rewrite() { while rewriting "$1"; do sleep 0.01; done; }
set_rps() { # port, extra benchmark args -> requests per second
  local port=$1; shift
  redis-benchmark -h 127.0.0.1 -p "$port" -q --csv -t set -n "$N" -r "$KEYS" -d 100 -c 50 "$@" 2>/dev/null \
    | tail -n +2 | tr -d '"' | cut -d, -f2
}

declare -A RPS1 RPS16 RW_TIME BASE PEAK
for name in relica redis; do
  if [ "$name" = relica ]; then bin=$RELICA; else bin=redis-server; fi
  dir="$WORK/$name"
  launch "$bin" "$dir" --appendonly yes --appendfsync everysec
  port=$LPORT pid=$LPID
  wait_rewrite "$port"
  RPS1[$name]=$(set_rps "$port")
  RPS16[$name]=$(set_rps "$port" -P 16)
  redis-cli -p "$port" flushall >/dev/null
  redis-cli -p "$port" debug populate "$KEYS" key 100 >/dev/null
  # The rewrite alone.
  t0=$(now)
  redis-cli -p "$port" bgrewriteaof >/dev/null
  wait_rewrite "$port"
  t1=$(now)
  RW_TIME[$name]=$(echo "$t1 - $t0" | bc)
  # The rewrite under writes that overwrite the existing keys.
  base=$(tree_rss_kb "$pid")
  redis-benchmark -h 127.0.0.1 -p "$port" -q -n 100000000 -r "$KEYS" -t set -d 100 -c 20 >/dev/null 2>&1 &
  bench=$!
  sleep 1
  base=$(tree_rss_kb "$pid")
  redis-cli -p "$port" bgrewriteaof >/dev/null
  peak=$base
  while rewriting "$port"; do
    r=$(tree_rss_kb "$pid"); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.02
  done
  kill "$bench" 2>/dev/null || true; wait "$bench" 2>/dev/null || true
  BASE[$name]=$base PEAK[$name]=$peak
  stop "$port" "$pid"
done

echo "AOF, $KEYS keys of 100 bytes, appendfsync everysec"
printf '%-44s relica %10.0f  redis %10.0f  ratio %s\n' "SET rps (-c 50)" "${RPS1[relica]}" "${RPS1[redis]}" "$(ratio "${RPS1[relica]}" "${RPS1[redis]}")"
printf '%-44s relica %10.0f  redis %10.0f  ratio %s\n' "SET rps (-c 50 -P 16)" "${RPS16[relica]}" "${RPS16[redis]}" "$(ratio "${RPS16[relica]}" "${RPS16[redis]}")"
printf '%-44s relica %10.2f  redis %10.2f  ratio %s\n' "BGREWRITEAOF time (s)" "${RW_TIME[relica]}" "${RW_TIME[redis]}" "$(ratio "${RW_TIME[relica]}" "${RW_TIME[redis]}")"
for name in relica redis; do
  printf '%-44s %d MB -> peak %d MB  (peak/before %s)\n' "$name RSS during BGREWRITEAOF under writes" \
    $((BASE[$name] / 1024)) $((PEAK[$name] / 1024)) "$(ratio "${PEAK[$name]}" "${BASE[$name]}")"
done
