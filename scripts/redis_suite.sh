#!/usr/bin/env bash
# Run units of Redis 7.0's own test suite against relica.
#
#   bash scripts/redis_suite.sh [unit ...]        units named, or the CI list
#   bash scripts/redis_suite.sh --ci              the CI list; exit 1 unless
#                                                 every unit passes whole
#   SUITE=/path/to/redis-7.0/tests-dir bash scripts/redis_suite.sh ...
#   RUNTEST_ARGS="--baseport 31111" ...           two runs side by side
#   bash scripts/redis_suite.sh --tls [--ci] ...  the suite's TLS mode: every
#                                                 server and client on TLS
#                                                 (certificates made by its
#                                                 utils/gen-test-certs.sh;
#                                                 needs openssl and tcl-tls);
#                                                 the CI list is then
#                                                 scripts/redis_suite_units_tls.txt
#
# The suite (tests/ and runtest of Redis 7.0.15) is ../shared/redis-7.0-tests
# by default; it is read-only, so it is copied to a temporary directory, with
# relica (release build) linked there as src/redis-server and Debian's
# redis-cli, redis-benchmark, redis-check-rdb and redis-check-aof beside it.
# Each unit runs whole, in its own runtest (nothing skipped, no --only: a
# skipped test counts as failed), so that one unit stopping does not stop
# the others. Prints a line per unit; the full output is kept in the printed
# directory. scripts/redis_suite_units.txt lists the units that pass whole:
# `scripts/test` runs them with --ci, so a regression fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ci=0
tls=0
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) ci=1; shift ;;
    --tls) tls=1; shift ;;
    *) break ;;
  esac
done
list=$root/scripts/redis_suite_units.txt
[ $tls -eq 1 ] && list=$root/scripts/redis_suite_units_tls.txt
suite=${SUITE:-$root/../shared/redis-7.0-tests}
[ -f "$suite/runtest" ] || { echo "no Redis test suite at $suite" >&2; exit 1; }
units=("$@")
if [ ${#units[@]} -eq 0 ]; then
  mapfile -t units < <(grep -vE '^\s*(#|$)' "$list")
fi
# A list line may name, after the unit, the [ok] count it must reach when it
# cannot pass whole (the file says why); it then passes --ci at that count.
declare -A min_ok=()
for i in "${!units[@]}"; do
  read -r name want <<< "${units[$i]}"
  units[$i]=$name
  [ -n "${want:-}" ] && min_ok[$name]=$want
done
command -v tclsh >/dev/null || { echo "tclsh is needed (apt-get install tcl)" >&2; exit 1; }
if [ $tls -eq 1 ]; then
  command -v openssl >/dev/null || { echo "openssl is needed for --tls (apt-get install openssl)" >&2; exit 1; }
  echo 'exit [catch {package require tls}]' | tclsh >/dev/null 2>&1 || { echo "Tcl's TLS package is needed for --tls (apt-get install tcl-tls)" >&2; exit 1; }
fi
cargo build --release -q -p relica-server
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir=$root/$target_dir ;; esac
relica=$target_dir/release/relica-server
work=$(mktemp -d)
cp -r "$suite/tests" "$suite/runtest" "$work/"
[ -d "$suite/utils" ] && cp -r "$suite/utils" "$work/"
chmod -R u+w "$work"
mkdir -p "$work/src"
ln -s "$relica" "$work/src/redis-server"
for b in redis-cli redis-benchmark redis-check-rdb redis-check-aof; do
  p=$(command -v "$b" || true)
  [ -n "$p" ] || { echo "$b is needed (apt-get install redis-tools)" >&2; exit 1; }
  ln -s "$p" "$work/src/$b"
done
cd "$work"
tls_arg=
if [ $tls -eq 1 ]; then
  # DH parameters in DSA form: made in a moment rather than minutes (the
  # script keeps a redis.dh that exists; redis-server loads either form).
  mkdir -p tests/tls
  openssl dhparam -dsaparam -out tests/tls/redis.dh 2048 >/dev/null 2>&1
  bash utils/gen-test-certs.sh >"$work/gen-test-certs.out" 2>&1 || { cat "$work/gen-test-certs.out" >&2; exit 1; }
  tls_arg=--tls
fi
failed=()
for u in "${units[@]}"; do
  log="$work/$(echo "$u" | tr / _).out"
  start=$(date +%s)
  # shellcheck disable=SC2086 # RUNTEST_ARGS is a list of words
  timeout 900 ./runtest --single "$u" --clients 1 $tls_arg ${RUNTEST_ARGS:-} </dev/null >"$log" 2>&1 || true
  # runtest colours its verdicts: "[ok]" may read "[<esc>[0;32;49mok<esc>[0m]".
  ok=$(grep -cE '\[ok\]|32;49mok' "$log" || true)
  err=$(grep -cE '\[(err|exception)\]|31;49m(err|exception)' "$log" || true)
  if grep -q 'All tests passed' "$log"; then
    verdict=PASS
  elif [ -n "${min_ok[$u]:-}" ] && [ "$ok" -ge "${min_ok[$u]}" ] && grep -q 'The End' "$log"; then
    verdict="PASS (${min_ok[$u]} expected)"
  else
    verdict=FAIL
    failed+=("$u")
  fi
  printf '%-36s ok=%-4s err=%-3s %4ss %s\n' "$u" "$ok" "$err" "$(($(date +%s) - start))" "$verdict"
  if [ $ci -eq 1 ] && [ "$verdict" = FAIL ]; then
    echo "---- $u: failures ----"
    grep -E -A12 '\[(err|exception)\]|31;49m(err|exception)' "$log" | head -60 || true
    tail -20 "$log"
  fi
done
echo "logs: $work"
if [ $ci -eq 1 ]; then
  echo "redis suite${tls_arg:+ (TLS)}: ${#units[@]} units, ${#failed[@]} failed${failed[*]:+: ${failed[*]}}"
  [ ${#failed[@]} -eq 0 ] || exit 1
fi
