#!/usr/bin/env bash
# The pipeline scraped by a real Prometheus (Debian's prometheus, on
# 127.0.0.1), on the real broker and registry of ./run stack:
#   - positions published = results persisted / 3, read from the scraped
#     metrics (the simulator's delivered positions, the persister's rows);
#   - the consumers' lag goes back to 0;
#   - the persister's handler histogram is populated;
#   - the lag alert of doc/monitoring/alerts.yml (threshold lowered to 20,
#     "for" to 0 s) fires when the persister is stopped while results keep
#     coming (lag-exporter reads the group's lag from the brokers), and
#     resolves once a restarted persister has caught up.
#
#   - and the trace context: every request carries the trace id of the
#     position that triggered it, every result the trace id of its request
#     (each hop a new span).
#
# usage: test_prometheus.sh SIMULATOR TRIGGER WORKER PERSISTER LAG_EXPORTER VT_TOPICS ALERTS_YML VT_TAIL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
abs() { readlink -f "$1"; }
SIM=$(abs "$1") TRIG=$(abs "$2") WORK=$(abs "$3") PERS=$(abs "$4") LAGX=$(abs "$5")
TOPICS=$(abs "$6") ALERTS=$(abs "$7") TAIL=$(abs "$8")
: "${KAFKA_BOOTSTRAP_SERVERS:?start the stack with ./run stack up}"
: "${SCHEMA_REGISTRY_URL:?start the stack with ./run stack up}"
PROM=$(command -v prometheus) || { echo "FAIL: prometheus not found (Debian package prometheus; ./run deps installs it)"; exit 1; }

TMP=$(mktemp -d)
declare -A PID
cleanup() {
  local k
  for k in "${!PID[@]}"; do kill "${PID[$k]}" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
cd "$TMP" || exit 1

fails=0 checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }

# A free port below the ephemeral range (tests/free_port.py).
free_port() { python3 "$HERE/free_port.py"; }

P=prom-$$-$RANDOM
X=(-X "topic.position=$P.pos" -X "topic.request=$P.req" -X "topic.result=$P.res" -q)
"$TOPICS" "${X[@]}" create >"$TMP/topics.out" 2>&1 || { cat "$TMP/topics.out"; echo "FAIL: topics"; exit 1; }

declare -A PORT
for s in simulator trigger worker persister lag prometheus; do PORT[$s]=$(free_port); done
N=30 M=40

start() { # NAME PROGRAM ARGS...
  local name=$1
  shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PID[$name]=$!
}
start trigger "$TRIG" "${X[@]}" -X "group.id=$P-trig" --min-distance 0 --http "${PORT[trigger]}"
start worker "$WORK" "${X[@]}" -X "group.id=$P-work" --http "${PORT[worker]}"
start persister "$PERS" "${X[@]}" -X "group.id=$P-pers" --db "$TMP/p.db" --http "${PORT[persister]}"
start lag "$LAGX" "${X[@]}" -g "$P-pers" -t "$P.res" --http "${PORT[lag]}"

# Prometheus: every service, once a second; the alerts with a test threshold
sed -e 's/> 1000$/> 20/' -e 's/^\(        for: \)1m$/\10s/' "$ALERTS" >"$TMP/alerts.yml"
grep -q '> 20$' "$TMP/alerts.yml" || { echo "FAIL: the lag threshold of $ALERTS was not found"; exit 1; }
{
  echo "global: {scrape_interval: 1s, evaluation_interval: 1s}"
  echo "rule_files: ['$TMP/alerts.yml']"
  echo "scrape_configs:"
  for s in simulator trigger worker persister lag; do
    echo "  - job_name: $s"
    echo "    static_configs: [{targets: ['127.0.0.1:${PORT[$s]}']}]"
  done
} >"$TMP/prometheus.yml"
start prometheus "$PROM" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
  --web.listen-address="127.0.0.1:${PORT[prometheus]}" --log.level=warn
API="http://127.0.0.1:${PORT[prometheus]}/api/v1"

# query PROMQL: the first value (or "" when the result is empty)
query() {
  curl -s -m 5 --data-urlencode "query=$1" "$API/query" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")'
}
# until QUERY gives WANT (numerically), at most SECONDS
until_value() { # NAME QUERY WANT SECONDS
  local i v=""
  for i in $(seq $(($4 * 2))); do
    v=$(query "$2")
    if [ -n "$v" ] && python3 -c "import sys; sys.exit(0 if float('$v') == float('$3') else 1)"; then
      ok; return 0
    fi
    sleep 0.5
  done
  bad "$1: $2 is '$v', want $3"
  return 1
}
# the state of alert NAME for the group (firing, pending, or "")
alert_state() {
  curl -s -m 5 "$API/alerts" | python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["labels"].get("alertname") == sys.argv[1] and a["labels"].get("group") == sys.argv[2]:
        print(a["state"]); break' "$1" "$2"
}

for i in $(seq 60); do curl -s -m 1 "http://127.0.0.1:${PORT[prometheus]}/-/ready" >/dev/null && break; sleep 0.5; done
# the consumers are ready (partitions assigned), as Prometheus sees it
until_value "consumers ready" 'sum(vtev_process_ready{job=~"trigger|worker|persister"})' 3 60

# ---- the pipeline: N positions -> N requests -> 3N results -------------------
start simulator "$SIM" "${X[@]}" --count "$N" --rate 20 --linger --http "${PORT[simulator]}"
until_value "positions delivered" \
  "sum(vtev_producer_messages_total{job=\"simulator\",topic=\"$P.pos\",outcome=\"delivered\"})" "$N" 60
