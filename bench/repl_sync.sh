#!/usr/bin/env bash
# Full-sync benchmarks: time from REPLICAOF to master_link_status:up after
# DEBUG POPULATE N (100-byte values), and memory during the sync.
#
#   bash bench/repl_sync.sh [N] [SECTION...]      (N defaults to 2000000)
#   SECTIONS="r2r" bash bench/repl_sync.sh 200000
#
# Sections (all by default, in this order):
#   base    redis-server as the replica, redis-server or relica as the
#           master, disk and diskless; the master's peak RSS during the sync.
#   r2r     relica -> relica, the replica in each repl-diskless-load mode,
#           each case also run redis -> redis with the same flags in the same
#           run; prints the time ratio (target: relica <= 0.4x redis) and
#           the replica's peak RSS (VmRSS every ~20 ms) against the dataset
#           after the sync (its used_memory, and its RSS after). In the
#           "+old" case the replica first gets DEBUG POPULATE N oldkey 100,
#           so old and new datasets coexist during a swapdb load
#           (target: peak <= 2.1x the dataset).
#           R2R_CASES selects cases (default: all of)
#             swapdb swapdb+old on-empty-db disabled disk-disabled
#           ("disk-" = master repl-diskless-sync no, otherwise yes).
#   master  the master's peak RSS during a full sync to a redis-server
#           replica while redis-benchmark writes SETs (-r 2000000 -d 100)
#           for the whole sync, against its RSS just before REPLICAOF
#           (target: <= 1.1x), redis-server and relica masters, disk and
#           diskless (MASTER_MODES, default "no yes"). MASTER_WRITES=new
#           (default) writes keys the populated dataset does not have (so it
#           grows); MASTER_WRITES=overwrite fills the master with the
#           benchmark's own key names first (-r N, 3N SETs) and then
#           overwrites existing keys for the whole sync. A sync not up within
#           MASTER_DEADLINE (default 60) s is reported FAILED, and the
#           script then exits 1 after the other cases.
#
# Needs redis-server, redis-cli, redis-benchmark and python3. Builds relica in
# release mode first (honours CARGO_TARGET_DIR). Run it by hand on a quiet
# machine; nothing here is a test. KEEP=1 keeps the servers' logs (the path
# is printed at exit).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
[ $# -gt 0 ] && shift
SECTIONS=${*:-${SECTIONS:-base r2r master}}
R2R_CASES=${R2R_CASES:-swapdb swapdb+old on-empty-db disabled disk-disabled}
MASTER_MODES=${MASTER_MODES:-no yes}
MASTER_WRITES=${MASTER_WRITES:-new}
case $MASTER_WRITES in new|overwrite) ;; *) echo "MASTER_WRITES: new or overwrite" >&2; exit 2 ;; esac
MASTER_DEADLINE=${MASTER_DEADLINE:-60} # seconds a sync under writes may take
FAILED=0
export DEADLINE=${DEADLINE:-600}   # seconds a sync may take (repl_probe.py)
for s in $SECTIONS; do
  case $s in base|r2r|master) ;; *) echo "unknown section: $s (base r2r master)" >&2; exit 2 ;; esac
done
for b in redis-server redis-cli redis-benchmark python3; do
  command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
source bench/lib.sh

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
info_field() { # port section field
  redis-cli -p "$1" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f {print $2}'
}
calc() { python3 -c "import sys; print(format(eval(sys.argv[1]), sys.argv[2]))" "$1" "$2"; }
mb() { echo $(($1 / 1024)); }
populate() { # port count prefix
  redis-cli -p "$1" debug populate "$2" "$3" 100 >/dev/null
  local n; n=$(redis-cli -p "$1" dbsize)
  [ "$n" -ge "$2" ] || { echo "populate on $1: dbsize $n < $2" >&2; exit 1; }
}
# check_keys port keys: the replica holds the whole dataset after link-up.
check_keys() {
  local n; n=$(redis-cli -p "$1" dbsize)
  [ "$n" -eq "$2" ] || { echo "replica on $1: dbsize $n, expected $2" >&2; exit 1; }
}

