#!/usr/bin/env bash
# scripts/bench.sh - runs every benchmark against the real local stack and
# rewrites doc/PERFORMANCE.md (`./run bench` execs it after building).
#
#   scripts/bench.sh [--full] [--quick] [--no-doc] [--only PART,...]
#     --full    memory run of 300 s (default 60 s)
#     --quick   2 runs per side and smaller counts (a try-out; the document
#               then says so through the settings table)
#     --no-doc  keep the results in bench/results/ without rewriting the doc
#     --only    rerun only these parts (publish, pypublish, consume, pyconsume,
#               obs, codec, gencodec, latency, e2e, memory, valgrind, callgrind,
#               pipeline, live, dlq, api), replacing their results in
#               bench/results/, then rewrite the doc.  The parts that need no
#               Kafka (codec, gencodec) run without the stack; without the
#               results of an earlier full run, codec, gencodec, obs, live, dlq
#               and api replace only their own sections of doc/PERFORMANCE.md
#               (e.g. `scripts/bench.sh --only obs`; api is vessel-api against
#               the Python FastAPI service under wrk, and needs wrk).
#
# Environment: VTEV_BUILD_DIR (build), VTEV_PYTHON (.venv/bin/python),
# VTEV_BENCH_RUNS (5), VTEV_BENCH_EVENTS (100000), VTEV_BENCH_PY_EVENTS (50000),
# VTEV_BENCH_API_ROUNDS (3), VTEV_BENCH_API_SECS (10 s per rate), VTEV_BENCH_API_PORT
# (the API servers' ports from there, else free ones),
# VTEV_STACK_DIR / VTEV_STACK_KAFKA_PORT / VTEV_STACK_REGISTRY_PORT (scripts/stack.sh).
# A stack that is already running is used as it is; one this script starts is
# stopped at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BUILD=${VTEV_BUILD_DIR:-build}
B=$BUILD/bench
PY=${VTEV_PYTHON:-$ROOT/.venv/bin/python}
# How the document names the build directory and the Python that ran: it
# cites only paths inside the repository, so others go by their variable.
case $BUILD in
  "$ROOT"/*) BUILD_SHOWN=${BUILD#"$ROOT"/} ;;
  /*) BUILD_SHOWN='$VTEV_BUILD_DIR' ;;
  *) BUILD_SHOWN=$BUILD ;;
esac
B_SHOWN=$BUILD_SHOWN/bench
PY_SHOWN='$VTEV_PYTHON'
RUNS=${VTEV_BENCH_RUNS:-5}
N=${VTEV_BENCH_EVENTS:-100000}
NPY=${VTEV_BENCH_PY_EVENTS:-50000}
MEM_SECS=60
MEM_RATE=5000
LAT_SECS_100=10
LAT_SECS_1000=3
LAT_SECS_10000=2
E2E_N=2000
API_ROUNDS=${VTEV_BENCH_API_ROUNDS:-3}
API_SECS=${VTEV_BENCH_API_SECS:-10}
DOC=1
ONLY=
OUT=$ROOT/bench/results

while [ $# -gt 0 ]; do
  a=$1; shift
  case "$a" in
    --only) ONLY=",${1:?--only needs a list},"; shift ;;
    --full) MEM_SECS=300 ;;
    --quick) RUNS=2; N=20000; NPY=10000; MEM_SECS=15; LAT_SECS_100=3; LAT_SECS_1000=2
             LAT_SECS_10000=1; E2E_N=500; API_ROUNDS=1; API_SECS=4 ;;
    --no-doc) DOC=0 ;;
    *) echo "usage: scripts/bench.sh [--full] [--quick] [--no-doc] [--only PART,...]" >&2; exit 2 ;;
  esac
done

log() { printf '==> bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Parts that need neither Kafka nor the registry nor Python.
LOCAL_PARTS=",codec,gencodec,"
SPLICE_PARTS=",codec,gencodec,obs,live,dlq,api," # their sections can be replaced alone
STACK=1
if [ -n "$ONLY" ]; then
  STACK=0
  for p in ${ONLY//,/ }; do
    case "$LOCAL_PARTS" in *",$p,"*) ;; *) STACK=1 ;; esac
  done
fi

if [ "$STACK" = 1 ]; then
  for p in bench_publish bench_consume bench_latency bench_memory; do
    [ -x "$B/$p" ] || die "$B/$p is missing: build first (./run build)"
  done
  [ -x "$PY" ] || die "no Python at $PY (./run pydeps, or set VTEV_PYTHON)"
fi

# ------------------------------------------------------------------ stack --
started=0
cleanup() {
  if [ "$started" = 1 ]; then log "stopping the stack this script started"; scripts/stack.sh down || true; fi
}
trap cleanup EXIT
if [ "$STACK" = 1 ]; then
  st=0
  scripts/stack.sh status --quiet >/dev/null 2>&1 || st=$?
  if [ "$st" != 0 ]; then
    scripts/stack.sh up
    [ "$st" = 1 ] && started=1
  fi
  set -a
  # shellcheck disable=SC1091
  . "${VTEV_STACK_DIR:-.stack}/env"
  set +a
fi

RAW=$OUT/raw.tsv
META=$OUT/meta.env
# --only on top of a full run's results (its meta.env has the date) rewrites
# the whole document; --only of local parts without them replaces only their
# sections of it.
SECTIONS=
# want PART [TABLE...]: whether to run PART; with --only, drop the earlier
# results of its tables first.
want() {
  local part=$1; shift
  [ -z "$ONLY" ] && return 0
  case "$ONLY" in *",$part,"*) ;; *) return 1 ;; esac
  local t
  for t in "$@"; do
    case "$t" in
      latency-rates) awk -F'\t' '!($2 == "latency" && $3 !~ /^one at a time/)' "$RAW" >"$RAW.tmp" ;;
      latency-e2e) awk -F'\t' '!($2 == "latency" && $3 ~ /^one at a time/)' "$RAW" >"$RAW.tmp" ;;
      *) awk -F'\t' -v t="$t" '$2 != t' "$RAW" >"$RAW.tmp" ;;
    esac
    mv "$RAW.tmp" "$RAW"
  done
  return 0
}
meta() {
  if [ -f "$META" ]; then
    awk -F= -v k="$1" '$1 != k' "$META" >"$META.tmp" && mv "$META.tmp" "$META"
  fi
  printf '%s=%s\n' "$1" "$2" >>"$META"
}
if [ -z "$ONLY" ]; then
  rm -rf "$OUT"
  mkdir -p "$OUT"
  : >"$RAW"
elif ! grep -qs '^date=' "$META"; then
  for p in ${ONLY//,/ }; do
    case "$SPLICE_PARTS" in
      *",$p,"*) ;;
      *) die "--only needs the results of a full run in $OUT (or only the parts ${SPLICE_PARTS//,/ })" ;;
    esac
  done
  mkdir -p "$OUT"
  [ -f "$RAW" ] || : >"$RAW"
  SECTIONS=${ONLY#,}
  SECTIONS=${SECTIONS%,}
fi

# ------------------------------------------------------------------- meta --
if [ -z "$ONLY" ]; then
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta cpu "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
meta nproc "$(nproc)"
meta ram "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
meta kernel "$(uname -r)"
meta load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
meta kafka "4.1.1 (1 node, KRaft; scripts/stack/pom.xml)"
meta apicurio "3.0.9 (ccompat API; scripts/stack/pom.xml)"
meta librdkafka "$(pkg-config --modversion rdkafka 2>/dev/null || echo ?) (Debian package)"
meta avro_c "$(pkg-config --modversion avro-c 2>/dev/null || echo ?) (Debian package)"
meta confluent_kafka "$("$PY" -c 'import confluent_kafka as c; v = c.version(); v = v[0] if isinstance(v, tuple) else v; print(v, "(PyPI wheel, bundled librdkafka", c.libversion()[0] + ")")')"
meta python "$("$PY" -c 'import sys; print(sys.version.split()[0])')"
meta java "$(java -version 2>&1 | head -1)"
meta compiler "$(cc --version | head -1), meson buildtype $(meson introspect "$BUILD" --buildoptions 2>/dev/null | "$PY" -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])' 2>/dev/null || echo ?)"
meta build "$BUILD_SHOWN"
meta runs "$RUNS per side"
meta events "$N per run"
meta events_python "$NPY per run"
meta memory_secs "$MEM_SECS"
meta memory_rate "$MEM_RATE"
fi

# ---------------------------------------------------------------- publish --
if want publish publish; then
meta cmd_publish "$B_SHOWN/bench_publish -t {position,request,result} -p {1,3} -n $N -r $RUNS"
for t in position request result; do
  for p in 1 3; do
    log "publish $t p=$p"
    "$B/bench_publish" -t "$t" -p "$p" -n "$N" -r "$RUNS" >>"$RAW"
  done
done
fi

# ------------------------------------------------------- Python publish --
if want pypublish pypublish; then
meta cmd_py_publish "alternating: $B_SHOWN/bench_publish -t TYPE -p 1 -n $NPY -r 1 -s typed,gen,plain; $PY_SHOWN bench/py/py_publish.py $B_SHOWN/bench_publish TYPE 1 $NPY 1"
for t in position request result; do
  log "publish vs Python: $t"
  for ((i = 0; i < RUNS; i++)); do
    c() { "$B/bench_publish" -t "$t" -p 1 -n "$NPY" -r 1 -s typed,gen,plain; }
    py() { "$PY" -W ignore bench/py/py_publish.py "$B/bench_publish" "$t" 1 "$NPY" 1; }
    if ((i % 2 == 0)); then c; py; else py; c; fi | sed 's/^R\tpublish\t/R\tpypublish\t/' >>"$RAW"
  done
done
fi

# ---------------------------------------------------------------- consume --
if want consume consume; then
meta cmd_consume "$B_SHOWN/bench_consume -t {position,request,result} -p {1,3} -n $N -r $RUNS"
for t in position request result; do
  for p in 1 3; do
    log "consume $t p=$p"
    "$B/bench_consume" -t "$t" -p "$p" -n "$N" -r "$RUNS" >>"$RAW"
  done
done
fi

# ------------------------------------------------------- Python consume --
if want pyconsume pyconsume; then
meta cmd_py_consume "$B_SHOWN/bench_consume -t TYPE -n $NPY -T TOPIC --fill-only, then alternating: $B_SHOWN/bench_consume -t TYPE -n $NPY -T TOPIC --no-fill -r 1 -s typed,gen; $PY_SHOWN bench/py/py_consume.py TYPE 1 TOPIC $NPY 1"
for t in position request result; do
  log "consume vs Python: $t"
  topic="bench-pyconsume-$t-$$"
  "$B/bench_consume" -t "$t" -n "$NPY" -T "$topic" --fill-only
  for ((i = 0; i < RUNS; i++)); do
    c() { "$B/bench_consume" -t "$t" -n "$NPY" -T "$topic" --no-fill -r 1 -s typed,gen; }
    py() { "$PY" -W ignore bench/py/py_consume.py "$t" 1 "$topic" "$NPY" 1; }
    if ((i % 2 == 0)); then c; py; else py; c; fi | sed 's/^R\tconsume\t/R\tpyconsume\t/' >>"$RAW"
  done
done
fi

# ---------------------------------------------------------- observability --
# The generated-type publish and consume with everything on (the defaults),
# with metrics.enable=false, and with trace.propagation=false (consume: a
# topic filled without traceparent headers), alternating the order per round.
if want obs obs_publish obs_consume; then
meta cmd_obs "per round, in rotating order: VTEV_BENCH_X={'',metrics.enable=false,trace.propagation=false} $B_SHOWN/bench_publish -t position -p 1 -n $N -r 1 -s gen --fresh-ids, and $B_SHOWN/bench_consume -t position -p 1 -n $N -r 1 -s gen --no-fill on a topic filled (--fresh-ids) with (or, for trace off, without) traceparent headers; $RUNS rounds"
variants=("all on|" "metrics off|metrics.enable=false" "trace off|trace.propagation=false")
topic_on="bench-obs-trace-on-$$" topic_off="bench-obs-trace-off-$$"
VTEV_BENCH_X= "$B/bench_consume" -t position -p 1 -n "$N" -T "$topic_on" --fill-only --fresh-ids
VTEV_BENCH_X=trace.propagation=false "$B/bench_consume" -t position -p 1 -n "$N" -T "$topic_off" \
  --fill-only --fresh-ids
for ((i = 0; i < RUNS; i++)); do
  for ((j = 0; j < 3; j++)); do
    v=${variants[$(((i + j) % 3))]}
    name=${v%%|*} x=${v#*|}
    log "observability round $((i + 1)): $name"
    VTEV_BENCH_X=$x "$B/bench_publish" -t position -p 1 -n "$N" -r 1 -s gen --fresh-ids |
      sed "s/^R\tpublish\t\([^\t]*\)\tgen\t/R\tobs_publish\t\1\t$name\t/" >>"$RAW"
    if [ "$name" = "trace off" ]; then t=$topic_off xc=; else t=$topic_on xc=$x; fi
    VTEV_BENCH_X=$xc "$B/bench_consume" -t position -p 1 -n "$N" -T "$t" --no-fill -r 1 -s gen |
      sed "s/^R\tconsume\t\([^\t]*\)\tgen\t/R\tobs_consume\t\1\t$name\t/" >>"$RAW"
  done
done
fi

# ------------------------------------------------------------------ codec --
if want codec; then
CODEC_N=$((N * 2))
meta cmd_codec "$B_SHOWN/bench_codec -n $CODEC_N -r $RUNS"
log "codec"
"$B/bench_codec" -n "$CODEC_N" -r "$RUNS" >"$OUT/codec.txt"
fi

# --------------------------------------------------------------- gencodec --
# The generated codec (vt-codegen) against generic avro-c and the library's
# current codec, then callgrind's instructions per operation of each side.
if want gencodec gencodec gencodec_ir; then
  [ -x "$B/bench_gencodec" ] || die "$B/bench_gencodec is missing: build first (./run build)"
  GC_R=$((RUNS * 2 + 1))
  meta cmd_gencodec "$B/bench_gencodec -n $N -r $GC_R"
  log "generated codec vs avro-c: $GC_R rounds of $N"
  gc_load=$(cut -d' ' -f1-3 /proc/loadavg)
  gc_date=$(date -u '+%Y-%m-%d %H:%M UTC')
  "$B/bench_gencodec" -n "$N" -r "$GC_R" >>"$RAW" 2>"$OUT/gencodec.txt" ||
    die "bench_gencodec failed: $(cat "$OUT/gencodec.txt")"
  gc_bt=$(meson introspect "$BUILD" --buildoptions 2>/dev/null | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])' 2>/dev/null || echo ?)
  meta gencodec_when "run on $gc_date, load $gc_load before and $(cut -d' ' -f1-3 /proc/loadavg) after, $(nproc) cores, $(cc --version | head -1), meson buildtype $gc_bt"
  if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
    CGN=5000
    meta cmd_gencodec_callgrind "valgrind --tool=callgrind [--toggle-collect=gen_decode] $B/bench_gencodec -e {position,request,result} -n $CGN -r 1"
    for e in position request result; do
      log "callgrind: bench_gencodec -e $e"
      cgo=$OUT/callgrind.gencodec.$e
      valgrind --tool=callgrind --callgrind-out-file="$cgo" "$B/bench_gencodec" -e "$e" -n "$CGN" -r 1 \
        >/dev/null 2>"$OUT/callgrind_gencodec_$e.log" || die "callgrind of bench_gencodec failed"
      valgrind --tool=callgrind --toggle-collect=gen_decode --callgrind-out-file="$cgo.gen_decode" \
        "$B/bench_gencodec" -e "$e" -n "$CGN" -r 1 >/dev/null 2>>"$OUT/callgrind_gencodec_$e.log" ||
        die "callgrind of bench_gencodec failed"
      # inclusive instructions per operation of each side's loop (warm-up of
      # n/10+1 operations, then one round of n), and the share of malloc and
      # free in the generated decode (+ clear)
      { callgrind_annotate --inclusive=yes "$cgo" 2>/dev/null; echo "@@gen_decode"
        callgrind_annotate "$cgo.gen_decode" 2>/dev/null; } | python3 -c '
import re, sys
e, n = sys.argv[1], int(sys.argv[2])
ev = {"position": "vessel.position.updated", "request": "prediction.analysis.requested",
      "result": "prediction.analysis.completed"}[e]
ops = n // 10 + 1 + n
side = {"gen_encode": ("encode", "generated"), "gen_decode": ("decode", "generated"),
        "avro_encode": ("encode", "avro-c"), "avro_decode": ("decode", "avro-c"),
        "gcl_encode": ("encode", "library"), "gcl_decode": ("decode", "library")}
seen, total, alloc, part2 = set(), 0, 0, False
for line in sys.stdin:
    if line.startswith("@@gen_decode"):
        part2 = True
        continue
    m = re.match(r"\s*([0-9,]+) \([ 0-9.]+%\)\s+(\S*?):(\S+) ", line)
    if not m:
        m2 = re.match(r"\s*([0-9,]+) \([ 0-9.]+%\)\s+PROGRAM TOTALS", line)
        if m2 and part2:
            total = int(m2.group(1).replace(",", ""))
        continue
    ir, f, fn = int(m.group(1).replace(",", "")), m.group(2), m.group(3)
    if not part2:
        if fn in side and fn not in seen:
            seen.add(fn)
            op, s = side[fn]
            print("R\tgencodec_ir\t%s %s\t%s\tir_op\t%d" % (ev, op, s, ir // ops))
    elif f.endswith("malloc.c"):
        alloc += ir
if total:
    print("R\tgencodec_ir\t%s decode\tgenerated\talloc_share\t%.3f" % (ev, alloc / total))
' "$e" "$CGN" >>"$RAW"
    done
  fi
fi

# ---------------------------------------------------------------- latency --
if want latency latency-rates; then
meta cmd_latency "$B_SHOWN/bench_latency -R {100,1000,10000} -d {$LAT_SECS_100,$LAT_SECS_1000,$LAT_SECS_10000} -r $RUNS -P {default,low-latency}; $B_SHOWN/bench_latency -R 0 -d 3 -r 1 -P low-latency (alternating with Kafka's tool)"
for prof in default low-latency; do
  for r in 100 1000 10000; do
    d=$LAT_SECS_100; [ "$r" = 1000 ] && d=$LAT_SECS_1000; [ "$r" = 10000 ] && d=$LAT_SECS_10000
    log "latency $r/s $prof"
    "$B/bench_latency" -R "$r" -d "$d" -r "$RUNS" -P "$prof" >>"$RAW"
  done
done
fi

# @@E2E@@
if want e2e latency-e2e; then
: >"$OUT/e2e.txt"
# Kafka's own EndToEndLatency (kafka-tools, the broker's version), alternating
# with our one-at-a-time mode.
TOOLS=$ROOT/.cache/kafka-tools
if ! ls "$TOOLS"/kafka-tools-4.1.1.jar >/dev/null 2>&1; then
  log "fetching kafka-tools through Maven"
  mvn -B -q -Dstyle.color=never -f bench/pom.xml dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$TOOLS" >"$OUT/mvn.log" 2>&1 ||
    die "maven failed; see $OUT/mvn.log"
fi
size=$("$B/bench_publish" -t position -n 1 -r 1 -s plain -p 1 | awk -F'\t' '$5=="bytes" {print $6; exit}')
meta cmd_e2e "java -cp '.cache/kafka-tools/*' org.apache.kafka.tools.EndToEndLatency \$KAFKA_BOOTSTRAP_SERVERS bench-e2e-N $E2E_N all $size"
for ((i = 0; i < RUNS; i++)); do
  ours() { "$B/bench_latency" -R 0 -d 3 -r 1 -P low-latency >>"$RAW"; }
  theirs() {
    local o t0 t1
    t0=$(date +%s.%N)
    o=$(java -Xmx256m -cp "$TOOLS/*" org.apache.kafka.tools.EndToEndLatency \
        "$KAFKA_BOOTSTRAP_SERVERS" "bench-e2e-$$-$i" "$E2E_N" all "$size" 2>&1) || die "EndToEndLatency failed: $o"
    t1=$(date +%s.%N)
    echo "$o" >>"$OUT/e2e.txt"
    echo "$o" | "$PY" -c '
import re, sys
s = sys.stdin.read()
avg = float(re.search(r"Avg latency: ([0-9.]+) ms", s).group(1))
p = re.search(r"50th = ([0-9.]+), 99th = ([0-9.]+), 99.9th = ([0-9.]+)", s)
case = "one at a time (acks=all)"
for k, v in (("avg_ms", avg), ("p50_ms", p.group(1)), ("p99_ms", p.group(2)), ("p999_ms", p.group(3)), ("rate", 1000.0 / avg), ("lost", 0)):
    print("R\tlatency\t%s\tkafka\t%s\t%s" % (case, k, v))
' >>"$RAW"
  }
  log "one-at-a-time latency, run $((i + 1))"
  if ((i % 2 == 0)); then ours; theirs; else theirs; ours; fi
done
# Our one-at-a-time case has its own name; give Kafka's rows the same case.
sed -i 's/^R\tlatency\tone at a time low-latency\t/R\tlatency\tone at a time (acks=all)\t/' "$RAW"
fi

# ----------------------------------------------------------------- memory --
if want memory memory; then
meta cmd_memory "$B_SHOWN/bench_memory -m consumer -R $MEM_RATE -d $((MEM_SECS + 5)) -T TOPIC & $B_SHOWN/bench_memory -m producer -R $MEM_RATE -d $MEM_SECS -T TOPIC"
log "memory: producer + consumer at $MEM_RATE/s for ${MEM_SECS}s"
mt="bench-memory-$$"
"$B/bench_memory" -m consumer -R "$MEM_RATE" -d "$((MEM_SECS + 5))" -T "$mt" >"$OUT/mem_consumer.txt" &
cpid=$!
sleep 3
"$B/bench_memory" -m producer -R "$MEM_RATE" -d "$MEM_SECS" -T "$mt" >"$OUT/mem_producer.txt"
wait "$cpid"
cat "$OUT/mem_producer.txt" "$OUT/mem_consumer.txt" | grep '^S' >"$OUT/samples.tsv" || true
cat "$OUT/mem_producer.txt" "$OUT/mem_consumer.txt" | grep '^R' >>"$RAW" || true
fi

# --------------------------------------------------------------- valgrind --
if want valgrind; then
VG="valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible"
meta cmd_valgrind "$VG $B_SHOWN/bench_memory -m both -R {200,1000} -d 4 -T TOPIC"
: >"$OUT/valgrind.txt"
for r in 200 1000; do
  log "valgrind memcheck, producer + consumer at $r/s for 4 s"
  $VG "$B/bench_memory" -m both -R "$r" -d 4 -T "bench-valgrind-$$-$r" >"$OUT/vg_$r.out" 2>"$OUT/vg_$r.err" || true
  {
    echo "# -R $r -d 4: $(grep -E 'published|consumed' "$OUT/vg_$r.out" | awk -F'\t' '{printf "%s %s ", $5, $6}')"
    grep -E 'HEAP SUMMARY|in use at exit|total heap usage|LEAK SUMMARY|definitely lost:|indirectly lost:|possibly lost:|still reachable:|ERROR SUMMARY' "$OUT/vg_$r.err" | sed 's/^==[0-9]*== *//'
    echo "# memory errors other than leaks (invalid read/write, uninitialised values, bad free): $(grep -cE 'Invalid (read|write|free)|uninitialised|Mismatched free' "$OUT/vg_$r.err" || true)"
    echo "# definitely/indirectly lost blocks allocated in (function, file:line):"
    awk '/are (definitely|indirectly) lost/ {on=1; next} on && /by 0x.*\([a-z_]+\.c:[0-9]+\)/ {print "#   " $4, $5; on=0}' "$OUT/vg_$r.err" | sort | uniq -c | sed 's/^ */#   /'
  } >>"$OUT/valgrind.txt"
