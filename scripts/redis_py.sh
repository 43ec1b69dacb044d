#!/usr/bin/env bash
# redis-py's own test suite, run against relica and redis-server side by
# side (RESP2 and RESP3, sync and asyncio clients): prints the tests that
# fail against relica and not against redis-server, and exits non-zero if
# there are any. Tests that fail for both (modules, cluster, TLS set-ups
# this machine lacks) are not relica's.
#
#   bash scripts/redis_py.sh                 (redis-py 5.0.8)
#   REDIS_PY=5.0.8 RELICA=/path/to/relica-server bash scripts/redis_py.sh
#
# Run by hand: it downloads redis-py's source and pytest from PyPI into a
# temporary virtualenv (python3-venv), so it is not part of scripts/test.
set -euo pipefail
cd "$(dirname "$0")/.."
REDIS_PY=${REDIS_PY:-5.0.8}
source bench/lib.sh

python3 -m venv "$WORK/venv"
PY="$WORK/venv/bin/python"
"$PY" -m pip install -q pytest 'pytest-asyncio==0.23.8' mock async-timeout packaging
"$PY" -m pip download -q --no-binary :all: --no-deps "redis==$REDIS_PY" -d "$WORK/dl"
tar -xzf "$WORK/dl/redis-$REDIS_PY.tar.gz" -C "$WORK"
SRC="$WORK/redis-$REDIS_PY"
"$PY" -m pip install -q -e "$SRC"

launch "$RELICA" "$WORK/relica"
RPORT=$LPORT
launch redis-server "$WORK/redis"
SPORT=$LPORT

UNITS=(
  tests/test_commands.py tests/test_scripting.py tests/test_function.py
  tests/test_pipeline.py tests/test_pubsub.py tests/test_lock.py
  tests/test_connection.py tests/test_connection_pool.py tests/test_encoding.py
  tests/test_hash.py tests/test_monitor.py tests/test_command_parser.py
  tests/test_helpers.py tests/test_retry.py tests/test_credentials.py
  tests/test_asyncio/test_commands.py tests/test_asyncio/test_pipeline.py
  tests/test_asyncio/test_pubsub.py tests/test_asyncio/test_scripting.py
  tests/test_asyncio/test_connection_pool.py tests/test_asyncio/test_lock.py
  tests/test_asyncio/test_monitor.py tests/test_asyncio/test_encoding.py
  tests/test_asyncio/test_hash.py tests/test_asyncio/test_connection.py
)

# failures port protocol: the failing test ids, sorted.
failures() {
  (cd "$SRC" && "$PY" -m pytest "${UNITS[@]}" -q -p no:cacheprovider -o addopts="" \
    -o asyncio_mode=auto -W ignore --redis-url="redis://127.0.0.1:$1/0" --protocol="$2" 2>&1) |
    tee "$WORK/pytest-$1-$2.log" | grep -E '^(FAILED|ERROR) ' | sed 's/ - .*//' | sort || true
}

status=0
for proto in 2 3; do
  theirs=$(failures "$SPORT" "$proto")
  ours=$(failures "$RPORT" "$proto")
  echo "RESP$proto: redis-server $(tail -n 1 "$WORK/pytest-$SPORT-$proto.log")"
  echo "RESP$proto: relica       $(tail -n 1 "$WORK/pytest-$RPORT-$proto.log")"
  only=$(comm -13 <(echo "$theirs") <(echo "$ours") | sed '/^$/d')
  if [ -n "$only" ]; then
    echo "RESP$proto: failing against relica only:"
    echo "$only"
    status=1
  fi
done
exit $status
