#!/usr/bin/env bash
# tests/secure/secure.sh BUILD_DIR - the library, the tools and example services over the
# secure stack (scripts/stack.sh up --secure, doc/security.md), configured by the generated
# properties files only (-F), over SASL_SSL and over mTLS:
#   1. vt-publish / vt-tail, and the library (secure_client roundtrip), in both modes;
#   2. prediction-worker --exactly-once (SASL_SSL) and prediction-persister (mTLS) between a request
#      published as User:vessel-api and the results read as User:live-broadcaster;
#   3. SCRAM-SHA-512 on the SASL_SSL listener, with the Python peer (a librdkafka >= 2.6.1);
#   4. a wrong password: exit 1 from vt-publish and vt-tail within 5 s, an error naming
#      kafka.sasl.password, nothing published; the library's producer fails fatally;
#   5. a principal without WRITE on prediction-results: TOPIC_AUTHORIZATION_FAILED in the
#      delivery report within 5 s (vt-publish and the library);
#   6. no password and no private-key line in any output captured above (also with -v and
#      librdkafka's debug log).
# One single-node secure stack of its own (.stack-secure-test/, ports
# VTEV_SECURE_TEST_KAFKA_PORT 29596..29598, VTEV_SECURE_TEST_REGISTRY_PORT 28596), started
# and stopped here.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:?usage: secure.sh BUILD_DIR}" && pwd)
cd "$ROOT"
export VTEV_STACK_DIR=$ROOT/.stack-secure-test
export VTEV_STACK_KAFKA_PORT=${VTEV_SECURE_TEST_KAFKA_PORT:-29596}
export VTEV_STACK_REGISTRY_PORT=${VTEV_SECURE_TEST_REGISTRY_PORT:-28596}
export VTEV_STACK_PROMETHEUS_PORT=${VTEV_SECURE_TEST_PROMETHEUS_PORT:-29599}
export VTEV_BUILD_DIR=$BUILD
# the plain stack's environment (./run test) must not override the files' brokers
unset KAFKA_BOOTSTRAP_SERVERS VTEV_CONFIG
for v in $(env | sed -n 's/^\(VTEV_KAFKA_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done

OUT=$BUILD/secure-test
rm -rf "$OUT"
mkdir -p "$OUT"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  scripts/stack.sh down --quiet >/dev/null 2>&1 || true
}
trap cleanup EXIT

