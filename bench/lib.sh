# Shared by the replication benchmarks (source it): builds relica, and
# starts and stops servers on free 127.0.0.1 ports, stopped by PID on exit.
# Sets RELICA, PROBE, WORK; launch sets LPORT and LPID.
# RELICA=/path/to/relica-server runs a given binary (an older build, to
# compare before and after a change) instead of building this tree.
if [ -z "${RELICA:-}" ]; then
  cargo build --release -q -p relica-server
  RELICA=${CARGO_TARGET_DIR:-target}/release/relica-server
fi
PROBE=bench/repl_probe.py
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# launch bin dir extra... : starts a server, sets LPORT and LPID.
launch() {
  local bin=$1 dir=$2; shift 2
  LPORT=$(free_port)
  mkdir -p "$dir"
  "$bin" --port "$LPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --logfile "$dir/log" --enable-debug-command yes --repl-diskless-sync-delay 0 "$@" &
  LPID=$!
  PIDS+=("$LPID")
  for _ in $(seq 200); do
    redis-cli -p "$LPORT" ping >/dev/null 2>&1 && return
    kill -0 "$LPID" 2>/dev/null || break
    sleep 0.05
  done
  echo "$bin did not start on port $LPORT (log: $dir/log)" >&2
  tail -5 "$dir/log" >&2 || true
  exit 1
}

# forget pid: drop an exited PID from the cleanup list.
forget() {
  local p keep=()
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
# stop port pid: SHUTDOWN NOSAVE, then wait for the PID (kill it after 10 s).
stop() {
  redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 200); do kill -0 "$2" 2>/dev/null || break; sleep 0.05; done
  kill "$2" 2>/dev/null || true
  wait "$2" 2>/dev/null || true
  forget "$2"
}
