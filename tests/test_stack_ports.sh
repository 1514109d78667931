#!/usr/bin/env bash
# test_stack_ports.sh SOURCE_ROOT - `stack up` and ports that are bound but
# not listening (what a just-stopped stack or a client connection leaves):
#  1. held for good: up fails within VTEV_STACK_PORT_WAIT, names the port,
#     and starts nothing;
#  2. released after 4 s: up waits for it and comes up; down stops it.
# Uses its own state directory and ports (below the ephemeral range, which
# mock clusters and client connections draw from), beside any running stack.
set -euo pipefail
SRC=${1:-$(cd "$(dirname "$0")/.." && pwd)}
export VTEV_STACK_DIR=$(mktemp -d /tmp/vtev-stack-ports-XXXXXX)
export VTEV_STACK_KAFKA_PORT=${VTEV_TEST_PORT_BASE:-27092} VTEV_STACK_REGISTRY_PORT=$((${VTEV_TEST_PORT_BASE:-27092} - 11))
CTRL=$((VTEV_STACK_KAFKA_PORT + 1))
export VTEV_STACK_CONTROLLER_PORT=$CTRL # not the one of a stack this runs beside
holder=
cleanup() {
  [ -n "$holder" ] && kill "$holder" 2>/dev/null || true
  "$SRC/scripts/stack.sh" down >/dev/null 2>&1 || true
  rm -rf "$VTEV_STACK_DIR"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
hold() { # hold PORT SECONDS: bind without listening
  python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); print("held", flush=True); time.sleep(float(sys.argv[2]))' "$1" "$2" &
  holder=$!
  sleep 0.5
}

# 1. held for good
hold "$CTRL" 600
rc=0
out=$(VTEV_STACK_PORT_WAIT=3 "$SRC/scripts/stack.sh" up --quiet 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "up succeeded with port $CTRL bound"
grep -q "$CTRL" <<<"$out" || fail "the error does not name port $CTRL: $out"
pgrep -f "$VTEV_STACK_DIR/" >/dev/null && fail "something was started: $(pgrep -af "$VTEV_STACK_DIR/")"
echo "ok: a held port is named ($out)"
kill "$holder"; wait "$holder" 2>/dev/null || true; holder=

# 2. released while up waits; with --monitoring, Prometheus too
export VTEV_STACK_PROMETHEUS_PORT=$((VTEV_STACK_KAFKA_PORT - 12))
hold "$CTRL" 4
t0=$SECONDS
VTEV_STACK_PORT_WAIT=60 "$SRC/scripts/stack.sh" up --monitoring --quiet || fail "up did not wait for port $CTRL"
echo "ok: up waited for port $CTRL and came up in $((SECONDS - t0)) s"
grep -q "^PROMETHEUS_URL=http://127.0.0.1:$VTEV_STACK_PROMETHEUS_PORT$" "$VTEV_STACK_DIR/env" ||
  fail "env has no PROMETHEUS_URL: $(cat "$VTEV_STACK_DIR/env")"
curl -fsS "http://127.0.0.1:$VTEV_STACK_PROMETHEUS_PORT/-/ready" >/dev/null || fail "Prometheus is not ready"
for _ in $(seq 40); do # target discovery runs after the ready answer
  targets=$(curl -fsS "http://127.0.0.1:$VTEV_STACK_PROMETHEUS_PORT/api/v1/targets" |
    python3 -c 'import json,sys; print(" ".join(sorted(t["labels"]["job"] for t in json.load(sys.stdin)["data"]["activeTargets"])))')
  [ -n "$targets" ] && break
  sleep 0.5
done
[ "$targets" = "lag-exporter position-simulator prediction-persister prediction-trigger prediction-worker vt-demo" ] ||
  fail "Prometheus scrapes: '$targets'"
rules=$(curl -fsS "http://127.0.0.1:$VTEV_STACK_PROMETHEUS_PORT/api/v1/rules" |
  python3 -c 'import json,sys; print(sum(len(g["rules"]) for g in json.load(sys.stdin)["data"]["groups"]))')
[ "$rules" = 6 ] || fail "Prometheus has $rules alert rules, want the 6 of doc/monitoring/alerts.yml"
# (the output first: grep -q would end the pipe early, and pipefail then fail it)
st=$("$SRC/scripts/stack.sh" status 2>&1 || true)
grep -q "prometheus: running" <<<"$st" || fail "status does not show Prometheus: $st"
echo "ok: --monitoring: Prometheus scrapes the services' ports with the alert rules"
"$SRC/scripts/stack.sh" down >/dev/null || fail "down failed"
pgrep -f "$VTEV_STACK_DIR/" >/dev/null && fail "down left processes"
echo "ok: down"
