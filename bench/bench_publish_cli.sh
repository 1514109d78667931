#!/usr/bin/env bash
# Throughput of `vt-publish --json` on a large file, next to kcat producing
# the same number of pre-encoded messages of the same size (same keys, same
# producer settings: acks=all, idempotence, lz4) to a topic with the same
# partitions, against the real stack of scripts/stack.sh.
#
# usage: bench/bench_publish_cli.sh [N] [BUILD_DIR]
#   N          events (default 100000)
#   BUILD_DIR  build directory with tools/vt-publish (default build)
# Needs: KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL (else read from
# ${VTEV_STACK_DIR:-.stack}/env), kcat (Debian package kcat), and Python
# ($VTEV_PYTHON, else .venv/bin/python, else python3) to generate the events.
# Prints one line per run and the ratio; also writes bench/results/publish_cli.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-100000}
BUILD=${2:-$ROOT/build}
PUB=$BUILD/tools/vt-publish
TOPICS=$BUILD/tools/vt-topics
PY=${VTEV_PYTHON:-}
[ -n "$PY" ] || { [ -x "$ROOT/.venv/bin/python" ] && PY=$ROOT/.venv/bin/python; } || PY=python3
[ -n "$PY" ] || PY=python3

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  env_file=${VTEV_STACK_DIR:-$ROOT/.stack}/env
  [ -f "$env_file" ] || { echo "no KAFKA_BOOTSTRAP_SERVERS and no $env_file: ./run stack up" >&2; exit 1; }
  set -a; . "$env_file"; set +a
fi
command -v kcat >/dev/null || { echo "kcat is not installed (apt-get install kcat)" >&2; exit 1; }
[ -x "$PUB" ] || { echo "$PUB is not built" >&2; exit 1; }
BS=$KAFKA_BOOTSTRAP_SERVERS

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
P=bench-cli-$(date +%s)-$$
now() { date +%s.%N; }
# cpu FILE: user+sys seconds recorded by /usr/bin/time -f '%U %S' -o FILE
cpu() { awk '{printf "%.2f", $1 + $2}' "$1"; }

echo "generating $N position events..." >&2
"$PY" "$ROOT/tests/tools/helper.py" gen "$N" 42 position >"$TMP/events.jsonl"
"$TOPICS" -q -X "topic.position=$P.vt" create >/dev/null
"$TOPICS" -q -X "topic.position=$P.kcat" create >/dev/null

# vt-publish --json: parse, validate (strict mode: a first pass over the whole
# file), encode, frame, produce, wait for every delivery report, print a line each.
t0=$(now)
/usr/bin/time -f '%U %S' -o "$TMP/vt.cpu" "$PUB" -X "topic.position=$P.vt" --json -f "$TMP/events.jsonl" >"$TMP/vt.out"
t1=$(now)
[ "$(wc -l <"$TMP/vt.out")" = "$N" ] || { echo "vt-publish did not deliver $N events" >&2; exit 1; }
[ "$(kcat -C -b "$BS" -t "$P.vt" -o beginning -e -q -f '%o\n' | wc -l)" = "$N" ] || { echo "the topic does not hold $N events" >&2; exit 1; }
vt_s=$(echo "$t1 - $t0" | bc -l)

# single pass (--skip-invalid) and no output (-q), for the breakdown
t0=$(now)
/usr/bin/time -f '%U %S' -o "$TMP/vt1.cpu" "$PUB" -q -X "topic.position=$P.vt" --json --skip-invalid -f "$TMP/events.jsonl"
t1=$(now)
vt1_s=$(echo "$t1 - $t0" | bc -l)

# The framed sizes vt-publish produced, to make kcat's messages the same size.
kcat -C -b "$BS" -t "$P.vt" -o beginning -e -q -f '%S\n' -c "$N" >"$TMP/sizes"
avg=$(awk '{s+=$1} END {printf "%d", s/NR}' "$TMP/sizes")

# Pre-encoded messages for kcat: key TAB value, value = avg random printable
# bytes (no newline or tab), keys as in the events.
"$PY" - "$TMP/events.jsonl" "$avg" >"$TMP/kcat.in" <<'PYEOF'
import json, random, string, sys
rng = random.Random(7)
alphabet = (string.ascii_letters + string.digits).encode()
size = int(sys.argv[2])
out = sys.stdout.buffer
for line in open(sys.argv[1], encoding="utf-8"):
    key = json.loads(line)["vessel_id"].encode()
    out.write(key + b"\t" + bytes(rng.choice(alphabet) for _ in range(size)) + b"\n")
PYEOF

t0=$(now)
/usr/bin/time -f '%U %S' -o "$TMP/kc.cpu" kcat -P -b "$BS" -t "$P.kcat" -K $'\t' -X enable.idempotence=true -X acks=all \
  -X compression.codec=lz4 -X partitioner=murmur2_random -l "$TMP/kcat.in"
t1=$(now)
kc_s=$(echo "$t1 - $t0" | bc -l)
kc_n=$(kcat -C -b "$BS" -t "$P.kcat" -o beginning -e -q -f '%o\n' | wc -l)
[ "$kc_n" = "$N" ] || { echo "kcat delivered $kc_n of $N" >&2; exit 1; }

rate() { echo "$1 / $2" | bc -l | xargs printf '%.0f'; }
ratio=$(echo "$kc_s / $vt_s" | bc -l | xargs printf '%.2f')
ratio1=$(echo "$kc_s / $vt1_s" | bc -l | xargs printf '%.2f')
{
  echo "events: $N position events, framed value ${avg} bytes on average, 3 partitions"
  printf 'vt-publish --json (strict, 2 passes, line per event): %.2f s  %s events/s  (%s s CPU)\n' "$vt_s" "$(rate "$N" "$vt_s")" "$(cpu "$TMP/vt.cpu")"
  printf 'vt-publish --json --skip-invalid -q (1 pass):         %.2f s  %s events/s  (%s s CPU)\n' "$vt1_s" "$(rate "$N" "$vt1_s")" "$(cpu "$TMP/vt1.cpu")"
  printf 'kcat -P (pre-encoded, same size and keys):             %.2f s  %s msgs/s  (%s s CPU)\n' "$kc_s" "$(rate "$N" "$kc_s")" "$(cpu "$TMP/kc.cpu")"
  echo "ratio vt-publish/kcat throughput (wall): $ratio (strict), $ratio1 (single pass)"
  echo "ratio of CPU per message kcat/vt-publish: $(echo "$(cpu "$TMP/kc.cpu") / $(cpu "$TMP/vt.cpu")" | bc -l | xargs printf '%.2f') (strict), $(echo "$(cpu "$TMP/kc.cpu") / $(cpu "$TMP/vt1.cpu")" | bc -l | xargs printf '%.2f') (single pass)"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
} | tee "$TMP/result"
mkdir -p "$ROOT/bench/results"
cp "$TMP/result" "$ROOT/bench/results/publish_cli.txt"
