#!/usr/bin/env bash
# Streams, relica beside redis-server on loopback:
#  - XADD throughput (redis-benchmark, 50 clients, `XADD s * f1 v1 f2 v2`);
#  - XREADGROUP throughput: a group reading a prefilled stream one new
#    entry per call (`XREADGROUP GROUP g c COUNT 1 STREAMS s >`), which
#    also builds the pending list;
#  - memory: used_memory grown by a stream of 1,000,000 entries of two
#    fields each (loaded with redis-cli --pipe).
# Prints requests per second, bytes, and the ratios relica / redis
# (throughput: higher is better; memory: lower is better).
#
#   bash bench/stream.sh [requests]     (default 200000 per throughput run)
#   RELICA=/path/to/relica-server bash bench/stream.sh
#
# Needs redis-server, redis-cli, redis-benchmark. Run it by hand on a quiet
# machine; nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-200000}

python3 - "$WORK/load.resp" "$WORK/fill.resp" "$N" <<'EOF2'
import sys
def cmd(out, args):
    out.write("*%d\r\n" % len(args))
    for a in args:
        out.write("$%d\r\n%s\r\n" % (len(a), a))
with open(sys.argv[1], "w") as out:
    for i in range(1000000):
        cmd(out, ["XADD", "big", "*", "name", "user%d" % i, "score", str(i % 1000)])
with open(sys.argv[2], "w") as out:
    for i in range(int(sys.argv[3])):
        cmd(out, ["XADD", "s", "*", "f1", "v1", "f2", str(i)])
EOF2

declare -A R
for name in redis relica; do
  bin=$RELICA
  [ "$name" = redis ] && bin=$(command -v redis-server)
  launch "$bin" "$WORK/$name"
  R[$name,xadd]=$(redis-benchmark -h 127.0.0.1 -p "$LPORT" -n "$N" -c 50 -q --csv \
    XADD s '*' f1 v1 f2 v2 2>/dev/null | tail -n 1 | tr -d '"' | cut -d, -f2)
  redis-cli -p "$LPORT" del s >/dev/null
  redis-cli -p "$LPORT" --pipe <"$WORK/fill.resp" >/dev/null
  redis-cli -p "$LPORT" xgroup create s g 0 >/dev/null
  R[$name,xreadgroup]=$(redis-benchmark -h 127.0.0.1 -p "$LPORT" -n "$N" -c 50 -q --csv \
    XREADGROUP GROUP g c COUNT 1 STREAMS s '>' 2>/dev/null | tail -n 1 | tr -d '"' | cut -d, -f2)
  echo "$name: pending after the XREADGROUP run: $(redis-cli -p "$LPORT" xpending s g | head -1)"
  redis-cli -p "$LPORT" flushall >/dev/null
  before=$(redis-cli -p "$LPORT" info memory | tr -d '\r' | awk -F: '$1=="used_memory"{print $2}')
  redis-cli -p "$LPORT" --pipe <"$WORK/load.resp" >/dev/null
  after=$(redis-cli -p "$LPORT" info memory | tr -d '\r' | awk -F: '$1=="used_memory"{print $2}')
  R[$name,mem]=$((after - before))
  echo "$name: $(redis-cli -p "$LPORT" xlen big) entries, $(redis-cli -p "$LPORT" xinfo stream big | sed -n 4p) nodes"
  stop "$LPORT" "$LPID"
done

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }
printf '%-40s %12s %12s %6s\n' measure redis relica ratio
for m in xadd xreadgroup mem; do
  label=$m
  case $m in
    xadd) label="XADD requests/s" ;;
    xreadgroup) label="XREADGROUP requests/s" ;;
    mem) label="bytes for 1,000,000 entries" ;;
  esac
  printf '%-40s %12s %12s %6s\n' "$label" "${R[redis,$m]}" "${R[relica,$m]}" "$(ratio "${R[relica,$m]}" "${R[redis,$m]}")"
done