done
fi

# -------------------------------------------------------------- callgrind --
if want callgrind; then
rm -f "$OUT/callgrind_incl.tsv"
CGN=20000
meta cmd_callgrind "valgrind --tool=callgrind $B_SHOWN/bench_publish -t position -p 1 -n $CGN -r 1 -s {gen,typed,plain}"
for side in gen typed plain; do
  log "callgrind: $side publish of $CGN events"
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$side" \
    "$B/bench_publish" -t position -p 1 -n "$CGN" -r 1 -s "$side" >/dev/null 2>"$OUT/callgrind_$side.log" || true
  callgrind_annotate "$OUT/callgrind.$side" 2>/dev/null | head -40 >"$OUT/callgrind_$side.full" || true
  total=$(grep -m1 -E 'PROGRAM TOTALS' "$OUT/callgrind_$side.full" | awk '{gsub(",", "", $1); print $1}')
  [ -n "$total" ] && meta "ir_per_event_$side" "$((total / CGN)) instructions"
  grep -E '^ *[0-9,]+ \([ 0-9.]+%\)' "$OUT/callgrind_$side.full" | grep -v 'PROGRAM TOTALS' | head -15 >"$OUT/callgrind_$side.txt" || true
  # inclusive instructions per event of the functions the analysis names
  callgrind_annotate --inclusive=yes "$OUT/callgrind.$side" 2>/dev/null | python3 -c '
