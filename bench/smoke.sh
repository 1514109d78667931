#!/usr/bin/env bash
# bench/smoke.sh BUILD_BENCH_DIR [--stack] - runs every benchmark program
# with tiny counts so they keep compiling and working (no timing is checked).
# Default: the in-process mock cluster and mock:// registry (the environment's
# KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL are ignored).
# --stack: the real stack of those two variables, plus the Python baseline
# scripts with $VTEV_PYTHON; a missing variable fails the test (exit 77, skip,
# when VTEV_ALLOW_SKIP=1).
set -euo pipefail
B=$1
shift
PY=
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "bench smoke: $*" >&2; exit 1; }
if [ "${1:-}" = "--stack" ]; then
  for v in KAFKA_BOOTSTRAP_SERVERS SCHEMA_REGISTRY_URL VTEV_PYTHON; do
    if [ -z "${!v:-}" ]; then
      [ "${VTEV_ALLOW_SKIP:-0}" = 1 ] && { echo "bench smoke: $v is not set: skipped"; exit 77; }
      fail "$v is not set (./run test sets it; VTEV_ALLOW_SKIP=1 to skip)"
    fi
  done
  PY=$VTEV_PYTHON
else
  export KAFKA_BOOTSTRAP_SERVERS=mock://bench-smoke SCHEMA_REGISTRY_URL=mock://bench-smoke
fi

# expect LABEL TABLE METRIC OUTPUT: OUTPUT must hold an R line of TABLE with
# METRIC and a positive value.
expect() {
  printf '%s\n' "$4" | awk -F'\t' -v t="$2" -v m="$3" \
    '$1=="R" && $2==t && $5==m && $6+0 > 0 {ok=1} END {exit !ok}' ||
    fail "$1: no positive $2/$3 result in:
$4"
  echo "ok: $1"
}

out=$("$B/bench_publish" -t result -p 3 -n 300 -r 2)
expect "bench_publish typed" publish eps "$(printf '%s\n' "$out" | grep typed)"
expect "bench_publish plain" publish eps "$(printf '%s\n' "$out" | grep plain)"
expect "bench_publish gen" publish eps "$(printf '%s\n' "$out" | grep $'\tgen\t')"
# (on the mock cluster the plain consumer would have its own, empty cluster)
sides=typed,gen; [ -n "$PY" ] && sides=typed,gen,plain
out=$("$B/bench_consume" -t request -p 3 -n 300 -r 2 -s "$sides")
expect "bench_consume typed" consume eps "$(printf '%s\n' "$out" | grep typed)"
expect "bench_consume gen" consume eps "$(printf '%s\n' "$out" | grep $'\tgen\t')"
if [ -n "$PY" ]; then
  expect "bench_consume plain" consume eps "$(printf '%s\n' "$out" | grep plain)"
fi
out=$("$B/bench_latency" -R 500 -d 0.5 -r 1)
expect "bench_latency paced" latency p50_ms "$out"
printf '%s\n' "$out" | grep -q $'\tlost\t0$' || fail "bench_latency lost events: $out"
out=$("$B/bench_latency" -R 0 -d 0.3 -r 1 -P low-latency)
expect "bench_latency one at a time" latency p99_ms "$out"
# (8 s: the consumer joins a fresh group first, which takes the mock
# coordinator several seconds on a loaded machine or under ASan)
out=$("$B/bench_memory" -m both -R 500 -d 8 -i 1 -T "bench-smoke-memory-$$")
expect "bench_memory" memory peak_kb "$out"
printf '%s\n' "$out" | grep -qE $'\tconsumed\t[1-9]' || fail "bench_memory consumed nothing: $out"
"$B/bench_codec" -n 200 -r 1 >/dev/null || fail "bench_codec failed"
echo "ok: bench_codec"
out=$("$B/bench_gencodec" -n 200 -r 1 2>/dev/null) || fail "bench_gencodec failed"
expect "bench_gencodec" gencodec ns_op "$out"
out=$("$B/bench_hostile" wide5k-115 2)
printf '%s\n' "$out" | grep -q 'avro.max.values' || fail "bench_hostile: no limit hit: $out"
echo "ok: bench_hostile"

if [ -n "$PY" ]; then
  # vt-dlq reaches only a real broker
  out=$("$B/bench_dlq" -x "$B/../tools/vt-dlq" -n 50 -r 1)
  expect "bench_dlq" dlq_stats seconds "$out"
  out=$("$PY" -W ignore "$SRC/py/py_publish.py" "$B/bench_publish" position 1 200 1)
  expect "py_publish" publish eps "$out"
  topic="bench-smoke-py-$$"
  "$B/bench_consume" -t position -n 200 -T "$topic" --fill-only
  out=$("$PY" -W ignore "$SRC/py/py_consume.py" position 1 "$topic" 200 1)
  expect "py_consume" consume eps "$out"
fi
