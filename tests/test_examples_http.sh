#!/usr/bin/env bash
# The example services' HTTP endpoints (--http, examples/http.c) on the
# embedded default: /metrics is Prometheus text that `promtool check metrics`
# accepts, with the library's series, the health gauges and the service's own
# counters; /healthz and /readyz answer 200 with the report as JSON, /readyz
# 503 with the reasons when no broker can be reached; other paths 404,
# other methods 405; a bad --http value is a usage error (2) naming it; a
# port in use is a runtime failure (1); SIGTERM stops the service with 0.
#
# lag-exporter and vt-demo (the whole pipeline as threads) serve the same.
#
# usage: test_examples_http.sh SIMULATOR TRIGGER WORKER PERSISTER LAG_EXPORTER VT_DEMO
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SIM=$(readlink -f "$1") TRIG=$(readlink -f "$2") WORK=$(readlink -f "$3") PERS=$(readlink -f "$4")
LAGX=$(readlink -f "$5") DEMO=$(readlink -f "$6")

unset KAFKA_BOOTSTRAP_SERVERS SCHEMA_REGISTRY_URL VTEV_CONFIG
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
cd "$TMP" || exit 1

fails=0 checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }

if ! command -v promtool >/dev/null 2>&1; then
  echo "FAIL: promtool not found (Debian package prometheus; ./run deps installs it)"
  exit 1
fi

# A free port below the ephemeral range (tests/free_port.py).
free_port() { python3 "$HERE/free_port.py"; }

# get NAME URL WANT_STATUS [METHOD]: the body in $TMP/body
get() {
  local code
  code=$(curl -s -m 10 -X "${4:-GET}" -o "$TMP/body" -w '%{http_code}' "$2")
  if [ "$code" = "$3" ]; then ok; else bad "$1: HTTP $code, want $3: $(head -c 400 "$TMP/body")"; fi
}
has() { # has NAME REGEX: the body matches
  if grep -Eq -- "$2" "$TMP/body"; then ok; else bad "$1: body does not match /$2/: $(head -c 600 "$TMP/body")"; fi
}
# wait_http URL: until it answers at all (10 s)
wait_http() {
  local i
  for i in $(seq 100); do
    curl -s -m 1 -o /dev/null "$1" && return 0
    sleep 0.1
  done
  return 1
}
# wait_status URL STATUS SECONDS
wait_status() {
  local i code
  for i in $(seq $(($3 * 5))); do
    code=$(curl -s -m 2 -o "$TMP/body" -w '%{http_code}' "$1")
    [ "$code" = "$2" ] && return 0
    sleep 0.2
  done
  return 1
}

check_service() { # NAME PROGRAM ARGS...
  local name=$1 prog=$2 port pid rc
  shift 2
  port=$(free_port)
  "$prog" -b "mock://$name" -r "mock://$name" --http "$port" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  pid=$!
  PIDS+=("$pid")
  local base="http://127.0.0.1:$port"
  if ! wait_http "$base/healthz"; then
    bad "$name: --http $port does not answer"; sed 's/^/  stderr: /' "$TMP/$name.err" >&2
    return
  fi
  get "$name /healthz" "$base/healthz" 200
  has "$name /healthz" "\"service\": \"$name\""
  has "$name /healthz" '"live":true'
  if wait_status "$base/readyz" 200 30; then ok; else
    bad "$name: /readyz not 200 within 30 s: $(cat "$TMP/body")"
  fi
  get "$name /metrics" "$base/metrics" 200
  if promtool check metrics <"$TMP/body" >"$TMP/promtool" 2>&1; then ok; else
    bad "$name: promtool check metrics: $(cat "$TMP/promtool")"
  fi
  has "$name /metrics" '^# TYPE vtev_consumer_messages_total counter$'
  has "$name /metrics" '^vtev_process_ready 1$'
  has "$name /metrics" "^vt_service_events_total\\{service=\"$name\",kind=\"consumed\"\\} [0-9]+$"
  get "$name HEAD /metrics" "$base/metrics" 200 HEAD
  get "$name /nope" "$base/nope" 404
  has "$name /nope" '"error": "NOT_FOUND", "field": "path"'
  get "$name POST /metrics" "$base/metrics" 405 POST
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  if [ "$rc" = 0 ]; then ok; else bad "$name: exit $rc after SIGTERM"; sed 's/^/  stderr: /' "$TMP/$name.err" >&2; fi
}

check_service position-simulator "$SIM" --rate 2 --duration 600
check_service prediction-trigger "$TRIG"
check_service prediction-worker "$WORK"
check_service prediction-persister "$PERS" --db "$TMP/p.db"

# The simulator published: its producer's series are in /metrics
port=$(free_port)
"$SIM" -q -b mock://simm -r mock://simm --http "$port" --rate 50 --duration 600 >/dev/null 2>"$TMP/simm.err" &
PIDS+=($!)
wait_http "http://127.0.0.1:$port/metrics"
for i in $(seq 100); do # deliveries within 20 s
  curl -s -m 2 -o "$TMP/body" "http://127.0.0.1:$port/metrics"
  grep -Eq '^vtev_producer_delivery_seconds_count\{topic="vessel-position-updates"\} [1-9]' "$TMP/body" && break
  sleep 0.2
