#!/usr/bin/env bash
# tests/chaos/chaos.sh BUILD_DIR [CASE ...] - the chaos cases on a real
# three-node cluster (replication 3, min ISR 2) of its own: scripts/stack.sh
# up --nodes 3 in .stack-chaos/ on ports of its own (VTEV_CHAOS_KAFKA_PORT,
# default 29392..29394, controllers +3; registry VTEV_CHAOS_REGISTRY_PORT,
# 28381), started and stopped here.  Each case runs a real workload and
# writes its figures as one line of $VTEV_CHAOS_OUT (default
# BUILD_DIR/chaos/results.tsv):
#   case <TAB> title <TAB> events <TAB> lost <TAB> duplicated <TAB> recovery_s <TAB> verdict <TAB> detail
# and tests/chaos/report.py turns them into doc/RELIABILITY.md (./run chaos).
#
# Cases (doc/RELIABILITY.md):
#   1  a producer publishing 100,000 events while a broker is SIGKILLed and
#      restarted: 0 lost, 0 duplicated, every report matching the topic
#   2  three prediction-persisters in one group (one SQLite file) under
#      10,000 results: one member SIGKILLed, then the broker coordinating
#      the group, restarted: a row for every delivered result, duplicates
#      counted by event_id (the persister's upsert keeps one row), the
#      group's lag back to 0, the longest wait of an event measured
#   3  the exactly-once worker (prediction-worker --exactly-once) under 320
#      requests while the broker coordinating its transactional id
#      (tests/chaos/coordinator.py: FindCoordinator) is SIGKILLed and
#      restarted: a read_committed reader sees exactly 3 results per
#      request, none twice
#   4  two brokers SIGKILLed (below min ISR, and no controller quorum) under
#      a producer for 15 s: the failures are reported as errors, no event
#      reported delivered is missing from the log, and after the recovery
#      everything flows
#   5  the registry unreachable (SIGSTOP) for 30 s mid-stream: producers and
#      consumers with cached schemas carry on; a consumer that needs a schema
#      id it has not cached waits, dead-letters nothing, and handles every
#      message once the registry is back
# Exit 0 when every case passed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:?usage: chaos.sh BUILD_DIR [CASE ...]}" && pwd)
shift
CASES=("$@")
[ "${#CASES[@]}" -gt 0 ] || CASES=(1 2 3 4 5)
PY=${VTEV_PYTHON:-$ROOT/.venv/bin/python}
OUTF=${VTEV_CHAOS_OUT:-$BUILD/chaos/results.tsv}
mkdir -p "$(dirname "$OUTF")"
: >"$OUTF"
WORK=$(mktemp -d)
export VTEV_STACK_DIR=$ROOT/.stack-chaos
export VTEV_STACK_KAFKA_PORT=${VTEV_CHAOS_KAFKA_PORT:-29392}
export VTEV_STACK_REGISTRY_PORT=${VTEV_CHAOS_REGISTRY_PORT:-28381}
export VTEV_STACK_PROMETHEUS_PORT=${VTEV_CHAOS_PROMETHEUS_PORT:-29391}
STACK=$ROOT/scripts/stack.sh
pids=()
log() { printf '==> chaos %s: %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N; }
cleanup() {
  local p
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  # a registry left stopped would not stop
  [ -f "$VTEV_STACK_DIR/registry/registry.pid" ] && kill -CONT "$(cat "$VTEV_STACK_DIR/registry/registry.pid")" 2>/dev/null || true
  "$STACK" down >/dev/null 2>&1 || true
  # a failed run (or any, with VTEV_CHAOS_KEEP=1) keeps its files in BUILD/chaos/work
  if [ "${fails:-0}" != 0 ] || [ -n "${VTEV_CHAOS_KEEP:-}" ]; then rm -rf "$BUILD/chaos/work"; cp -r "$WORK" "$BUILD/chaos/work"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

t_up=$(now)
"$STACK" up --nodes 3 --quiet
set -a
# shellcheck disable=SC1091
. "$VTEV_STACK_DIR/env"
set +a
log "3-node stack up in $(awk -v a="$t_up" -v b="$(now)" 'BEGIN {printf "%.0f", b - a}') s"
topics() { # RUN: creates the run's topics (replication 3, the broker's min ISR 2)
  "$BUILD/tools/vt-topics" -q -R 3 -X "topic.position=chaos-pos-$1" -X "topic.request=chaos-req-$1" \
    -X "topic.result=chaos-res-$1" create >/dev/null
}
result() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUTF"; }
field() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p" <<<"$2"; }
fails=0

case1() {
  local run=c1-$$ n=100000 rate=10000 t0 out ver lost dup gap rc=0 v=pass
  log "case 1: $n events at $rate/s; broker 2 SIGKILLed at 3 s, restarted at 8 s"
  topics "$run"
  VTEV_TOPIC_POSITION=chaos-pos-$run "$BUILD/tests/chaos_produce" "$n" "$rate" "$WORK/c1.tsv" \
    2>"$WORK/c1.err" &
  local prod=$!
  pids+=("$prod")
  sleep 3
  "$STACK" node kill 2 >&2
  sleep 5
  t0=$(now)
  "$STACK" node start 2 >&2
  log "case 1: node 2 back in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}') s"
  wait "$prod" || rc=$?
  out=$(tail -1 "$WORK/c1.err")
  ver=$("$PY" "$ROOT/tests/chaos/chaos_verify.py" "$WORK/c1.tsv" "chaos-pos-$run") || v=fail
  [ "$rc" = 0 ] || v=fail
  lost=$(field lost "$ver") dup=$(field duplicated "$ver") gap=$(field max_gap_ms "$out")
  [ "$(field ok "$out")" = "$n" ] || v=fail
  log "case 1: $out; $ver"
  result 1 "producer, broker SIGKILLed and restarted" "$n" "$lost" "$dup" \
    "$(awk -v g="$gap" 'BEGIN {printf "%.1f", g / 1000}')" "$v" "$out; $ver"
  [ "$v" = pass ] || fails=$((fails + 1))
}

# waits up to $1 s for the files $2... to exist
wait_files() {
  local deadline=$((SECONDS + $1)) f
  shift
  for f in "$@"; do
    while [ ! -e "$f" ]; do
      [ "$SECONDS" -lt "$deadline" ] || { log "$f did not appear"; return 1; }
      sleep 0.2
    done
  done
}
# GROUP TOPIC: the group's total lag on TOPIC (-1 when it cannot be read)
group_lag() {
  "$BUILD/tools/vt-topics" -q lag -g "$1" "$2" 2>/dev/null | sed -n 's/^total lag //p' | grep . || echo -1
}
now_us() { date +%s%6N; }
# KIND KEY SECS: SIGKILLs the broker coordinating KIND (group or
# transaction) KEY and starts it again SECS s after the cluster saw it go;
# sets coord (its node id) and t_kill (µs)
kill_coordinator() {
  coord=$("$PY" "$ROOT/tests/chaos/coordinator.py" "$1" "$2") || return 1
  log "the $1 coordinator of $2 is node $coord"
  t_kill=$(now_us)
  "$STACK" node kill "$coord" >&2
  sleep "$3"
  "$STACK" node start "$coord" >&2
}

case2() {
  local run=c2-$$ n=10000 rate=250 v=pass m pers=() out ver dl=0 lag t_mk coord=? t_kill= \
    t_lag0 t_pe deadline rows_n ok_n
  local group=chaos-persist-$run db=$WORK/c2.db
  log "case 2: $n results at $rate/s to a group of three persisters; member 2 SIGKILLed at 8 s, then the broker coordinating the group at 20 s, started again 8 s after the cluster dropped it"
  topics "$run"
  local X=(-X "topic.position=chaos-pos-$run" -X "topic.request=chaos-req-$run" -X "topic.result=chaos-res-$run")
  # a member that stops heartbeating leaves the group after 10 s (librdkafka's default: 45 s)
  for m in 1 2 3; do
    "$BUILD/examples/prediction-persister" -q "${X[@]}" -X "group.id=$group" \
      --consumer-X kafka.session.timeout.ms=10000 --db "$db" --stats-file "$WORK/c2-p$m.stats" \
      --ready-file "$WORK/c2-p$m.ready" 2>"$WORK/c2-p$m.err" &
    pers[m]=$!
    pids+=("${pers[m]}")
  done
  wait_files 60 "$WORK/c2-p1.ready" "$WORK/c2-p2.ready" "$WORK/c2-p3.ready" || v=fail
  sleep 3 # the group settles: one partition each
  VTEV_TOPIC_RESULT=chaos-res-$run "$BUILD/tests/chaos_produce" "$n" "$rate" "$WORK/c2.tsv" result \
    2>"$WORK/c2.err" &
  local prod=$!
  pids+=("$prod")
  sleep 8
  kill -KILL "${pers[2]}"
  t_mk=$(now_us)
  log "case 2: persister 2 SIGKILLed"
  sleep 12
  kill_coordinator group "$group" 8 || v=fail
  wait "$prod" || v=fail
  t_pe=$(now_us)
  out=$(tail -1 "$WORK/c2.err")
  ok_n=$(field ok "$out")
  # every delivered result has its row, and the group's lag is back to 0
  deadline=$((SECONDS + 120)) t_lag0=
  while [ "$SECONDS" -lt "$deadline" ]; do
    rows_n=$("$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM predictions").fetchone()[0])' "$db" 2>/dev/null || echo 0)
    lag=$(group_lag "$group" "chaos-res-$run")
    if [ "$rows_n" -ge "${ok_n:-$n}" ] && [ "$lag" = 0 ]; then t_lag0=$(now_us); break; fi
    sleep 1
  done
  [ -n "$t_lag0" ] || { log "case 2: $rows_n rows, lag $lag after 120 s"; v=fail; }
  kill -TERM "${pers[1]}" "${pers[3]}" 2>/dev/null || true
  wait "${pers[1]}" || v=fail
  wait "${pers[3]}" || v=fail
  wait "${pers[2]}" 2>/dev/null || true
  pids=()
  for m in 1 3; do dl=$((dl + $(sed -n 's/^dead_letters=//p' "$WORK/c2-p$m.stats" || echo 1))); done
  [ "$dl" = 0 ] || { log "case 2: $dl dead letters"; v=fail; }
  ver=$("$PY" "$ROOT/tests/chaos/chaos_outcome.py" rows "$WORK/c2.tsv" "$db" "$t_mk" "${t_kill:-0}") || v=fail
  [ "$ok_n" = "$n" ] || v=fail
  log "case 2: $out; $ver; lag 0 $(awk -v a="$t_pe" -v b="${t_lag0:-0}" 'BEGIN {printf "%.1f", (b - a) / 1e6}') s after the last publish"
  result 2 "three persisters: a member, then the group's coordinator SIGKILLed" "$n" \
    "$(field lost "$ver")" "$(field duplicated "$ver")" \
    "$(awk -v a="$(field wait_member_s "$ver")" -v b="$(field wait_broker_s "$ver")" 'BEGIN {printf "%.1f", (a > b ? a : b)}')" "$v" \
    "producer: $out; rows: $ver; the coordinator was node $coord; every row and lag 0 $(awk -v a="$t_pe" -v b="${t_lag0:-0}" 'BEGIN {printf "%.1f", (b - a) / 1e6}') s after the last publish; dead letters $dl"
  [ "$v" = pass ] || fails=$((fails + 1))
}

case3() {
  local run=c3-$$ n=320 rate=8 v=pass out ver coord=? t_kill deadline lag aborts
  local group=chaos-eos-$run txn=chaos-worker-$run
  log "case 3: $n requests at $rate/s to the exactly-once worker; the broker coordinating its transactions SIGKILLed at 12 s, started again 10 s after the cluster dropped it"
  topics "$run"
  local X=(-X "topic.position=chaos-pos-$run" -X "topic.request=chaos-req-$run" -X "topic.result=chaos-res-$run")
  "$BUILD/examples/prediction-worker" -q --exactly-once --transactional-id "$txn" "${X[@]}" \
    -X "group.id=$group" --stats-file "$WORK/c3-worker.stats" --ready-file "$WORK/c3.ready" \
    2>"$WORK/c3-worker.err" &
  local worker=$!
  pids+=("$worker")
  wait_files 60 "$WORK/c3.ready" || v=fail
  VTEV_TOPIC_REQUEST=chaos-req-$run "$BUILD/tests/chaos_produce" "$n" "$rate" "$WORK/c3.tsv" request \
    2>"$WORK/c3.err" &
  local prod=$!
  pids+=("$prod")
  sleep 12
  kill_coordinator transaction "$txn" 10 || v=fail
  wait "$prod" || v=fail
  out=$(tail -1 "$WORK/c3.err")
  # every request's offset committed by a transaction
  deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ]; do
    lag=$(group_lag "$group" "chaos-req-$run")
    [ "$lag" = 0 ] && break
    kill -0 "$worker" 2>/dev/null || { log "case 3: the worker exited"; break; }
    sleep 1
  done
  [ "$lag" = 0 ] || { log "case 3: the worker's lag is $lag after 120 s"; v=fail; }
  kill -TERM "$worker" 2>/dev/null || true
  wait "$worker" || { log "case 3: the worker failed ($(tail -1 "$WORK/c3-worker.err"))"; v=fail; }
  pids=()
  aborts=$(sed -n 's/^aborts=//p' "$WORK/c3-worker.stats" 2>/dev/null)
  # the read_committed reader: the library's, as every consumer of the platform
  "$BUILD/tools/vt-tail" -q "${X[@]}" -X kafka.isolation.level=read_committed -t "chaos-res-$run" \
    -o beginning -e >"$WORK/c3-results.jsonl" 2>"$WORK/c3-tail.err" || v=fail
  ver=$("$PY" "$ROOT/tests/chaos/chaos_outcome.py" results "$WORK/c3.tsv" "$WORK/c3-results.jsonl") || v=fail
  # what the log holds besides: the results of aborted transactions
  local inlog
  inlog=$("$PY" "$ROOT/tests/chaos/chaos_verify.py" "$WORK/c3.tsv" "chaos-res-$run" --allow-duplicates 2>/dev/null | sed -n 's/.* in_topic \([0-9]*\).*/\1/p') || true
  [ "$(field ok "$out")" = "$n" ] || v=fail
  log "case 3: $out; $ver; $aborts aborted transactions; $inlog result records in the log (read_uncommitted)"
  result 3 "exactly-once worker, its transaction coordinator SIGKILLed" "$n" \
    "$(field missing "$ver")" "$(field duplicated "$ver")" "$(field max_wait_s "$ver")" "$v" \
    "requests: $out; read_committed: $ver; the coordinator was node $coord; aborted transactions ${aborts:-?}; result records in the log, aborted ones included: ${inlog:-?}"
  [ "$v" = pass ] || fails=$((fails + 1))
}