# ---------------------------------------------------------------- base
run() { # master-bin diskless
  local mbin=$1 diskless=$2 tag; tag=$(basename "$mbin")-$diskless
  launch "$mbin" "$WORK/m-$tag" --repl-diskless-sync "$diskless"
  local mport=$LPORT mpid=$LPID
  redis-cli -p "$mport" debug populate "$N" key 100 >/dev/null
  local base; base=$(rss_kb "$mpid")
  launch redis-server "$WORK/r-$tag"
  local rport=$LPORT rpid=$LPID
  local start peak=0 now
  start=$(date +%s.%N)
  redis-cli -p "$rport" replicaof 127.0.0.1 "$mport" >/dev/null
  until redis-cli -p "$rport" info replication | grep -q "master_link_status:up"; do
    local r; r=$(rss_kb "$mpid"); [ "$r" -gt "$peak" ] && peak=$r
    now=$(date +%s.%N)
    if [ "$(echo "$now - $start > $DEADLINE" | bc)" = 1 ]; then
      echo "$tag: link not up after $DEADLINE s" >&2; exit 1
    fi
    sleep 0.02
  done
  local end; end=$(date +%s.%N)
  printf '%-24s sync %.2f s  master RSS before %d MB, peak %d MB\n' "$tag" \
    "$(echo "$end - $start" | bc)" $((base / 1024)) $((peak / 1024))
  stop "$rport" "$rpid"
  stop "$mport" "$mpid"
}

section_base() {
  for d in no yes; do
    run redis-server "$d"
    run "$RELICA" "$d"
  done
}

# ---------------------------------------------------------------- r2r
# r2r_one bin master-diskless load-mode old(0/1) tag: one sync, both ends
# running bin. Sets SECS RBEFORE RPEAK RAFTER USED (KB / bytes).
r2r_one() {
  local bin=$1 md=$2 mode=$3 old=$4 tag=$5
  launch "$bin" "$WORK/m-$tag" --repl-diskless-sync "$md"
  local mport=$LPORT mpid=$LPID
  populate "$mport" "$N" key
  launch "$bin" "$WORK/r-$tag" --repl-diskless-load "$mode"
  local rport=$LPORT rpid=$LPID
  [ "$old" = 1 ] && populate "$rport" "$N" oldkey
  RBEFORE=$(rss_kb "$rpid")
  local samples pss
  # The peak includes 0.3 s after link-up, while the replaced dataset goes.
  read -r SECS samples RPEAK pss < <(SETTLE=0.3 python3 "$PROBE" sync "$rport" "$mport" "$rpid")
  [ -n "${RPEAK:-}" ] || { echo "$tag: sync probe failed" >&2; exit 1; }
  check_keys "$rport" "$N"
  USED=$(info_field "$rport" memory used_memory)
  RAFTER=$(rss_kb "$rpid")
  stop "$rport" "$rpid"
  stop "$mport" "$mpid"
}

section_r2r() {
  echo "== relica -> relica full sync, N=$N keys (100-byte values); every case also redis -> redis, same flags"
  echo "   time = REPLICAOF to master_link_status:up; replica RSS sampled every ~20 ms;"
  echo "   (peak includes 0.3 s after link-up); dataset = the replica's used_memory after"
  echo "   the sync (RSS1: its RSS then); RSS0: replica RSS before REPLICAOF"
  printf '%-25s %-15s %7s %7s %8s %8s %8s %8s %9s %10s  %s\n' case pair "sync s" ratio \
    "RSS0 MB" "peak MB" "RSS1 MB" "used MB" peak/used peak/RSS1 targets
  local c md mode old rsecs
  for c in $R2R_CASES; do
    md=yes; mode=$c; old=0
    case $c in disk-*) md=no; mode=${c#disk-} ;; esac
    case $mode in *+old) old=1; mode=${mode%+old} ;; esac
    case $mode in swapdb|on-empty-db|disabled) ;; *) echo "unknown case $c" >&2; exit 2 ;; esac
    local label="diskless=$md $mode"; [ "$old" = 1 ] && label+="+old"
    local bin pair
    for bin in redis-server "$RELICA"; do
      r2r_one "$bin" "$md" "$mode" "$old" "$(basename "$bin")-$c"
      local pu pr ratio="-" tgt=""
      pu=$(calc "$RPEAK*1024/$USED" .2f)
      pr=$(calc "$RPEAK/$RAFTER" .2f)
      if [ "$bin" = redis-server ]; then
        pair="redis->redis"; rsecs=$SECS
      else
        pair="relica->relica"
        ratio=$(calc "$SECS/$rsecs" .2f)x
        tgt="time<=0.4x: $(calc "'ok' if $SECS/$rsecs <= 0.4 else 'MISS'" s)"
        if [ "$mode" = swapdb ]; then
          tgt+=", peak<=2.1x used: $(calc "'ok' if $RPEAK*1024/$USED <= 2.1 else 'MISS'" s)"
        fi
      fi
      printf '%-25s %-15s %7.2f %7s %8d %8d %8d %8d %8sx %9sx  %s\n' "$label" "$pair" "$SECS" \
        "$ratio" "$(mb "$RBEFORE")" "$(mb "$RPEAK")" "$(mb "$RAFTER")" $((USED / 1048576)) \
        "$pu" "$pr" "$tgt"
    done
  done
}

