#!/usr/bin/env bash
# Integration test of the example pipeline over the real stack
# (KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL, as ./run test sets them).
#
#   test_examples.sh sqlite       DIR   a few thousand positions, SQLite
#   test_examples.sh postgresql   DIR   the same into a PostgreSQL server started here
#   test_examples.sh exactly-once DIR   --exactly-once worker SIGKILLed mid-stream and
#                                       restarted: exactly one result set per request
#   test_examples.sh kill-unstored DIR  at-least-once trigger and worker SIGKILLed while
#                                       their outputs wait 3 s for delivery, restarted:
#                                       every position has its results (nothing lost)
#   test_examples.sh pg-outage    DIR   PostgreSQL stopped for 20 s while the persister
#                                       runs: 0 dead letters, every row present after
#
# DIR holds vt-demo and the four programs.  vt-demo runs each service as its
# own process on topics and groups unique to the run, waits until every group
# has consumed its input, and exits 0 only when every request has its three
# results, rows == results (a duplicate delivery to the read_committed
# persister would make them differ; after a SIGKILLed trigger or worker a
# redelivered request gives the same prediction ids, stored once, so rows may
# then be fewer, never more), and the dead-letter topics are empty.
# This script checks the database independently as well.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mode=$1 dir=$2
demo=$dir/vt-demo

fail() { echo "FAIL: $*"; exit 1; }
if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ] || [ -z "${SCHEMA_REGISTRY_URL:-}" ]; then
  if [ "${VTEV_ALLOW_SKIP:-}" = 1 ]; then exit 77; fi
  fail "KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL are not set: start the stack with ./run stack up"
fi
[ -x "$demo" ] || fail "$demo is not built"

tmp=$(mktemp -d /tmp/vtev-examples-XXXXXX)
chmod 755 "$tmp"
pg_ctl=
cleanup() {
  if [ -n "$pg_ctl" ]; then $pg_ctl stop -m fast >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Runs vt-demo, keeps its output, checks the summary lines.
run_demo() {
  local rc=0
  "$demo" --real --quiet-predictions --timeout 240 "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  demo_ok "$rc"
}

# Checks vt-demo's exit status $1 and its summary lines.
demo_ok() {
  local rc=$1
  cat "$tmp/out"
  if [ "$rc" != 0 ]; then
    sed 's/^/stderr: /' "$tmp/err" | tail -n 40
    fail "vt-demo exited with $rc"
  fi
  grep -q '^OK: every request got its 3 results' "$tmp/out" || fail "no OK line"
  grep -q 'dead letters 0$' "$tmp/out" || fail "dead letters"
}

# summary field: "summary: positions N, requests N, results N, rows persisted N, dead letters N"
field() { sed -n "s/^summary:.* $1 \([0-9]*\).*/\1/p" "$tmp/out"; }

# The database, read by another client: rows, distinct requests, requests
# without exactly three rows, rows breaking the engine's invariants.
check_db() {
  local rows=$1 requests=$2 incomplete=$3 bad=$4
  local want_rows want_requests
  want_rows=$(field results)
  want_requests=$(field requests)
  [ -n "$want_rows" ] && [ "$want_rows" -gt 0 ] || fail "no results in the summary"
  [ "$rows" = "$want_rows" ] || fail "database has $rows rows, summary says $want_rows results"
  [ "$requests" = "$want_requests" ] || fail "database has $requests requests, summary says $want_requests"
  [ "$rows" = $((3 * requests)) ] || fail "$rows rows for $requests requests (3 each expected)"
  [ "$incomplete" = 0 ] || fail "$incomplete requests without exactly 3 results"
  [ "$bad" = 0 ] || fail "$bad rows with scores out of range or non-zero rag_boost/ai_adjustment"
  echo "database: $rows rows, $requests requests, every request with 3 results"
}

sql_checks=(
  "SELECT COUNT(*) FROM predictions"
  "SELECT COUNT(DISTINCT request_id) FROM predictions"
  "SELECT COUNT(*) FROM (SELECT request_id FROM predictions GROUP BY request_id HAVING COUNT(*) <> 3) x"
  "SELECT COUNT(*) FROM predictions WHERE confidence_score < 0 OR confidence_score > 1 OR proximity_score < 0 OR proximity_score > 1 OR speed_score < 0 OR speed_score > 1 OR heading_score < 0 OR heading_score > 1 OR rag_boost <> 0 OR ai_adjustment <> 0 OR distance_km < 0 OR ai_reasoning = '' OR correlation_id IS NULL"
)

# Starts a PostgreSQL server of its own in $tmp/pg on 127.0.0.1:$port; sets
# $pg_ctl (also used to stop and start it again) and $url.
start_pg() {
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -x "$pgbin/initdb" ] || fail "PostgreSQL server binaries not found (Debian package postgresql)"
  as_pg=()
  if [ "$(id -u)" = 0 ]; then
    # the server refuses to run as root
    id postgres >/dev/null 2>&1 || fail "running as root and there is no postgres user"
    chown postgres "$tmp"
    as_pg=(runuser -u postgres --)
  fi
  "${as_pg[@]}" "$pgbin/initdb" -D "$tmp/pg" -U vtev --auth=trust -E UTF8 >"$tmp/initdb.log" 2>&1 ||
    { cat "$tmp/initdb.log"; fail "initdb"; }
  pg_ctl="${as_pg[*]} $pgbin/pg_ctl -D $tmp/pg"
  # VTEV_PG_PORT, else a free port below the ephemeral range (32768-60999
  # here), where no outgoing connection takes it as its local port; another
  # one when the server finds it taken anyway (tests run in parallel)
  local try
  for try in 1 2 3 4 5; do
    port=${VTEV_PG_PORT:-$(python3 "$HERE/free_port.py")}
    if $pg_ctl -w -t 60 -l "$tmp/pg.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c fsync=off" start >/dev/null; then
      url="postgresql://vtev@127.0.0.1:$port/postgres"
      return 0
    fi
    if [ -n "${VTEV_PG_PORT:-}" ] || ! grep -q 'could not bind' "$tmp/pg.log"; then break; fi
    : >"$tmp/pg.log"
  done
  cat "$tmp/pg.log"
  fail "PostgreSQL did not start on 127.0.0.1:$port"
}