FAILS=0
T0=$(date +%s.%N)
step() { printf '%6.1fs  %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$*"; }
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
fast() { awk -v s="$1" 'BEGIN { exit !(s < 5) }'; }

# run NAME CMD...: runs CMD with its stdout and stderr in $OUT/NAME.{out,err}; sets RC
run() {
  local name=$1
  shift
  RC=0
  "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || RC=$?
}

scripts/stack.sh down --quiet >/dev/null 2>&1 || true
t=$(now)
scripts/stack.sh up --secure --quiet
step "secure stack up in $(secs "$t")s"
set -a
# shellcheck disable=SC1091
. "$VTEV_STACK_DIR/env"
set +a

TOOLS=$BUILD/tools
conf() { local v=VTEV_SECURE_CONF_$1_$2; printf '%s\n' "${!v}"; }
POS="position --vessel lng-secure --lat 29.7604 --lon -95.3698 --speed 12.5 --heading 275"
RESULT="result --vessel lng-secure --lat 29.7 --lon -93.9 --speed 12 --heading 270
  --request-id req-5ec00002 --prediction-id p-5ec --terminal-id 1 --terminal-name Sabine
  --confidence-score 0.9 --proximity 0.8 --speed-score 1 --heading-score 1 --rag-boost 0
  --ai-adjustment 0 --distance-km 25"

# ---- 1. the tools and the library, each mode
for mode in SASL MTLS; do
  # shellcheck disable=SC2086
  run "publish-$mode" "$TOOLS/vt-publish" -F "$(conf POSITION_SIMULATOR "$mode")" $POS
  id=$(awk 'NR == 1 { print $1 }' "$OUT/publish-$mode.out")
  [ "$RC" = 0 ] && [ -n "$id" ] || fail "vt-publish over $mode: exit $RC: $(cat "$OUT/publish-$mode.err")"
  run "tail-$mode" "$TOOLS/vt-tail" -v -F "$(conf LIVE_BROADCASTER "$mode")" position -o beginning -e
  [ "$RC" = 0 ] && grep -q "\"event_id\": \"$id\"" "$OUT/tail-$mode.out" ||
    fail "vt-tail over $mode did not read $id back (exit $RC): $(tail -n 3 "$OUT/tail-$mode.err")"
  run "library-$mode" env VTEV_GROUP_ID=prediction-triggers \
    "$BUILD/tests/secure_client" roundtrip "$(conf POSITION_SIMULATOR "$mode")" "$(conf PREDICTION_TRIGGER "$mode")"
  [ "$RC" = 0 ] || fail "library roundtrip over $mode: $(cat "$OUT/library-$mode.err")"
  step "$mode: vt-publish, vt-tail, library publish + group consume: $([ "$FAILS" = 0 ] && echo ok || echo failed)"
done

# ---- 2. example services: worker over SASL_SSL, persister over mTLS
EX=$BUILD/examples
# exactly once: its transactional-id ACL (scripts/stack/secure_txn_acls.py) is tested too
"$EX/prediction-worker" -q -F "$(conf PREDICTION_WORKER SASL)" --exactly-once --ready-file "$OUT/worker.ready" \
  >"$OUT/worker.out" 2>"$OUT/worker.err" &
PIDS+=($!)
"$EX/prediction-persister" -q -F "$(conf PREDICTION_PERSISTER MTLS)" --db "$OUT/predictions.db" \
  --ready-file "$OUT/persister.ready" >"$OUT/persister.out" 2>"$OUT/persister.err" &
PIDS+=($!)
for _ in $(seq 100); do [ -f "$OUT/worker.ready" ] && [ -f "$OUT/persister.ready" ] && break; sleep 0.2; done
run request "$TOOLS/vt-publish" -F "$(conf VESSEL_API MTLS)" request --vessel IMO9239599 --lat 27.62 \
  --lon -96.85 --speed 14.2 --heading 300 --request-id req-5ec00001
[ "$RC" = 0 ] || fail "vt-publish request as vessel-api over mTLS: $(cat "$OUT/request.err")"
rows=0
for _ in $(seq 60); do
  rows=$(python3 -c 'import sqlite3, sys
try:
    print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM predictions WHERE request_id = ?", ("req-5ec00001",)).fetchone()[0])
except sqlite3.Error:
    print(0)' "$OUT/predictions.db")
  [ "$rows" -ge 3 ] && break
  sleep 0.25
done
[ "$rows" = 3 ] || fail "the persister (mTLS) stored $rows rows for req-5ec00001, expected 3 (worker: $(tail -n 3 "$OUT/worker.err"))"
run results "$TOOLS/vt-tail" -F "$(conf LIVE_BROADCASTER SASL)" result -o beginning -e
n=$(grep -c '"request_id": "req-5ec00001"' "$OUT/results.out" || true)
[ "$n" = 3 ] || fail "vt-tail (live-broadcaster) read $n results of req-5ec00001, expected 3"
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${PIDS[@]}"; do wait "$p" || fail "an example service exited $? after SIGTERM"; done
PIDS=()
step "services: request -> prediction-worker --exactly-once (SASL_SSL) -> prediction-persister (mTLS): $rows rows, $n results"

# ---- 3. SCRAM-SHA-512 with a librdkafka that can (the Python peer's)
if [ -x "${VTEV_PYTHON:-}" ]; then
  run scram "$VTEV_PYTHON" - "$(conf ADMIN SCRAM)" <<'PY'
import sys
from confluent_kafka import libversion
from confluent_kafka.admin import AdminClient
conf = {}
for line in open(sys.argv[1]):
    k, _, v = line.strip().partition("=")
    if k.startswith("kafka."):
        conf[k[6:]] = v
    elif k == "bootstrap.servers":
        conf[k] = v
md = AdminClient(conf).list_topics(timeout=10)
print("librdkafka", libversion()[0], "SCRAM-SHA-512:", len(md.brokers), "broker(s),",
      "prediction-results" in md.topics and "prediction-results listed")
PY
  [ "$RC" = 0 ] && grep -q "prediction-results listed" "$OUT/scram.out" ||
    fail "SCRAM-SHA-512 login (Python peer): $(tail -n 3 "$OUT/scram.err")"
  step "SASL_SSL with SCRAM-SHA-512 (Python peer): $(cat "$OUT/scram.out")"
else
  step "SCRAM-SHA-512 check skipped: VTEV_PYTHON (the .venv's python) is not set"
fi
# ... and with the library's own librdkafka: before 2.6.1 the right password fails too (its
# SCRAM nonce bug), and the error must say so rather than only blame the password
rdk=$("$TOOLS/vt-publish" --version | awk '$1 == "librdkafka" { print $2 }')
t=$(now)
# shellcheck disable=SC2086
run scram-c "$TOOLS/vt-publish" -F "$(conf POSITION_SIMULATOR SCRAM)" -X kafka.message.timeout.ms=15000 $POS
took=$(secs "$t")
if ! printf '2.6.1\n%s\n' "$rdk" | sort -V -C; then # older than 2.6.1 (as the library checks)
  [ "$RC" = 1 ] && grep -q "SCRAM nonce bug" "$OUT/scram-c.err" && fast "$took" ||
    fail "vt-publish over SCRAM with librdkafka $rdk: exit $RC after ${took}s, and the error does not name the nonce bug: $(cat "$OUT/scram-c.err")"
  step "SCRAM-SHA-512 with librdkafka $rdk (vt-publish): exit 1 in ${took}s naming its nonce bug"
else
  [ "$RC" = 0 ] || fail "vt-publish over SCRAM with librdkafka $rdk: exit $RC: $(cat "$OUT/scram-c.err")"
  step "SCRAM-SHA-512 with librdkafka $rdk (vt-publish): published"
fi

# ---- 4. a wrong password
BAD=$OUT/bad-password.properties
sed 's/^kafka.sasl.password=.*/kafka.sasl.password=not-the-password-5ec/' "$(conf POSITION_SIMULATOR SASL)" >"$BAD"
count_positions() {
  "$TOOLS/vt-tail" -q -F "$(conf ADMIN MTLS)" position -o beginning -e 2>/dev/null | grep -c . || true
}
before=$(count_positions)
t=$(now)
# shellcheck disable=SC2086
run badpw-publish "$TOOLS/vt-publish" -F "$BAD" -X kafka.message.timeout.ms=15000 $POS
took=$(secs "$t")
[ "$RC" = 1 ] || fail "vt-publish with a wrong password: exit $RC, expected 1"
grep -q "kafka.sasl.password" "$OUT/badpw-publish.err" ||
  fail "vt-publish with a wrong password: no error naming kafka.sasl.password: $(cat "$OUT/badpw-publish.err")"
fast "$took" || fail "vt-publish with a wrong password took ${took}s (expected < 5 s)"
t=$(now)
run badpw-tail "$TOOLS/vt-tail" -F "$BAD" position -o beginning -e
took2=$(secs "$t")
[ "$RC" = 1 ] && grep -q "kafka.sasl.password" "$OUT/badpw-tail.err" && fast "$took2" ||
  fail "vt-tail with a wrong password: exit $RC after ${took2}s: $(tail -n 1 "$OUT/badpw-tail.err")"
run badpw-library "$BUILD/tests/secure_client" badauth "$BAD"
[ "$RC" = 0 ] || fail "library with a wrong password: $(cat "$OUT/badpw-library.out" "$OUT/badpw-library.err")"
after=$(count_positions)
[ "$before" = "$after" ] || fail "positions before/after the wrong password: $before/$after"
step "wrong password: vt-publish exit 1 in ${took}s, vt-tail exit 1 in ${took2}s, library fatal; positions $before -> $after"

# ---- 5. no WRITE on prediction-results (persister: READ only; vessel-api: nothing)
for who in PREDICTION_PERSISTER:SASL VESSEL_API:MTLS; do
  t=$(now)
  # shellcheck disable=SC2086
  run "denied-${who%%:*}" "$TOOLS/vt-publish" -F "$(conf "${who%%:*}" "${who##*:}")" $RESULT
  took=$(secs "$t")
  [ "$RC" = 1 ] && grep -q "Topic authorization failed" "$OUT/denied-${who%%:*}.err" && fast "$took" ||
    fail "vt-publish result as ${who%%:*}: exit $RC after ${took}s: $(cat "$OUT/denied-${who%%:*}.err")"
  step "no WRITE (${who%%:*} over ${who##*:}): vt-publish exit $RC after ${took}s"
done
run denied-library "$BUILD/tests/secure_client" denied "$(conf PREDICTION_PERSISTER MTLS)"
[ "$RC" = 0 ] || fail "library publish without WRITE: $(cat "$OUT/denied-library.out" "$OUT/denied-library.err")"
step "no WRITE, library: $(cat "$OUT/denied-library.out")"

# ---- 6. secrets in the outputs, with -v and librdkafka's debug log too
# shellcheck disable=SC2086
run verbose-sasl "$TOOLS/vt-publish" -v -X kafka.debug=security,broker,conf -F "$(conf POSITION_SIMULATOR SASL)" $POS
# shellcheck disable=SC2086
run verbose-mtls "$TOOLS/vt-publish" -v -X kafka.debug=security,broker,conf -F "$(conf POSITION_SIMULATOR MTLS)" $POS
secrets=$OUT/secrets.txt
cat "$VTEV_SECURE_DIR"/*.sasl.password "$VTEV_SECURE_DIR"/*.key.password "$VTEV_SECURE_DIR/store.password" >"$secrets"
# every base64 line of every private key (the PEM headers are not secret)
grep -hv -e '-----' -e '^[[:space:]]*$' "$VTEV_SECURE_DIR"/*.key >>"$secrets"
files=("$OUT"/*.out "$OUT"/*.err)
hits=$(grep -lFf "$secrets" "${files[@]}" || true)
[ -z "$hits" ] || fail "a password or private-key line appears in: $hits"
# the control: the same search finds every SASL password in the properties files
n=$(grep -lFf "$secrets" "$VTEV_SECURE_DIR"/clients/*-sasl.properties | wc -l)
[ "$n" = "$(ls "$VTEV_SECURE_DIR"/clients/*-sasl.properties | wc -l)" ] || fail "the secret search misses passwords"
nsecrets=$(wc -l <"$secrets")
rm -f "$secrets"
step "secrets: $nsecrets secret lines, ${#files[@]} captured outputs ($(cat "${files[@]}" | wc -l) lines): $([ -z "$hits" ] && echo none in them || echo FOUND)"

# the ACL table of doc/security.md is the one the stack creates
acl_rows() { awk '!/^[[:space:]]*#/ && NF == 5 { print $1, $2, $4, $5 }' scripts/stack/secure-acls.txt; }
doc_rows() {
  awk -F'|' '/^\| principal \| resource \| name \| operations \|/ { t = 1; next }
    t && /^\|---/ { next }
    t && /^\|/ { for (i = 2; i <= 5; i++) gsub(/^ +| +$/, "", $i); print $2, $3, $4, $5; next }
    t { exit }' doc/security.md | sed 's/ *$//'
}
if [ "$(acl_rows)" != "$(doc_rows)" ]; then
  fail "doc/security.md's ACL table differs from scripts/stack/secure-acls.txt: $(diff <(acl_rows) <(doc_rows) | head -5)"
fi
step "doc/security.md's ACL table: $(doc_rows | wc -l) rows, as scripts/stack/secure-acls.txt"

if [ "$FAILS" != 0 ]; then
  echo "secure: $FAILS check(s) failed; outputs in $OUT" >&2
  exit 1
fi
step "secure: all checks passed"
