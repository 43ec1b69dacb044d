#!/usr/bin/env bash
# Memory limits (issue 18), relica beside redis-server on loopback, one run:
# - the hit ratio of a read-through cache with Zipf-like key popularity
#   (bench/maxmemory_load.py: 200,000 keys, 100-byte values, 400,000
#   requests, the same seeded sequence for both servers) under allkeys-lru
#   and allkeys-lfu with the same maxmemory (MB, default 8);
# - SET throughput while evicting: redis-benchmark SET of 100-byte values
#   over 1,000,000 random keys, 50 clients, allkeys-lru at that maxmemory,
#   after a fill to the limit.
# maxmemory is set above each server's own used_memory at start, so that
# both give the dataset the same room. Prints each figure and the ratios
# relica / redis.
#
#   bash bench/maxmemory.sh [maxmemory-MB]
#   RELICA=/path/to/relica-server bash bench/maxmemory.sh
#
# Needs redis-server, redis-cli, redis-benchmark and python3. By hand only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
MB=${1:-8}
REQ=${REQ:-400000}
KEYS=${KEYS:-200000}

declare -A PORT PIDOF
launch "$(command -v redis-server)" "$WORK/redis"
PORT[redis]=$LPORT; PIDOF[redis]=$LPID
launch "$RELICA" "$WORK/relica"
PORT[relica]=$LPORT; PIDOF[relica]=$LPID

field() { redis-cli -p "$1" info memory | tr -d '\r' | sed -n "s/^$2://p"; }
limit() {
  local port=$1 policy=$2
  redis-cli -p "$port" flushall >/dev/null
  redis-cli -p "$port" config set maxmemory 0 >/dev/null
  local base
  base=$(field "$port" used_memory)
  redis-cli -p "$port" config set maxmemory-policy "$policy" >/dev/null
  redis-cli -p "$port" config set maxmemory $((base + MB * 1024 * 1024)) >/dev/null
}

declare -A RATIO RPS
for policy in allkeys-lru allkeys-lfu; do
  for name in redis relica; do
    limit "${PORT[$name]}" "$policy"
    out=$(python3 bench/maxmemory_load.py "${PORT[$name]}" "$REQ" "$KEYS" 100)
    RATIO[$name,$policy]=$(echo "$out" | sed -n 's/.*ratio=\([0-9.]*\).*/\1/p')
    echo "$policy $name: $out (evicted_keys $(redis-cli -p "${PORT[$name]}" info stats | tr -d '\r' | sed -n 's/^evicted_keys://p'))"
  done
done

for name in redis relica; do
  limit "${PORT[$name]}" allkeys-lru
  redis-benchmark -p "${PORT[$name]}" -q -t set -d 100 -r 1000000 -n 300000 -c 50 >/dev/null
  out=$(redis-benchmark -p "${PORT[$name]}" -q -t set -d 100 -r 1000000 -n 500000 -c 50 | tr '\r' '\n' | grep -E '^SET' | tail -1)
  RPS[$name]=$(echo "$out" | sed -n 's/^SET: \([0-9.]*\) requests.*/\1/p')
  echo "SET while evicting $name: ${RPS[$name]} rps (used_memory $(field "${PORT[$name]}" used_memory), evicted_keys $(redis-cli -p "${PORT[$name]}" info stats | tr -d '\r' | sed -n 's/^evicted_keys://p'))"
done

echo "---- relica / redis"
for policy in allkeys-lru allkeys-lfu; do
  python3 -c "import sys; a,b=map(float,sys.argv[1:]); print('hit ratio $policy: relica %.4f redis %.4f difference %+.4f' % (a, b, a-b))" "${RATIO[relica,$policy]}" "${RATIO[redis,$policy]}"
done
python3 -c "import sys; a,b=map(float,sys.argv[1:]); print('SET while evicting: %.2f' % (a/b))" "${RPS[relica]}" "${RPS[redis]}"
