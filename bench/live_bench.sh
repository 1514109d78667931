#!/usr/bin/env bash
# bench/live_bench.sh BUILD_DIR OUT_TSV [RUNS] [CLIENTS] [RATE] [SECONDS]
#
# The live-broadcaster under load, on the real stack (KAFKA_BOOTSTRAP_SERVERS
# and SCHEMA_REGISTRY_URL from .stack/env): CLIENTS WebSocket clients
# (bench/live_load.c, default 200) while position-simulator publishes RATE
# positions/s (500) for SECONDS (20).  Per run, one line in OUT_TSV:
#   run clients rate received p50_ms p99_ms p999_ms max_ms cpu_pct rss_mb
#   hwm_mb errors load_cpu_pct dropped missing
# where latency is publish (the event's timestamp) -> client receive;
# cpu/rss are the broadcaster's (utime+stime over the publishing time; VmRSS
# at the end, VmHWM), load_cpu_pct the clients' process's CPU, and dropped
# the positions the broadcaster dropped from full client queues, missing
# the positions published that the client with the fewest did not get
# (published - its count; 0 when every client got every position).  The topics are new for each run and the broadcaster
# reads them from their start (--history), so no position published before
# its reader found the partitions' end is missed; 64 warm-up positions go
# first (see below).  scripts/bench.sh runs it
# (part `live`).
set -euo pipefail
BUILD=${1:?build dir}
OUT=${2:?output tsv}
RUNS=${3:-3}
CLIENTS=${4:-200}
RATE=${5:-500}
SECS=${6:-20}
: "${KAFKA_BOOTSTRAP_SERVERS:?the environment of the stack (.stack/env) is needed}"
EX=$BUILD/examples
TMP=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
log() { printf '==> live bench: %s\n' "$*" >&2; }
tick=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

: >"$OUT"
for ((run = 1; run <= RUNS; run++)); do
  id="bench-live-$$-$run"
  X=(-X "topic.position=vessel-position-updates.$id" -X "topic.request=prediction-requests.$id"
     -X "topic.result=prediction-results.$id")
  "$BUILD/tools/vt-topics" -q "${X[@]}" create >/dev/null
  # Warm-up: the first positions sent to a topic just created wait for its
  # leaders (up to a second here), which would be most of the p99 of a 20 s
  # run; 64 positions published and delivered first leave only the measured
  # stream.  They are read before the clients connect, so none is counted.
  "$EX/position-simulator" -q "${X[@]}" --rate 0 --count 64 --vessels 16 >/dev/null
  "$EX/live-broadcaster" -q "${X[@]}" --http 127.0.0.1:0 --port-file "$TMP/port" \
    --client-queue 1024 --history 1000000 >"$TMP/live.log" 2>&1 &
  live=$!
  pids+=("$live")
  for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  [ -s "$TMP/port" ] || { cat "$TMP/live.log" >&2; echo "live bench: the broadcaster did not start" >&2; exit 1; }
  port=$(cat "$TMP/port")
  rm -f "$TMP/port"
  # the warm-up read before any client connects (else it is counted, late)
  for _ in $(seq 100); do
    n=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '$1 == "vt_live_events_total" {print $2}')
    [ "${n:-0}" -ge 64 ] && break
    sleep 0.1
  done
  [ "${n:-0}" -ge 64 ] || { echo "live bench: the broadcaster did not read the warm-up (${n:-0} of 64)" >&2; exit 1; }
  "$BUILD/bench/live_load" 127.0.0.1 "$port" "$CLIENTS" $((SECS + 30)) >"$TMP/load.out" &
  load=$!
  pids+=("$load")
  for _ in $(seq 300); do grep -q '^connected' "$TMP/load.out" && break; sleep 0.1; done
  grep -q '^connected' "$TMP/load.out" || { echo "live bench: the clients did not connect" >&2; exit 1; }
  c0=$(cpu_ticks "$live"); l0=$(cpu_ticks "$load"); t0=$(date +%s.%N)
  "$EX/position-simulator" -q "${X[@]}" --rate "$RATE" --count $((RATE * SECS)) --vessels 16 \
    >/dev/null
  sleep 3 # the last frames reach the clients
  c1=$(cpu_ticks "$live"); l1=$(cpu_ticks "$load"); t1=$(date +%s.%N)
  rss=$(kb "$live" VmRSS); hwm=$(kb "$live" VmHWM)
  dropped=$(curl -fsS "http://127.0.0.1:$port/metrics" |
    awk '$1 == "vt_live_messages_total{kind=\"position\",outcome=\"dropped\"}" {print $2}')
  kill -TERM "$load"; wait "$load" || true
  kill -TERM "$live"; wait "$live" || true
  pids=()
  line=$(grep '^R live' "$TMP/load.out")
  # R live clients N received M p50_ms X p99_ms Y p999_ms Z max_ms W errors E min_per_client A ...
  read -r _ _ _ n _ recv _ p50 _ p99 _ p999 _ pmax _ errs _ pmin _ <<<"$line"
  missing=$((RATE * SECS - pmin))
  pct() { awk -v a="$1" -v b="$2" -v s="$t0" -v e="$t1" -v t="$tick" 'BEGIN {printf "%.1f", (b - a) / t / (e - s) * 100}'; }
  cpu=$(pct "$c0" "$c1")
  lcpu=$(pct "$l0" "$l1")
  printf '%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%d\t%s\t%s\t%d\n' "$run" "$n" "$RATE" "$recv" "$p50" "$p99" \
    "$p999" "$pmax" "$cpu" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" \
    "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')" "$errs" "$lcpu" "${dropped:-0}" "$missing" >>"$OUT"
  log "run $run: $line; broadcaster cpu $cpu %, rss $((rss / 1024)) MB; clients cpu $lcpu %, dropped ${dropped:-0}, missing $missing"
  [ "$missing" -le "${dropped:-0}" ] || log "run $run: the worst client missed $missing of $((RATE * SECS)) positions, more than the $((${dropped:-0})) dropped"
done
