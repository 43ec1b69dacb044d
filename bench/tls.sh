#!/usr/bin/env bash
# TLS benchmark: relica and redis-server side by side, same machine, same
# run, both serving TLS only (port 0, tls-port) with the same certificates
# (made here with openssl, as Redis's utils/gen-test-certs.sh makes them).
# redis-benchmark --tls: SET/GET unpipelined and with -P 16, and the
# connection set-up rate (-k 0: a new TLS connection for every PING).
# Prints requests per second (medians of ROUNDS alternating rounds, 3 by
# default) and the ratio relica / redis-server (target: >= 1.0).
#
#   bash bench/tls.sh [quick]
#   RELICA=/path/to/relica-server bash bench/tls.sh   (a given binary, no build)
#   PLAIN=1 bash bench/tls.sh                         (the same runs over plain TCP)
#
# Needs redis-server, redis-cli, redis-benchmark (built with TLS, as
# Debian's are) and openssl. Run it by hand on a quiet machine; nothing here
# is a test.
set -euo pipefail
cd "$(dirname "$0")/.."

N=200000
CONN_N=20000
if [ "${1:-}" = quick ]; then N=50000; CONN_N=5000; fi

if [ -z "${RELICA:-}" ]; then
  cargo build --release -q -p relica-server
  RELICA=${CARGO_TARGET_DIR:-target}/release/relica-server
fi
for b in redis-server redis-cli redis-benchmark openssl; do
  command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 1; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Certificates: a CA, a server and a client certificate.
C=$WORK/certs
mkdir -p "$C"
(
  cd "$C"
  printf '[ server_cert ]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = server\n[ client_cert ]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = client\n' > ext.cnf
  openssl genrsa -out ca.key 2048 2>/dev/null
  openssl req -x509 -new -nodes -sha256 -key ca.key -days 30 -subj '/O=bench/CN=CA' -out ca.crt 2>/dev/null
  for n in server client; do
    openssl genrsa -out $n.key 2048 2>/dev/null
    openssl req -new -sha256 -subj "/O=bench/CN=$n" -key $n.key -out $n.csr 2>/dev/null
    openssl x509 -req -sha256 -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
      -extfile ext.cnf -extensions ${n}_cert -out $n.crt 2>/dev/null
  done
)
TLS_CLIENT=(--tls --cacert "$C/ca.crt" --cert "$C/client.crt" --key "$C/client.key")
if [ -n "${PLAIN:-}" ]; then TLS_CLIENT=(); fi

start() { # name binary -> sets PORT_<name>
  local name=$1 bin=$2 port
  port=$(free_port)
  mkdir -p "$WORK/$name"
  local listen=(--port 0 --tls-port "$port" --tls-cert-file "$C/server.crt" --tls-key-file "$C/server.key"
    --tls-ca-cert-file "$C/ca.crt")
  if [ -n "${PLAIN:-}" ]; then listen=(--port "$port"); fi
  "$bin" "${listen[@]}" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$WORK/$name" --logfile "$WORK/$name/log" &
  PIDS+=($!)
  eval "PORT_$name=$port"
  for _ in $(seq 100); do
    redis-cli "${TLS_CLIENT[@]}" -p "$port" ping >/dev/null 2>&1 && return
    sleep 0.05
  done
  echo "$name did not start" >&2; tail -5 "$WORK/$name/log" >&2; exit 1
}

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }

# One redis-benchmark run; prints the requests per second of its one test.
rps() { # port args...
  local port=$1; shift
  { redis-benchmark "${TLS_CLIENT[@]}" -h 127.0.0.1 -p "$port" -q --csv "$@" 2>/dev/null || true; } \
    | tail -n +2 | tr -d '"' | cut -d, -f2 | head -1
}

start relica "$RELICA"
start redis "$(command -v redis-server)"

ROUNDS=${ROUNDS:-3}
median() { python3 -c "import sys,statistics; v=[float(x) for x in sys.argv[1:] if x]; print(f'{statistics.median(v):.2f}' if v else '')" "$@"; }
echo "transport: ${PLAIN:+plain TCP}${PLAIN:-TLS}; relica / redis-server (requests per second, medians of $ROUNDS alternating rounds)"
printf '%-28s %12s %12s %7s\n' test relica redis ratio
row() { # title args...
  local title=$1; shift
  local a=() b=() i
  for i in $(seq "$ROUNDS"); do
    a+=("$(rps "$PORT_relica" "$@")")
    b+=("$(rps "$PORT_redis" "$@")")
  done
  local ma mb
  ma=$(median "${a[@]}")
  mb=$(median "${b[@]}")
  printf '%-28s %12s %12s %7s\n' "$title" "$ma" "$mb" "$(ratio "${ma:-0}" "${mb:-0}")"
}
row "SET" -t set -n "$N" -c 50 -r 100000
row "GET" -t get -n "$N" -c 50 -r 100000
row "SET -P 16" -t set -n "$((N * 5))" -c 50 -P 16 -r 100000
row "GET -P 16" -t get -n "$((N * 5))" -c 50 -P 16 -r 100000
row "connection set-up (-k 0)" -t ping_mbulk -n "$CONN_N" -c 20 -k 0