case4() {
  local run=c4-$$ n=90000 rate=1500 v=pass ver out rc=0 okafter failed_n
  log "case 4: $n events at $rate/s; brokers 2 and 3 SIGKILLed at 5 s (below min ISR, no quorum), started at 20 s"
  topics "$run"
  # a delivery that cannot be made is reported as an error after 8 s
  VTEV_TOPIC_POSITION=chaos-pos-$run VTEV_KAFKA_MESSAGE_TIMEOUT_MS=8000 \
    "$BUILD/tests/chaos_produce" "$n" "$rate" "$WORK/c4.tsv" 2>"$WORK/c4.err" &
  local prod=$!
  pids+=("$prod")
  sleep 5
  kill -KILL "$(cat "$VTEV_STACK_DIR/kafka-2/kafka.pid")" "$(cat "$VTEV_STACK_DIR/kafka-3/kafka.pid")"
  log "case 4: nodes 2 and 3 killed"
  sleep 15
  "$STACK" node start 2 >&2
  "$STACK" node start 3 >&2
  wait "$prod" || rc=$?
  out=$(tail -1 "$WORK/c4.err")
  # duplicates are counted, not refused: an idempotent producer is
  # idempotent within one epoch, and librdkafka bumps the epoch when
  # messages time out with requests in flight (doc/RELIABILITY.md)
  ver=$("$PY" "$ROOT/tests/chaos/chaos_verify.py" "$WORK/c4.tsv" "chaos-pos-$run" --allow-duplicates) || v=fail
  failed_n=$(field failed "$out")
  # the last 10 s of the run were all delivered: everything flows again
  okafter=$(awk -F'\t' -v t=$(((n / rate - 10) * 1000)) '$5 > t + 8000 {a++; if ($2 == "ok") o++}
    END {print (a > 0 && o == a) ? o : -1}' "$WORK/c4.tsv")
  [ "${failed_n:-0}" -gt 0 ] || { log "case 4: no delivery was reported failed while two brokers were down"; v=fail; }
  [ "$okafter" -gt 0 ] || { log "case 4: deliveries did not all succeed after the recovery"; v=fail; }
  log "case 4: $out; $ver; delivered at the end $okafter"
  result 4 "two brokers down (below min ISR), then back" "$n" "$(field lost "$ver")" \
    "$(field duplicated "$ver")" "$(awk -v g="$(field max_gap_ms "$out")" 'BEGIN {printf "%.1f", g / 1000}')" "$v" \
    "$out; $ver; the reports of the last 10 s all ok ($okafter)"
  [ "$v" = pass ] || fails=$((fails + 1))
}

case5() {
  local run=c5-$$ rpid rate=500 secs=50 v=pass ver out rows dl n_req=1000 t_stop t_cont
  log "case 5: the registry unreachable (SIGSTOP) for 30 s mid-stream"
  topics "$run"
  local X=(-X "topic.position=chaos-pos-$run" -X "topic.request=chaos-req-$run" -X "topic.result=chaos-res-$run")
  # requests published before the outage: their schema id is one the worker
  # started during the outage has never seen
  VTEV_TOPIC_REQUEST=chaos-req-$run "$BUILD/tests/chaos_produce" "$n_req" 0 "$WORK/c5-req.tsv" request \
    2>"$WORK/c5-req.err"
  # positions all along, and a reader of them
  VTEV_TOPIC_POSITION=chaos-pos-$run "$BUILD/tests/chaos_produce" $((rate * secs)) "$rate" \
    "$WORK/c5-pos.tsv" 2>"$WORK/c5-pos.err" &
  local prod=$!
  pids+=("$prod")
  "$BUILD/tools/vt-tail" -q "${X[@]}" -t "chaos-pos-$run" -o beginning >"$WORK/c5-tail.jsonl" 2>"$WORK/c5-tail.err" &
  local tail=$!
  pids+=("$tail")
  sleep 10
  rpid=$(cat "$VTEV_STACK_DIR/registry/registry.pid")
  kill -STOP "$rpid"
  t_stop=$(date +%s%3N)
  local lines_at_stop pos_ok_at_stop
  lines_at_stop=$(wc -l <"$WORK/c5-tail.jsonl")
  log "case 5: registry stopped"
  sleep 2
  "$BUILD/examples/prediction-worker" -q "${X[@]}" -X "group.id=chaos-worker-$run" \
    --stats-file "$WORK/c5-worker.stats" 2>"$WORK/c5-worker.err" &
  local worker=$!
  pids+=("$worker")
  sleep 28
  local lines_at_cont
  lines_at_cont=$(wc -l <"$WORK/c5-tail.jsonl")
  kill -CONT "$rpid"
  t_cont=$(date +%s%3N)
  log "case 5: registry back after $(((t_cont - t_stop) / 1000)) s"
  wait "$prod" || v=fail
  # the worker handles every request once the registry answers again
  local deadline=$((SECONDS + 90)) res=0
  while [ "$SECONDS" -lt "$deadline" ]; do
    res=$(VTEV_TOPIC_RESULT=chaos-res-$run "$PY" - "chaos-res-$run" <<'PYEOF'
import os, sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"], "group.id": "x"})
t = sys.argv[1]
md = c.list_topics(t, timeout=10)
print(sum(c.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1] for p in md.topics[t].partitions))
c.close()
PYEOF
)
    [ "$res" -ge $((3 * n_req)) ] && break
    sleep 2
  done
  sleep 2
  kill -TERM "$worker" "$tail" 2>/dev/null || true
  wait "$worker" || v=fail
  wait "$tail" || true
  pids=()
  out=$(tail -1 "$WORK/c5-pos.err")
  ver=$("$PY" "$ROOT/tests/chaos/chaos_verify.py" "$WORK/c5-pos.tsv" "chaos-pos-$run") || v=fail
  # positions delivered while the registry was stopped (report times are
  # ms since the producer's start, which was 10 s before the stop)
  local ok_between
  ok_between=$(awk -F'\t' '$2 == "ok" && $5 > 12000 && $5 < 38000 {n++} END {print n + 0}' "$WORK/c5-pos.tsv")
  local tail_during=$((lines_at_cont - lines_at_stop))
  dl=$(sed -n 's/^dead_letters=//p' "$WORK/c5-worker.stats")
  rows=$res
  [ "$ok_between" -gt $((rate * 20)) ] || { log "case 5: the producer stalled during the outage ($ok_between delivered)"; v=fail; }
  [ "$tail_during" -gt $((rate * 20)) ] || { log "case 5: the reader stalled during the outage ($tail_during read)"; v=fail; }
  [ "${dl:-x}" = 0 ] || { log "case 5: the worker dead-lettered ${dl:-?}"; v=fail; }
  [ "$rows" = $((3 * n_req)) ] || { log "case 5: $rows results for $n_req requests"; v=fail; }
  log "case 5: $out; $ver; published during the outage $ok_between, read $tail_during; worker: $rows results, $dl dead letters"
  result 5 "registry unreachable for 30 s mid-stream" "$((rate * secs + n_req))" "$(field lost "$ver")" \
    "$(field duplicated "$ver")" "$(awk -v a="$t_stop" -v b="$t_cont" 'BEGIN {printf "%.1f", (b - a) / 1000}')" "$v" \
    "positions: $ver; delivered while it was stopped $ok_between, read $tail_during; the worker started during the outage: $rows results for $n_req requests after it, $dl dead letters"
  [ "$v" = pass ] || fails=$((fails + 1))
}

for c in "${CASES[@]}"; do
  case "$c" in
    1) case1 ;;
    2) case2 ;;
    3) case3 ;;
    4) case4 ;;
    5) case5 ;;
    *) echo "chaos: no case $c" >&2; exit 2 ;;
  esac
done
cat "$OUTF"
echo "chaos: $(( ${#CASES[@]} - fails )) passed, $fails failed"
[ "$fails" = 0 ]