done
get "simulator producer series" "http://127.0.0.1:$port/metrics" 200
has "simulator producer series" '^vtev_producer_messages_total\{topic="vessel-position-updates",outcome="delivered"\} [1-9][0-9]*$'
has "simulator producer series" '^vtev_producer_delivery_seconds_count\{topic="vessel-position-updates"\} [1-9][0-9]*$'
kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null

# No broker: live, not ready, and the reason says why
port=$(free_port)
"$WORK" -q -b 127.0.0.1:1 -r mock://nob --http "127.0.0.1:$port" -X health.stats.interval.ms=200 \
  >/dev/null 2>"$TMP/nob.err" &
PIDS+=($!)
wait_http "http://127.0.0.1:$port/healthz"
if wait_status "http://127.0.0.1:$port/readyz" 503 20; then ok; else bad "no broker: /readyz not 503: $(cat "$TMP/body")"; fi
has "no broker /readyz" '"status": "not ready"'
has "no broker /readyz" '"check":"(brokers|assignment)"'
get "no broker /healthz" "http://127.0.0.1:$port/healthz" 200
has "no broker /healthz" '"live":true'
get "no broker /metrics" "http://127.0.0.1:$port/metrics" 200
has "no broker /metrics" '^vtev_process_ready 0$'

# The same port again: exit 1, the address named
"$TRIG" -q -b mock://dup -r mock://dup --http "127.0.0.1:$port" >/dev/null 2>"$TMP/dup.err"
rc=$?
if [ "$rc" = 1 ] && grep -q "cannot listen on 127.0.0.1 port $port" "$TMP/dup.err"; then ok; else
  bad "port in use: exit $rc: $(cat "$TMP/dup.err")"
fi
kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null

# lag-exporter: the lag of a group on the platform topics of its cluster
port=$(free_port)
"$LAGX" -q -b mock://lx -r mock://lx -g grp-x --http "$port" >/dev/null 2>"$TMP/lx.err" &
PIDS+=($!)
if wait_http "http://127.0.0.1:$port/metrics"; then ok; else bad "lag-exporter does not answer"; fi
get "lag-exporter /metrics" "http://127.0.0.1:$port/metrics" 200
if promtool check metrics <"$TMP/body" >"$TMP/promtool" 2>&1; then ok; else
  bad "lag-exporter: promtool check metrics: $(cat "$TMP/promtool")"
fi
has "lag-exporter /metrics" '^vtev_group_lag_messages\{group="grp-x",topic="vessel-position-updates",partition="0"\} 0$'
has "lag-exporter /metrics" '^vtev_group_lag_errors_total 0$'
kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}"
rc=$?
if [ "$rc" = 0 ]; then ok; else bad "lag-exporter: exit $rc after SIGTERM"; fi
"$LAGX" -q -b mock://lx -r mock://lx --http "$port" >/dev/null 2>"$TMP/lx.err"
rc=$?
if [ "$rc" = 2 ] && grep -q -- "-g GROUP" "$TMP/lx.err"; then ok; else bad "lag-exporter without -g: exit $rc"; fi

# vt-demo: the pipeline's threads in one process, one endpoint
port=$(free_port)
"$DEMO" -q --count 400 --rate 20 --db "$TMP/demo.db" --http "$port" >"$TMP/demo.out" 2>"$TMP/demo.err" &
PIDS+=($!)
wait_http "http://127.0.0.1:$port/metrics"
for i in $(seq 100); do # until results are handled (20 s)
  curl -s -m 2 -o "$TMP/body" "http://127.0.0.1:$port/metrics"
  grep -Eq '^vtev_consumer_messages_total\{topic="prediction-results",outcome="ok"\} [1-9]' "$TMP/body" && break
  sleep 0.2
done
get "vt-demo /metrics" "http://127.0.0.1:$port/metrics" 200
if promtool check metrics <"$TMP/body" >"$TMP/promtool" 2>&1; then ok; else
  bad "vt-demo: promtool check metrics: $(cat "$TMP/promtool")"
fi
has "vt-demo /metrics" '^vtev_consumer_messages_total\{topic="prediction-results",outcome="ok"\} [1-9][0-9]*$'
has "vt-demo /metrics" '^vtev_producer_messages_total\{topic="vessel-position-updates",outcome="delivered"\} [1-9][0-9]*$'
if wait_status "http://127.0.0.1:$port/readyz" 200 20; then ok; else bad "vt-demo /readyz: $(cat "$TMP/body")"; fi
has "vt-demo /readyz" '"service": "vt-demo"'
kill -INT "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null

# Bad values: exit 2, naming --http and the value
for v in abc 127.0.0.1:99999 :8080 "localhost:80x" ""; do
  "$WORK" -q -b mock://bad -r mock://bad --http "$v" >/dev/null 2>"$TMP/bad.err"
  rc=$?
  if [ "$rc" = 2 ] && grep -q -- "--http" "$TMP/bad.err"; then ok; else
    bad "--http '$v': exit $rc: $(cat "$TMP/bad.err")"
  fi
done
"$WORK" -q -b mock://bad -r mock://bad --http example.com:80 >/dev/null 2>"$TMP/bad.err"
rc=$?
if [ "$rc" = 1 ] && grep -q '"example.com" is not an IP address' "$TMP/bad.err"; then ok; else
  bad "--http example.com:80: exit $rc: $(cat "$TMP/bad.err")"
fi

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