import re, sys
side, n = sys.argv[1], int(sys.argv[2])
want = ["vtev_producer_publish_type", "vtev_vessel_position_updated_validate",
        "vtev_serde_serialize_type", "vtev__serde_type_id", "vtev_vessel_position_updated_encode",
        "make_headers", "vtev_producer_publish_to", "vtev_serde_serialize", "vtev_event_encode",
        "avro_value_write", "put_env", "vtev_event_validate", "vtev__uuid_valid", "vtev__utf8_bad",
        "enqueue", "rd_kafka_producev", "serve_one", "rd_kafka_poll", "rd_kafka_headers_copy",
        "deflate"]
seen = {}
for line in sys.stdin:
    m = re.match(r"\s*([0-9,]+) \([ 0-9.]+%\)\s+\S*:([A-Za-z_0-9]+)(\x27\d+)? ", line)
    if m and m.group(2) in want and m.group(3) is None and m.group(2) not in seen:
        seen[m.group(2)] = int(m.group(1).replace(",", "")) // n
for w in want:
    if w in seen:
        print("%s\t%s\t%d" % (side, w, seen[w]))
' "$side" "$CGN" >>"$OUT/callgrind_incl.tsv" || true
done
fi

# --------------------------------------------------------------- pipeline --
# position -> result through the example services (vt-demo --real runs the
# simulator, trigger, worker and persister as processes on this stack and
# prints the position -> result latency at the persister).
if want pipeline pipeline; then
DEMO=$BUILD/examples/vt-demo
if [ -x "$DEMO" ]; then
  meta cmd_pipeline "$DEMO --real -b \$KAFKA_BOOTSTRAP_SERVERS -r \$SCHEMA_REGISTRY_URL --count 1500 --rate 100 --quiet-predictions (x $RUNS)"
  meta pipeline_note ""
  : >"$OUT/pipeline.txt"
  for ((i = 0; i < RUNS; i++)); do
    log "pipeline run $((i + 1))"
    o=$("$DEMO" --real -b "$KAFKA_BOOTSTRAP_SERVERS" -r "$SCHEMA_REGISTRY_URL" --count 1500 --rate 100 \
        --quiet-predictions 2>&1) || { echo "$o" >>"$OUT/pipeline.txt"; log "vt-demo failed (see $OUT/pipeline.txt)"; continue; }
    echo "$o" | tail -5 >>"$OUT/pipeline.txt"
    echo "$o" | python3 -c '
