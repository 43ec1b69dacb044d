#!/usr/bin/env bash
# Side-by-side benchmark: relica and redis-server on loopback, same machine,
# same run. Prints throughput ratios (relica / redis) and RSS ratios.
#
#   bash bench/compare.sh [quick]
#   SECTIONS="throughput memory" RELICA_ARGS="--io-threads 2" bash bench/compare.sh
#   RELICA=/path/to/old/relica-server bash bench/compare.sh   (a given binary, no build)
#
# Needs redis-server, redis-cli and redis-benchmark (Debian: redis-server,
# redis-tools). Builds relica in release mode first. Run it by hand on a quiet
# machine; nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."

N=1000000
KEYS=1000000
if [ "${1:-}" = quick ]; then N=100000; KEYS=100000; fi

if [ -z "${RELICA:-}" ]; then
  cargo build --release -q -p relica-server
  RELICA=target/release/relica-server
fi
for b in redis-server redis-cli redis-benchmark; do
  command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 1; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

start() { # name binary -> sets PORT_<name>
  local name=$1 bin=$2 port
  port=$(free_port)
  mkdir -p "$WORK/$name"
  local extra=()
  if [ "$bin" = "$RELICA" ] && [ -n "${RELICA_ARGS:-}" ]; then read -r -a extra <<< "$RELICA_ARGS"; fi
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no "${extra[@]}" \
    --dir "$WORK/$name" --logfile "$WORK/$name/log" --enable-debug-command yes \
    --hash-max-listpack-entries 128 --zset-max-listpack-entries 128 &
  PIDS+=($!)
  eval "PORT_$name=$port; PID_$name=$!"
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "$name did not start" >&2; exit 1
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }

# One redis-benchmark run; prints "TEST rps" lines.
bench() { # port args...
  local port=$1; shift
  { redis-benchmark -h 127.0.0.1 -p "$port" -q --csv "$@" 2>/dev/null || true; } | tail -n +2 | tr -d '"' | cut -d, -f1,2
}

compare() { # title, benchmark args
  local title=$1; shift
  echo "== $title"
  local a b
  a=$(bench "$PORT_relica" "$@")
  b=$(bench "$PORT_redis" "$@")
  paste -d, <(echo "$a") <(echo "$b") | while IFS=, read -r t ra _ rb; do
    printf '%-28s relica %10.0f  redis %10.0f  ratio %s\n' "$t" "$ra" "$rb" "$(ratio "$ra" "$rb")"
  done
}

start relica "$RELICA"
start redis redis-server

SECTIONS=${SECTIONS:-throughput memory}
if [[ " $SECTIONS " == *" throughput "* ]]; then
compare "SET/GET -c 50 -n $N" -c 50 -n "$N" -t set,get
compare "SET/GET -c 50 -n $N -P 16" -c 50 -n "$N" -P 16 -t set,get
compare "default tests (issue 3)" -c 50 -n "$((N / 10))" -t lpush,lpop,sadd,hset,zadd,lrange_100,mset
fi
[[ " $SECTIONS " == *" memory "* ]] || exit 0

memory() { # title, fill-function: fresh servers for each measurement
  local title=$1 setup=$2
  for s in relica redis; do
    local bin port pid
    if [ "$s" = relica ]; then bin=$RELICA; else bin=redis-server; fi
    start "mem$s" "$bin"
    eval "port=\$PORT_mem$s; pid=\$PID_mem$s"
    local before; before=$(rss_kb "$pid")
    "$setup" "$port"
    eval "RSS_$s=\$(( \$(rss_kb $pid) - before ))"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  done
  echo "== memory: $title: relica ${RSS_relica} kB, redis ${RSS_redis} kB, ratio $(ratio "$RSS_relica" "$RSS_redis")"
}

# fill PORT N KIND: N commands of one shape, pipelined 1000 at a time.
# Every reply is one line (+OK or :n), so replies are counted by CRLF.
fill() { python3 - "$@" <<'PY'
import socket, sys
port, n, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
def cmd(*a):
    out = b"*%d\r\n" % len(a)
    for x in a:
        out += b"$%d\r\n%s\r\n" % (len(x), x)
    return out
def args(i):
    if kind == "strings":
        return [b"SET", b"key:%d" % i, b"v" * 100]
    if kind == "hashes":
        return [b"HSET", b"h:%d" % i] + [x for f in range(5) for x in (b"f%d" % f, b"v%d" % f)]
    return [b"ZADD", b"z:%d" % i] + [x for m in range(10) for x in (b"%d" % m, b"member:%d" % m)]
batch = []
for i in range(n):
    batch.append(cmd(*args(i)))
    if len(batch) == 1000 or i == n - 1:
        s.sendall(b"".join(batch))
        got = 0
        while got < len(batch):
            got += s.recv(65536).count(b"\r\n")
        batch = []
PY
}
strings_100b() { fill "$1" "$KEYS" strings; }
small_hashes() { fill "$1" "$KEYS" hashes; }
small_zsets() { fill "$1" "$((KEYS / 10))" zsets; }

memory "$KEYS x SET key:N <100 bytes> (issue 2 target <= 1.2)" strings_100b
memory "$KEYS small hashes of 5 fields (issue 3 target <= 1.3)" small_hashes
memory "$((KEYS / 10)) sorted sets of 10 members (issue 3 target <= 1.3)" small_zsets