# ---------------------------------------------------------------- master
master_one() { # bin diskless
  local bin=$1 md=$2 tag; tag=$(basename "$1")-w-$2
  launch "$bin" "$WORK/m-$tag" --repl-diskless-sync "$md"
  local mport=$LPORT mpid=$LPID keyspace=2000000
  if [ "$MASTER_WRITES" = overwrite ]; then
    # The benchmark's own key names (key:%012d), 3N writes: ~95% of N keys.
    keyspace=$N
    redis-benchmark -h 127.0.0.1 -p "$mport" -t set -r "$N" -d 100 -n $((3 * N)) -P 64 -q \
      >/dev/null 2>&1
  else
    populate "$mport" "$N" key
  fi
  launch redis-server "$WORK/r-$tag"
  local rport=$LPORT rpid=$LPID
  redis-benchmark -h 127.0.0.1 -p "$mport" -t set -r "$keyspace" -d 100 -n 1000000000 -q \
    >/dev/null 2>&1 &
  local bpid=$!
  PIDS+=("$bpid")
  sleep 0.5 # writes under way before the sync starts
  local rss0 pss0 used0 secs samples peak ppeak
  read -r rss0 pss0 < <(python3 "$PROBE" rss "$mpid")
  used0=$(info_field "$mport" memory used_memory)
  local out
  out=$(DEADLINE=$MASTER_DEADLINE python3 "$PROBE" sync "$rport" "$mport" "$mpid" 2>&1) || true
  read -r secs samples peak ppeak <<< "$out"
  local used1; used1=$(info_field "$mport" memory used_memory)
  kill "$bpid" 2>/dev/null || true
  wait "$bpid" 2>/dev/null || true
  forget "$bpid"
  if ! [[ ${ppeak:-} =~ ^[0-9]+$ ]]; then
    printf '%-14s %-8s FAILED: %s\n' "$(basename "$bin")" "$md" "$out"
    FAILED=1
    stop "$rport" "$rpid"
    stop "$mport" "$mpid"
    return
  fi
  local grow=$(((used1 - used0) / 1024)) # KB the dataset grew (new keys) during the sync
  ((grow < 0)) && grow=0
  printf '%-14s %-8s %6.2f %8d %8d %7sx %9sx %8d %8d %7sx %7d  %s\n' "$(basename "$bin")" "$md" \
    "$secs" "$(mb "$rss0")" "$(mb "$peak")" "$(calc "$peak/$rss0" .2f)" \
    "$(calc "$peak/($rss0+$grow)" .2f)" "$(mb "$pss0")" "$(mb "$ppeak")" \
    "$(calc "$ppeak/$pss0" .2f)" "$(mb "$grow")" \
    "peak<=1.1x: $(calc "'ok' if $peak/$rss0 <= 1.1 else 'MISS'" s)"
  stop "$rport" "$rpid"
  stop "$mport" "$mpid"
}

section_master() {
  echo "== master memory during a full sync under writes, N=$N keys; redis-server replica;"
  echo "   redis-benchmark -t set -d 100 ($MASTER_WRITES keys) runs from 0.5 s before REPLICAOF until link up"
  echo "   RSS = master VmRSS (for redis-server the parent only); tree PSS = PSS of the master"
  echo "   plus its children (a redis-server fork child's copy-on-write pages counted once);"
  echo "   +grow = used_memory growth during the sync (the benchmark's new keys); excl.grow = peak/(RSS0+grow)"
  printf '%-14s %-8s %6s %8s %8s %8s %10s %8s %8s %8s %7s  %s\n' master diskless "sync s" \
    "RSS0 MB" "peak MB" peak/RSS0 excl.grow "PSS0 MB" "peak MB" peak/PSS0 "+grow" target
  local md
  for md in $MASTER_MODES; do
    master_one redis-server "$md"
    master_one "$RELICA" "$md"
  done
}

for s in $SECTIONS; do
  "section_$s"
done
exit "$FAILED"