import re, sys
m = re.search(r"latency position -> result at the persister: p50 ([0-9.]+) ms, p99 ([0-9.]+) ms \(([0-9]+) results\)", sys.stdin.read())
if m:
    for k, v in (("p50_ms", m.group(1)), ("p99_ms", m.group(2)), ("results", m.group(3))):
        print("R\tpipeline\tposition -> result\ttyped\t%s\t%s" % (k, v))
' >>"$RAW"
  done
else
  meta pipeline_note "the example services are not built on this branch ($DEMO is missing)."
fi
fi

# ------------------------------------------------------------------- live --
# The live-broadcaster under load: LIVE_CLIENTS WebSocket clients
# (bench/live_load.c) while position-simulator publishes LIVE_RATE
# positions/s (bench/live_bench.sh: one line per run).
if want live live; then
  LIVE_CLIENTS=${VTEV_BENCH_LIVE_CLIENTS:-200} LIVE_RATE=${VTEV_BENCH_LIVE_RATE:-500}
  LIVE_SECS=${VTEV_BENCH_LIVE_SECS:-20}
  meta cmd_live "bench/live_bench.sh $BUILD_SHOWN OUT $RUNS $LIVE_CLIENTS $LIVE_RATE $LIVE_SECS ($B_SHOWN/live_load: $LIVE_CLIENTS clients; position-simulator --rate $LIVE_RATE for $LIVE_SECS s, 16 vessels; live-broadcaster --client-queue 1024, --flush-ms 10)"
  bench/live_bench.sh "$BUILD" "$OUT/live.tsv" "$RUNS" "$LIVE_CLIENTS" "$LIVE_RATE" "$LIVE_SECS"
  awk -F'\t' -v c="$LIVE_CLIENTS clients, $LIVE_RATE positions/s" 'BEGIN {
      split("run clients rate received p50_ms p99_ms p999_ms max_ms cpu_pct rss_mb hwm_mb errors load_cpu_pct dropped missing", k, " ") }
    { for (i = 4; i <= 15; i++) printf "R\tlive\t%s\tlive\t%s\t%s\n", c, k[i], $i }' "$OUT/live.tsv" >>"$RAW"
