#!/usr/bin/env bash
# Scripting benchmarks, relica and redis-server side by side in one run
# (issue 14's targets):
#   - EVALSHA of a one-command script (redis.call('incr', KEYS[1])) with
#     redis-benchmark, unpipelined and with -P 16 (target >= 1.0x);
#   - FCALL of the same as a function, same two ways (reported);
#   - memory after SCRIPT LOAD of 10,000 distinct scripts: used_memory and
#     RSS growth (target <= 1.2x).
#
#   bash bench/scripting.sh
#   N=100000 SCRIPTS=2000 bash bench/scripting.sh      (small run)
#   ROUNDS=5 bash bench/scripting.sh   (runs per case and server; default 3)
#   RELICA=/path/to/relica-server bash bench/scripting.sh
#
# Needs redis-server, redis-cli, redis-benchmark and python3. Servers bind
# 127.0.0.1 on free ports and are stopped by PID. Run it by hand on a quiet
# machine; nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
SCRIPTS=${SCRIPTS:-10000}
ROUNDS=${ROUNDS:-3}
source bench/lib.sh

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }
rps() { # port args...: requests per second of one redis-benchmark run
  local port=$1; shift
  redis-benchmark -h 127.0.0.1 -p "$port" -q --csv "$@" 2>/dev/null | tail -n 1 | tr -d '"' | cut -d, -f2
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
used() { redis-cli -p "$1" info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r'; }

launch "$RELICA" "$WORK/relica"
RPORT=$LPORT RPID=$LPID
launch redis-server "$WORK/redis"
SPORT=$LPORT SPID=$LPID

LIB='#!lua name=benchlib
redis.register_function("incr1", function(keys) return redis.call("incr", keys[1]) end)'
for p in $RPORT $SPORT; do
  SHA=$(redis-cli -p "$p" script load "return redis.call('incr', KEYS[1])")
  redis-cli -p "$p" function load "$LIB" >/dev/null
done

# Each case runs ROUNDS times on each server, alternating, and reports the
# median of each side: on a small machine the benchmark client shares the
# CPUs, and single runs of the same two servers spread by about 8%.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
side_by_side() { # label target args...: ROUNDS alternating runs, medians and ratio
  local label=$1 target=$2; shift 2
  local rs=() ss=()
  for _ in $(seq "$ROUNDS"); do
    rs+=("$(rps "$RPORT" -c 50 -n "$N" "$@")")
    ss+=("$(rps "$SPORT" -c 50 -n "$N" "$@")")
  done
  local r s
  r=$(median "${rs[@]}") s=$(median "${ss[@]}")
  printf '%-14s relica %10.0f  redis %10.0f  ratio %s%s  (runs: relica %s; redis %s)\n' "$label" "$r" "$s" \
    "$(ratio "$r" "$s")" "$target" "${rs[*]}" "${ss[*]}"
}
echo "== throughput (requests/s), -c 50 -n $N, median of $ROUNDS alternating runs"
for pipe in 1 16; do
  side_by_side "EVALSHA -P $pipe" " (target >= 1.0)" -P "$pipe" evalsha "$SHA" 1 key:__rand_int__
  side_by_side "FCALL   -P $pipe" "" -P "$pipe" fcall incr1 1 key:__rand_int__
done

echo "== memory after SCRIPT LOAD of $SCRIPTS distinct scripts"
load_scripts() { # port
  python3 - "$1" "$SCRIPTS" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
def cmd(*a):
    out = b"*%d\r\n" % len(a)
    for x in a:
        out += b"$%d\r\n%s\r\n" % (len(x), x)
    return out
batch = []
for i in range(n):
    body = b"local v = redis.call('get', KEYS[1]) if v == '%d' then return %d end return v" % (i, i)
    batch.append(cmd(b"SCRIPT", b"LOAD", body))
    if len(batch) == 500 or i == n - 1:
        s.sendall(b"".join(batch))
        got = 0
        while got < 2 * len(batch):
            got += s.recv(65536).count(b"\r\n")
        batch = []
PY
}
for side in relica redis; do
  if [ $side = relica ]; then port=$RPORT pid=$RPID; else port=$SPORT pid=$SPID; fi
  u0=$(used "$port"); r0=$(rss_kb "$pid")
  load_scripts "$port"
  u1=$(used "$port"); r1=$(rss_kb "$pid")
  eval "USED_$side=$((u1 - u0)) RSS_$side=$((r1 - r0))"
  echo "$side: used_memory +$((u1 - u0)) bytes, RSS +$((r1 - r0)) kB, number_of_cached_scripts $(redis-cli -p "$port" info memory | awk -F: '/^number_of_cached_scripts:/ {print $2}' | tr -d '\r')"
done
echo "ratio used_memory $(ratio "$USED_relica" "$USED_redis"), RSS $(ratio "$RSS_relica" "$RSS_redis") (target <= 1.2)"
