#!/usr/bin/env bash
# GEOSEARCH throughput, relica beside redis-server on loopback: one geo set
# of 100,000 members spread over Europe (the same points in both), then
# redis-benchmark runs of a few searches (~90 members within 50 km of the
# centre). Prints requests per second and the ratio relica / redis.
#
#   bash bench/geo.sh [requests]        (default 20000 per search)
#   RELICA=/path/to/relica-server bash bench/geo.sh
#
# Needs redis-server, redis-cli, redis-benchmark. Run it by hand on a quiet
# machine; nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-20000}

# 1,000 GEOADDs of 100 members each, as RESP, for redis-cli --pipe.
python3 - >"$WORK/load.resp" <<'EOF'
import random, sys
random.seed(7)
out = sys.stdout
def cmd(args):
    out.write("*%d\r\n" % len(args))
    for a in args:
        out.write("$%d\r\n%s\r\n" % (len(a), a))
for batch in range(1000):
    args = ["GEOADD", "geo"]
    for i in range(100):
        n = batch * 100 + i
        args += ["%.6f" % random.uniform(-10, 30), "%.6f" % random.uniform(35, 60), "p%d" % n]
    cmd(args)
EOF

SEARCHES=(
  "GEOSEARCH geo FROMLONLAT 10 47 BYRADIUS 50 km"
  "GEOSEARCH geo FROMLONLAT 10 47 BYBOX 100 100 km ASC COUNT 10 WITHDIST"
  "GEORADIUS_RO geo 2.35 48.85 50 km WITHCOORD"
)

declare -A RPS
for name in redis relica; do
  bin=$RELICA
  [ "$name" = redis ] && bin=$(command -v redis-server)
  launch "$bin" "$WORK/$name"
  redis-cli -p "$LPORT" --pipe <"$WORK/load.resp" >/dev/null
  echo "$name: $(redis-cli -p "$LPORT" zcard geo) members, $(redis-cli -p "$LPORT" object encoding geo)"
  for i in "${!SEARCHES[@]}"; do
    read -r -a words <<<"${SEARCHES[$i]}"
    RPS[$name,$i]=$(redis-benchmark -h 127.0.0.1 -p "$LPORT" -n "$N" -c 50 -q --csv "${words[@]}" 2>/dev/null |
      tail -n 1 | tr -d '"' | cut -d, -f2)
  done
  stop "$LPORT" "$LPID"
done

printf '%-75s %10s %10s %6s\n' search redis relica ratio
for i in "${!SEARCHES[@]}"; do
  r=${RPS[redis,$i]} l=${RPS[relica,$i]}
  printf '%-75s %10s %10s %6s\n' "${SEARCHES[$i]}" "$r" "$l" \
    "$(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$l" "$r")"
done