until_value "results persisted" \
  'sum(vt_service_events_total{job="persister",kind="rows"})' $((3 * N)) 90
pos=$(query "sum(vtev_producer_messages_total{job=\"simulator\",topic=\"$P.pos\",outcome=\"delivered\"})")
rows=$(query 'sum(vt_service_events_total{job="persister",kind="rows"})')
if [ -n "$pos" ] && [ -n "$rows" ] && python3 -c "import sys; sys.exit(0 if float('$pos') == float('$rows') / 3 else 1)"; then ok; else
  bad "positions published ($pos) != results persisted ($rows) / 3"
fi
until_value "lag back to 0" 'sum(vtev_consumer_lag_messages{job=~"trigger|worker|persister"})' 0 60
until_value "group lag 0" "sum(vtev_group_lag_messages{group=\"$P-pers\"})" 0 60
until_value "handler histogram count" \
  "sum(vtev_consumer_handler_seconds_count{job=\"persister\",topic=\"$P.res\"})" $((3 * N)) 30
inf=$(query "sum(vtev_consumer_handler_seconds_bucket{job=\"persister\",topic=\"$P.res\",le=\"+Inf\"})")
fast=$(query "sum(vtev_consumer_handler_seconds_bucket{job=\"persister\",topic=\"$P.res\",le=\"1\"})")
if [ -n "$fast" ] && python3 -c "import sys; sys.exit(0 if 0 < float('$fast') <= float('$inf') else 1)"; then ok; else
  bad "handler histogram: le=1 bucket '$fast', +Inf '$inf'"
fi
st=$(alert_state VtevConsumerLagHigh "$P-pers")
if [ -z "$st" ]; then ok; else bad "the lag alert is '$st' before the persister stopped"; fi

# ---- the persister stops: the lag alert fires; it comes back: it resolves ----
kill -TERM "${PID[persister]}"
wait "${PID[persister]}" 2>/dev/null
unset 'PID[persister]'
"$SIM" "${X[@]}" --count "$M" --rate 40 >"$TMP/sim2.out" 2>&1 || bad "second simulator run"
fired=""
for i in $(seq 120); do
  [ "$(alert_state VtevConsumerLagHigh "$P-pers")" = firing ] && { fired=1; break; }
  sleep 0.5
done
if [ -n "$fired" ]; then ok; else
  bad "the lag alert did not fire (group lag $(query "sum(vtev_group_lag_messages{group=\"$P-pers\"})"))"
fi
start persister "$PERS" "${X[@]}" -X "group.id=$P-pers" --db "$TMP/p.db" --http "${PORT[persister]}"
until_value "group lag 0 again" "sum(vtev_group_lag_messages{group=\"$P-pers\"})" 0 90
resolved=""
for i in $(seq 60); do
  [ -z "$(alert_state VtevConsumerLagHigh "$P-pers")" ] && { resolved=1; break; }
  sleep 0.5
done
if [ -n "$resolved" ]; then ok; else bad "the lag alert did not resolve"; fi

# ---- the trace context through the pipeline ----------------------------------
for t in pos req res; do
  "$TAIL" "${X[@]}" -t "$P.$t" -o beginning -e >"$TMP/$t.jsonl" 2>"$TMP/tail-$t.err" || bad "vt-tail $P.$t"
done
if python3 - "$TMP" $((N + M)) <<'PY' 2>"$TMP/trace.err"; then ok; else bad "trace context: $(cat "$TMP/trace.err")"; fi
import json, sys
d, want = sys.argv[1], int(sys.argv[2])
def load(t):
    return [json.loads(l) for l in open(f"{d}/{t}.jsonl") if l.strip()]
def tp(m):
    v = m["headers"].get("traceparent")
    assert isinstance(v, str) and len(v) == 55, m["headers"]
    return v.split("-")[1], v.split("-")[2]
pos = {m["event"]["event_id"]: tp(m) for m in load("pos")}
reqs = {}
for m in load("req"):
    pid = m["event"]["metadata"]["position_event_id"]
    t, s = tp(m)
    assert pid in pos, pid
    assert t == pos[pid][0], f"request {m['event']['event_id']}: trace {t}, its position's {pos[pid][0]}"
    assert s != pos[pid][1], "the request has its position's span id"
    reqs[m["event"]["request_id"]] = (t, s)
res = load("res")
for m in res:
    rid = m["event"]["request_id"]
    t, s = tp(m)
    assert rid in reqs, rid
    assert t == reqs[rid][0], f"result of {rid}: trace {t}, its request's {reqs[rid][0]}"
    assert s != reqs[rid][1], "the result has its request's span id"
assert len(pos) == want and len(reqs) == want and len(res) == 3 * want, (len(pos), len(reqs), len(res))
assert len({v[0] for v in pos.values()}) == want, "positions share trace ids"
PY

for s in "${!PID[@]}"; do
  if ! kill -0 "${PID[$s]}" 2>/dev/null; then
    bad "$s exited early"; sed 's/^/  stderr: /' "$TMP/$s.err" >&2
  fi
done
if [ "$fails" != 0 ]; then
  for s in trigger worker persister lag prometheus simulator; do
    [ -s "$TMP/$s.err" ] && sed "s/^/  $s: /" "$TMP/$s.err" | tail -5 >&2
  done
fi
echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