case "$mode" in
sqlite)
  db=$tmp/predictions.db
  run_demo --count 3000 --rate 500 --db "$db"
  vals=()
  for q in "${sql_checks[@]}"; do
    vals+=("$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$db" "$q")")
  done
  check_db "${vals[@]}"
  ;;
postgresql)
  start_pg
  run_demo --count 2000 --rate 500 --db "$url"
  vals=()
  for q in "${sql_checks[@]}"; do
    vals+=("$(psql -X -At "$url" -c "$q")")
  done
  check_db "${vals[@]}"
  ;;
exactly-once)
  db=$tmp/predictions.db
  # The transactional worker commits one transaction per request; the rate
  # keeps a steady stream while the worker is killed 4 s into it.
  run_demo --exactly-once --count 900 --rate 60 --kill-worker-after 4 --db "$db"
  killed=$(sed -n 's/^vt-demo: killed prediction-worker (SIGKILL) with \([0-9]*\) results persisted.*/\1/p' "$tmp/out")
  [ -n "$killed" ] || fail "the worker was not killed"
  results=$(field results)
  # mid-stream: some results before the kill, more after the restart
  [ "$killed" -gt 0 ] && [ "$killed" -lt "$results" ] ||
    fail "killed with $killed of $results results persisted: not mid-stream"
  vals=()
  for q in "${sql_checks[@]}"; do
    vals+=("$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$db" "$q")")
  done
  check_db "${vals[@]}"
  ;;
kill-unstored)
  db=$tmp/predictions.db
  # Every position makes a request (--every-position), each output is held
  # 3 s before it is sent (--slow-delivery), and the trigger and the worker
  # are SIGKILLed mid-stream: their inputs' offsets may have been committed
  # only after the outputs' delivery reports, so the restarted services
  # redeliver whatever was still in flight.
  run_demo --count 600 --rate 40 --every-position --slow-delivery 3000 \
    --kill-trigger-after 5 --kill-worker-after 9 --db "$db"
  for s in trigger worker; do
    grep -q "^vt-demo: killed prediction-$s (SIGKILL)" "$tmp/out" || fail "the $s was not killed"
  done
  q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$db" "$1"; }
  # every position carries its own correlation id into its request and results
  corr=$(q "SELECT COUNT(DISTINCT correlation_id) FROM predictions")
  [ "$corr" = 600 ] || fail "$corr of 600 positions have results (lost in the kills)"
  incomplete=$(q "SELECT COUNT(*) FROM (SELECT request_id FROM predictions GROUP BY request_id HAVING COUNT(*) <> 3) x")
  [ "$incomplete" = 0 ] || fail "$incomplete requests without exactly 3 results"
  echo "database: every one of the 600 positions has its results"
  ;;
pg-outage)
  start_pg
  # about 25 s of positions; PostgreSQL goes away for 20 s once rows arrive
  "$demo" --real --quiet-predictions --timeout 240 --count 1000 --rate 40 --db "$url" \
    >"$tmp/out" 2>"$tmp/err" &
  demo_pid=$!
  for _ in $(seq 1 300); do
    n=$(psql -X -At "$url" -c "SELECT COUNT(*) FROM predictions" 2>/dev/null || echo 0)
    [ "${n:-0}" -gt 0 ] && break
    sleep 0.1
  done
  [ "${n:-0}" -gt 0 ] || { kill "$demo_pid" 2>/dev/null; fail "no rows before the outage"; }
  $pg_ctl stop -m fast >/dev/null
  echo "PostgreSQL stopped with $n rows; 20 s outage"
  sleep 20
  $pg_ctl -w -t 60 -l "$tmp/pg.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c fsync=off" start >/dev/null ||
    { cat "$tmp/pg.log"; fail "PostgreSQL did not start again"; }
  echo "PostgreSQL started again"
  rc=0
  wait "$demo_pid" || rc=$?
  demo_ok "$rc"
  grep -q 'prediction-persister: database unavailable' "$tmp/err" ||
    fail "the persister never saw the outage"
  echo "persister: $(grep -c 'prediction-persister: database unavailable' "$tmp/err") retries logged"
  vals=()
  for q in "${sql_checks[@]}"; do
    vals+=("$(psql -X -At "$url" -c "$q")")
  done
  check_db "${vals[@]}"
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
echo "PASS: examples $mode"