fi

# ------------------------------------------------------------------- dlq --
# vt-dlq stats on 10,000 dead letters (the whole process, from outside).
if want dlq dlq_stats; then
DLQ_N=10000
meta cmd_dlq "$B_SHOWN/bench_dlq -x $BUILD_SHOWN/tools/vt-dlq -n $DLQ_N -r $RUNS"
log "vt-dlq stats on $DLQ_N dead letters"
"$B/bench_dlq" -x "$BUILD/tools/vt-dlq" -n "$DLQ_N" -r "$RUNS" >>"$RAW"
fi

# -------------------------------------------------------------------- api --
# vessel-api (direct, outbox) against the platform's original design in
# Python (FastAPI + uvicorn + SerializingProducer), under wrk at 1,000 and
# 5,000 req/s and at maximum throughput; every 202 counted in the topic.
if want api api; then
  command -v wrk >/dev/null || die "wrk is missing (Debian package wrk; ./run deps installs it)"
  [ -x "$BUILD/examples/vessel-api" ] || die "$BUILD/examples/vessel-api is missing: build first (./run build)"
  meta cmd_api "$PY_SHOWN bench/api/run_api.py $BUILD_SHOWN $PY_SHOWN --rounds $API_ROUNDS --secs $API_SECS (wrk -t1 -c50 -d${API_SECS}s -s bench/api/put.lua, VT_RATE=1000, 5000, 0)"
  meta api_secs "$API_SECS"
  log "api: vessel-api vs the Python service, $API_ROUNDS rounds"
  "$PY" bench/api/run_api.py "$BUILD" "$PY" --rounds "$API_ROUNDS" --secs "$API_SECS" >>"$RAW"
fi

if [ -z "$ONLY" ]; then
  meta load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
  meta duration "$((SECONDS / 60)) min $((SECONDS % 60)) s for the whole run"
else
  meta rerun "${ONLY//,/ } rerun on $(date -u '+%Y-%m-%d %H:%M UTC'), load after $(cut -d' ' -f1-3 /proc/loadavg)"
fi
if [ "$DOC" = 1 ]; then
  if [ -n "$SECTIONS" ]; then
    python3 bench/report.py "$OUT" doc/PERFORMANCE.md --sections "$SECTIONS"
  else
    python3 bench/report.py "$OUT" doc/PERFORMANCE.md
  fi
fi
log "done; raw results in $OUT"
