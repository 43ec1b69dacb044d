#!/usr/bin/env bash
# Replication buffer memory: a master (relica, then redis-server) with four
# replicas (real redis-servers by default), in sync, under redis-benchmark
# SET load. While the load runs, a sampler reads the master's INFO memory
# every ~10 ms and keeps the peak of mem_total_replication_buffers (and of
# used_memory). Prints both peaks and the relica/redis ratio. With Redis
# 7.0's shared replication buffer, four replicas cost one copy of the
# stream: the peak stays near repl-backlog-size plus what the slowest replica
# has not read yet. Target: relica <= 1.1x redis-server.
#
#   bash bench/repl_buffer.sh
#   REQUESTS=200000 bash bench/repl_buffer.sh        (small run)
#
# Environment:
#   REQUESTS   -n for redis-benchmark (default 1000000), -P PIPELINE
#   PIPELINE   -P (default 16)
#   CLIENTS    -c (default 50)
#   SIZE       -d value size (default 100)
#   KEYSPACE   -r (default 1000000)
#   BACKLOG    repl-backlog-size of the master (default 1mb)
#   REPLICA    server kind of the replicas: redis (default) or relica
#   INTERVAL   sampling interval in seconds (0.01)
#
# Needs redis-server, redis-cli, redis-benchmark and python3. Builds relica in
# release mode first (honours CARGO_TARGET_DIR). Servers bind 127.0.0.1 on
# free ports and are stopped by PID. Run it by hand on a quiet machine;
# nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-1000000}
PIPELINE=${PIPELINE:-16}
CLIENTS=${CLIENTS:-50}
SIZE=${SIZE:-100}
KEYSPACE=${KEYSPACE:-1000000}
BACKLOG=${BACKLOG:-1mb}
REPLICA=${REPLICA:-redis}
INTERVAL=${INTERVAL:-0.01}
for b in redis-server redis-cli redis-benchmark python3; do
  command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 1; }
done
case $REPLICA in relica|redis) ;; *) echo "REPLICA: relica or redis" >&2; exit 2 ;; esac
# shellcheck source=bench/lib.sh
source bench/lib.sh
binary() { if [ "$1" = relica ]; then echo "$RELICA"; else echo redis-server; fi; }
info_field() { # port section field
  redis-cli -p "$1" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f {print $2}'
}

# The sampler: INFO memory every INTERVAL until the stop file appears;
# prints "peak_total peak_used samples".
cat >"$WORK/sample.py" <<'EOF'
import os, socket, sys, time
port, stop, interval = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def info():
    s.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n")
    n = int(f.readline()[1:])
    body = f.read(n + 2).decode()
    return dict(l.split(":", 1) for l in body.split("\r\n") if ":" in l)
peak_total = peak_used = samples = 0
while not os.path.exists(stop):
    i = info()
    peak_total = max(peak_total, int(i["mem_total_replication_buffers"]))
    peak_used = max(peak_used, int(i["used_memory"]))
    samples += 1
    time.sleep(interval)
print(peak_total, peak_used, samples)
EOF

declare -A PEAK
run_master() { # relica|redis
  local m=$1 ports=() pids=() i
  launch "$(binary "$m")" "$WORK/m-$m" --repl-backlog-size "$BACKLOG"
  local mport=$LPORT mpid=$LPID
  for i in 1 2 3 4; do
    launch "$(binary "$REPLICA")" "$WORK/r-$m-$i" --replicaof 127.0.0.1 "$mport"
    ports+=("$LPORT")
    pids+=("$LPID")
  done
  local end=$((SECONDS + 60))
  until [ "$(info_field "$mport" replication connected_slaves)" = 4 ] &&
    ! redis-cli -p "$mport" info replication | grep -q 'slave.*state=\(wait_bgsave\|send_bulk\)'; do
    ((SECONDS < end)) || { echo "$m: replicas did not sync" >&2; exit 1; }
    sleep 0.1
  done
  local stopf="$WORK/stop-$m"
  python3 "$WORK/sample.py" "$mport" "$stopf" "$INTERVAL" >"$WORK/peak-$m" &
  local spid=$!
  local t0=$SECONDS
  redis-benchmark -p "$mport" -t set -n "$REQUESTS" -P "$PIPELINE" -c "$CLIENTS" \
    -d "$SIZE" -r "$KEYSPACE" -q >"$WORK/bench-$m" 2>&1
  touch "$stopf"
  wait "$spid"
  read -r total used samples <"$WORK/peak-$m"
  PEAK[$m]=$total
  printf '%-7s peak mem_total_replication_buffers %10d  peak used_memory %11d  (%d samples, %ds, %s)\n' \
    "$m" "$total" "$used" "$samples" $((SECONDS - t0)) \
    "$(tr '\r' '\n' <"$WORK/bench-$m" | grep -E 'requests per second' | tail -1 | sed 's/^ *//')"
  for i in 0 1 2 3; do stop "${ports[$i]}" "${pids[$i]}"; done
  stop "$mport" "$mpid"
}

echo "master + 4 $REPLICA replicas, repl-backlog-size $BACKLOG, SET -n $REQUESTS -P $PIPELINE -c $CLIENTS -d $SIZE"
run_master relica
run_master redis
python3 - "${PEAK[relica]}" "${PEAK[redis]}" <<'EOF'
import sys
rel, red = int(sys.argv[1]), int(sys.argv[2])
ratio = rel / red if red else float("inf")
print(f"ratio relica/redis-server: {ratio:.3f} (target <= 1.1): {'ok' if ratio <= 1.1 else 'OVER'}")
EOF
