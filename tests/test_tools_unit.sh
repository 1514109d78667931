#!/usr/bin/env bash
# Unit-level tests of vt-publish, vt-tail and vt-topics on the embedded
# default (bootstrap.servers=mock://..., schema.registry.url=mock://...): no
# network. What works in one process is tested here (vt-publish publishes
# into its own in-process mock cluster and gets real delivery reports); what
# needs two processes is in test_tools_integration.sh.
#
# usage: test_tools_unit.sh VT_PUBLISH VT_TAIL VT_TOPICS APPEND_SHIM_SO
set -u
PUB=$1 TAIL=$2 TOPICS=$3 SHIM=$4

# No real stack, no user configuration: the embedded default only.
unset KAFKA_BOOTSTRAP_SERVERS SCHEMA_REGISTRY_URL VTEV_CONFIG
for v in $(env | sed -n 's/^\(VTEV_[A-Z0-9_]*\)=.*/\1/p'); do
  case $v in VTEV_ALLOW_SKIP|VTEV_PYTHON|VTEV_SOURCE_ROOT) ;; *) unset "$v" ;; esac
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export HOME=$TMP/home
mkdir -p "$HOME"

fails=0 checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }

# run NAME EXPECTED_RC CMD... : runs CMD, stdout in $TMP/out, stderr in $TMP/err
run() {
  local name=$1 want=$2 rc
  shift 2
  "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  if [ "$rc" = "$want" ]; then ok; else
    bad "$name: exit $rc, want $want"; sed 's/^/  stderr: /' "$TMP/err" >&2; sed 's/^/  stdout: /' "$TMP/out" >&2
  fi
}
# has FILE NAME REGEX : FILE (out|err) matches REGEX
has() {
  if grep -Eq -- "$3" "$TMP/$1"; then ok; else
    bad "$2: $1 does not match /$3/"; sed "s/^/  $1: /" "$TMP/$1" >&2
  fi
}
hasnt() {
  if grep -Eq -- "$3" "$TMP/$1"; then bad "$2: $1 matches /$3/"; sed "s/^/  $1: /" "$TMP/$1" >&2; else ok; fi
}
lines() { # lines FILE NAME N
  local n
  n=$(grep -c . "$TMP/$1")
  if [ "$n" = "$3" ]; then ok; else bad "$2: $1 has $n non-empty lines, want $3"; sed "s/^/  $1: /" "$TMP/$1" >&2; fi
}

POS=(position --vessel lng-001 --lat 29.7604 --lon -95.3698 --speed 12.5 --heading 275)
SNAP=(--vessel lng-001 --lat 29.7604 --lon -95.3698 --speed 12.5 --heading 275)
RES=(result "${SNAP[@]}" --request-id req-0000abcd --prediction-id pred-1 --terminal-id 7
     --terminal-name "Sabine Pass" --confidence-score 0.82 --proximity 0.9 --speed-score 0.7
     --heading-score 0.6 --rag-boost 0.1 --ai-adjustment -0.05 --distance-km 12.3)
UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'

# ---- --help, -V, usage errors, for every tool ------------------------------
for t in "$PUB" "$TAIL" "$TOPICS"; do
  n=$(basename "$t")
  run "$n --help" 0 "$t" --help
  has out "$n --help" "^usage: $n"
  has out "$n --help" "Exit status"
  run "$n -h" 0 "$t" -h
  has out "$n -h" "^usage: $n"
  run "$n --version" 0 "$t" --version
  has out "$n --version" "^librdkafka [0-9]"
  run "$n -V" 0 "$t" -V
  has out "$n -V" "^$n [0-9]+\.[0-9]+\.[0-9]+$"
  has out "$n -V" "^libvtevents [0-9]"
  has out "$n -V" "^librdkafka [0-9]"
  run "$n --no-such-flag" 2 "$t" --no-such-flag
  has err "$n --no-such-flag" "--no-such-flag: unknown option"
done
run "publish -X unknown key" 2 "$PUB" -X no.such.key=1 "${POS[@]}"
has err "publish -X unknown key" "-X no.such.key: "
run "publish -X without =" 2 "$PUB" -X novalue "${POS[@]}"
has err "publish -X without =" "-X novalue: expected KEY=VALUE"
run "publish -X invalid value" 2 "$PUB" -X log.level=99 "${POS[@]}"
has err "publish -X invalid value" "-X log.level"
run "tail -X kafka.* invalid" 2 "$TAIL" -X kafka.no.such.rdkafka.key=1 position
has err "tail -X kafka.* invalid" "kafka.no.such.rdkafka.key"

# ---- [defects] 6: the embedded default is announced, once, also with -q -----
WARN='^vt-publish: warning: bootstrap.servers and schema.registry.url are not configured: using the embedded mock cluster and registry mock://default'
count() { # count FILE NAME REGEX N : N lines of FILE match REGEX
  local n
  n=$(grep -Ec -- "$3" "$TMP/$1")
  if [ "$n" = "$4" ]; then ok; else bad "$2: $n lines of $1 match /$3/, want $4"; sed "s/^/  $1: /" "$TMP/$1" >&2; fi
}
run "embedded default announced" 0 "$PUB" "${POS[@]}"
count err "embedded default announced" "$WARN" 1
run "embedded default announced with -q" 0 "$PUB" -q "${POS[@]}"
count err "embedded default announced with -q" "$WARN" 1
run "misspelt KAFKA_BOOTSTRAP_SERVER" 0 env KAFKA_BOOTSTRAP_SERVER=127.0.0.1:9092 "$PUB" -q "${POS[@]}"
count err "misspelt KAFKA_BOOTSTRAP_SERVER" "$WARN" 1
run "embedded default announced (--json)" 0 "$PUB" -q --json <<<"$(printf '%s' '{"event_type":"vessel.position.updated","vessel_id":"v1","data":{"lat":1.5,"lon":2,"speed":3,"heading":4,"status":"moored"}}')"
count err "embedded default announced (--json)" "$WARN" 1
run "mock:// chosen with -b" 0 "$PUB" -q -b mock://chosen "${POS[@]}"
count err "mock:// chosen with -b" "warning" 0
run "mock:// chosen with -b -r" 0 "$PUB" -b mock://chosen -r mock://chosen "${POS[@]}"
count err "mock:// chosen with -b -r" "warning" 0
run "mock:// chosen in the environment" 0 env KAFKA_BOOTSTRAP_SERVERS=mock://env "$PUB" "${POS[@]}"
count err "mock:// chosen in the environment" "warning" 0
run "mock:// chosen with -X" 0 "$PUB" -X schema.registry.url=mock://x "${POS[@]}"
count err "mock:// chosen with -X" "warning" 0
run "tail: embedded default announced before the refusal" 2 "$TAIL" -q -e position
count err "tail: embedded default announced" '^vt-tail: warning: bootstrap.servers and schema.registry.url are not configured' 1
# real brokers (none listening), registry left at its default
run "tail: registry left at the embedded default" 1 "$TAIL" -q -b 127.0.0.1:1 -t unit-nope -e
count err "tail: registry left at the embedded default" '^vt-tail: warning: schema.registry.url is not configured: using the embedded registry mock://default' 1

# ---- vt-publish flags on the embedded default ------------------------------
run "publish position" 0 "$PUB" "${POS[@]}"
lines out "publish position" 1
has out "publish position" "^$UUID_RE vessel-position-updates [0-9]+ 0$"
run "publish position --status --event-id --timestamp --correlation-id --meta" 0 \
  "$PUB" "${POS[@]}" --status moored --event-id 3f0e9a52-8c1d-4b7e-9f2a-1c2d3e4f5a6b \
  --timestamp 2026-01-10T15:30:00.000Z --correlation-id corr-1 --meta source=cli --meta k=v
has out "publish position --status ..." "^3f0e9a52-8c1d-4b7e-9f2a-1c2d3e4f5a6b vessel-position-updates "
run "publish request" 0 "$PUB" request "${SNAP[@]}" --terminal-filter 3 --priority high \
  --request-id req-12345678
has out "publish request" "^$UUID_RE prediction-requests [0-4] 0$"
run "publish result" 0 "$PUB" "${RES[@]}" --eta-hours 1.5 --ai-reasoning "close and slow"
has out "publish result" "^$UUID_RE prediction-results [0-2] 0$"
run "publish full event_type name" 0 "$PUB" vessel.position.updated "${SNAP[@]}"
run "publish -o json" 0 "$PUB" "${POS[@]}" -o json
has out "publish -o json" '^\{"event_id":"[0-9a-f-]{36}","topic":"vessel-position-updates","partition":[0-9]+,"offset":0\}$'
run "publish --output text" 0 "$PUB" "${POS[@]}" --output text
has out "publish --output text" "^$UUID_RE vessel-position-updates"
run "publish -o yaml" 2 "$PUB" "${POS[@]}" -o yaml
has err "publish -o yaml" "--output: \"yaml\" is not one of text, json"
# -q quiets stderr only: the delivery lines are data ([defects] 13)
run "publish -q" 0 "$PUB" -q "${POS[@]}"
lines out "publish -q" 1
has out "publish -q" "^$UUID_RE vessel-position-updates [0-9]+ 0$"
run "publish --quiet" 0 "$PUB" --quiet "${POS[@]}"
lines out "publish --quiet" 1
run "publish -q -o json" 0 "$PUB" -q -o json "${POS[@]}"
has out "publish -q -o json" '^\{"event_id":"[0-9a-f-]{36}","topic":"vessel-position-updates","partition":[0-9]+,"offset":0\}$'
run "publish --verbose" 0 "$PUB" --verbose "${POS[@]}"
has err "publish --verbose" "event: "
run "publish --property" 0 "$PUB" --property topic.position=unit-prop "${POS[@]}"
has out "publish --property" " unit-prop [0-9]+ 0$"
run "publish --brokers --registry" 0 "$PUB" --brokers mock://b2 --registry mock://r2 "${POS[@]}"
run "publish -v" 0 "$PUB" -v "${POS[@]}"
has err "publish -v" "event: \{\"event_type\":\"vessel.position.updated\""
run "publish -X topic.position" 0 "$PUB" -X topic.position=unit-topic "${POS[@]}"
has out "publish -X topic.position" " unit-topic [0-9]+ 0$"
run "publish -b mock -r mock" 0 "$PUB" -b mock://other -r mock://other "${POS[@]}"
has out "publish -b mock -r mock" "vessel-position-updates"

# Bad flags: exit 2, the message names the flag.
run "flag out of range" 2 "$PUB" position --vessel v --lat 91 --lon 0 --speed 1 --heading 1
has err "flag out of range" "^vt-publish: --lat: 91 is outside \[-90, 90\]"
lines out "flag out of range" 0
run "flag not a number" 2 "$PUB" position --vessel v --lat north --lon 0 --speed 1 --heading 1
has err "flag not a number" "--lat: \"north\" is not a finite number"
run "flag missing" 2 "$PUB" position --vessel v --lat 1 --speed 1 --heading 1
has err "flag missing" "--lon: missing required field"
run "flag missing vessel" 2 "$PUB" position --lat 1 --lon 1 --speed 1 --heading 1
has err "flag missing vessel" "--vessel: "
run "flag negative speed" 2 "$PUB" position --vessel v --lat 1 --lon 1 --speed -1 --heading 1
has err "flag negative speed" "--speed: "
run "flag heading 360" 2 "$PUB" position --vessel v --lat 1 --lon 1 --speed 1 --heading 360
has err "flag heading 360" "--heading: 360 is outside"
run "flag of another type" 2 "$PUB" "${POS[@]}" --priority high
has err "flag of another type" "--priority: not a flag of 'position' events"
run "flag priority" 2 "$PUB" request "${SNAP[@]}" --priority urgent
has err "flag priority" "--priority: \"urgent\" is not one of low, normal, high"
run "flag terminal-filter" 2 "$PUB" request "${SNAP[@]}" --terminal-filter 1.5
has err "flag terminal-filter" "--terminal-filter: \"1.5\" is not an integer"
run "flag confidence" 2 "$PUB" "${RES[@]}" --confidence-score 1.5
has err "flag confidence" "--confidence-score: 1.5 is outside \[0, 1\]"
run "flag rag-boost" 2 "$PUB" "${RES[@]}" --rag-boost 0.5
has err "flag rag-boost" "--rag-boost: 0.5 is outside"
run "flag ai-adjustment" 2 "$PUB" "${RES[@]}" --ai-adjustment 0.5
has err "flag ai-adjustment" "--ai-adjustment: "
run "flag proximity" 2 "$PUB" "${RES[@]}" --proximity 2
has err "flag proximity" "--proximity: "
run "flag speed-score" 2 "$PUB" "${RES[@]}" --speed-score 2
has err "flag speed-score" "--speed-score: "
run "flag heading-score" 2 "$PUB" "${RES[@]}" --heading-score -1
has err "flag heading-score" "--heading-score: "
run "flag distance-km" 2 "$PUB" "${RES[@]}" --distance-km -1
has err "flag distance-km" "--distance-km: "
run "flag eta-hours" 2 "$PUB" "${RES[@]}" --eta-hours -2
has err "flag eta-hours" "--eta-hours: "
run "flag terminal-id" 2 "$PUB" "${RES[@]}" --terminal-id x
has err "flag terminal-id" "--terminal-id: \"x\" is not an integer"
run "flag terminal-name empty" 2 "$PUB" "${RES[@]}" --terminal-name ""
has err "flag terminal-name empty" "--terminal-name: "
run "flag prediction-id empty" 2 "$PUB" "${RES[@]}" --prediction-id ""
has err "flag prediction-id empty" "--prediction-id: "
run "flag request-id empty" 2 "$PUB" "${RES[@]}" --request-id ""
has err "flag request-id empty" "--request-id: "
run "flag event-id" 2 "$PUB" "${POS[@]}" --event-id not-a-uuid
has err "flag event-id" "--event-id: "
run "flag timestamp" 2 "$PUB" "${POS[@]}" --timestamp yesterday
has err "flag timestamp" "--timestamp: "
run "flag status empty" 2 "$PUB" "${POS[@]}" --status ""
has err "flag status empty" "--status: "
run "flag correlation-id too long" 2 "$PUB" "${POS[@]}" --correlation-id "$(head -c 2000 /dev/zero | tr '\0' x)"
has err "flag correlation-id too long" "--correlation-id: "
run "flag --meta without =" 2 "$PUB" "${POS[@]}" --meta novalue
has err "flag --meta without =" "--meta novalue: expected KEY=VALUE"
run "flag ai-reasoning too long" 2 "$PUB" "${RES[@]}" --ai-reasoning "$(head -c 5000 /dev/zero | tr '\0' x)"
has err "flag ai-reasoning too long" "--ai-reasoning: "
run "no type" 2 "$PUB"
has err "no type" "give an event type"
run "bad type" 2 "$PUB" waypoint --vessel v
has err "bad type" "waypoint: not an event type"
run "flags with --json" 2 "$PUB" --json --lat 1
has err "flags with --json" "--lat: event flags cannot be combined with --json"
run "--skip-invalid without --json" 2 "$PUB" "${POS[@]}" --skip-invalid
run "-f without --json" 2 "$PUB" "${POS[@]}" -f /dev/null

# ---- vt-publish --json on the embedded default ------------------------------
P='{"event_type":"vessel.position.updated","vessel_id":"v1","data":{"lat":1.5,"lon":2,"speed":3,"heading":4,"status":"moored"}}'
R='{"event_type": "prediction.analysis.requested", "event_id": "9b2f6a0c-5d3e-4f1a-8b7c-6d5e4f3a2b1c", "timestamp": "2026-01-10T15:30:00.000Z", "vessel_id": "lng-002", "request_id": "req-00c0ffee", "data": {"vessel_snapshot": {"lat": 29.7, "lon": -95.3, "speed": 0.0, "heading": 90.0, "status": "at anchor"}, "terminal_filter": null, "priority": "normal"}, "metadata": {"correlation_id": "c-1", "source": "trigger-service", "processing_time_ms": 12.5, "retry": false, "n": 3, "none": null}}'
printf '%s\n\n%s\n' "$P" "$R" >"$TMP/good.jsonl"
run "json stdin" 0 "$PUB" --json <"$TMP/good.jsonl"
lines out "json stdin" 2
has out "json stdin" "^9b2f6a0c-5d3e-4f1a-8b7c-6d5e4f3a2b1c prediction-requests [0-4] 0$"
run "json -f" 0 "$PUB" --json -f "$TMP/good.jsonl"
lines out "json -f" 2
run "json --file -o json" 0 "$PUB" --json --file "$TMP/good.jsonl" -o json
has out "json --file -o json" '^\{"line":3,"event_id":"9b2f6a0c-5d3e-4f1a-8b7c-6d5e4f3a2b1c","topic":"prediction-requests","partition":[0-4],"offset":0\}$'
has out "json --file -o json" '^\{"line":1,'
run "json -f missing" 2 "$PUB" --json -f "$TMP/nope.jsonl"
has err "json -f missing" "nope.jsonl: No such file"

# [defects] 13: strict mode reads -f once. The shim appends a line to the
# file when the producer is created (after validation): it must not be
# published, whether valid or not.
shim_env=(env LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
APP='{"event_type":"vessel.position.updated","event_id":"0d5c9b1e-4a3f-4e2d-8c1b-7a6f5e4d3c2b","vessel_id":"late","data":{"lat":1,"lon":2,"speed":3,"heading":4,"status":"moored"}}'
printf '%s\n%s\n' "$P" "$P" >"$TMP/grow.jsonl"
run "strict -f: a valid line appended after validation" 0 "${shim_env[@]}" VT_SHIM_APPEND_FILE="$TMP/grow.jsonl" \
  VT_SHIM_APPEND_LINE="$APP" "$PUB" --json -f "$TMP/grow.jsonl"
lines out "strict -f: a valid line appended after validation" 2
hasnt out "strict -f: a valid line appended after validation" "^0d5c9b1e-4a3f-4e2d-8c1b-7a6f5e4d3c2b "
if [ "$(grep -c . "$TMP/grow.jsonl")" = 3 ]; then ok; else bad "the shim did not append to grow.jsonl"; fi
printf '%s\n%s\n' "$P" "$P" >"$TMP/grow.jsonl"
run "strict -f: an invalid line appended after validation" 0 "${shim_env[@]}" VT_SHIM_APPEND_FILE="$TMP/grow.jsonl" \
  VT_SHIM_APPEND_LINE='{"event_type":' "$PUB" --json -f "$TMP/grow.jsonl"
lines out "strict -f: an invalid line appended after validation" 2
hasnt err "strict -f: an invalid line appended after validation" "line 3"

# [defects] 13: SIGINT that lands on a library thread (here: on every thread
# but the main one and librdkafka's, which block signals) while vt-publish
# blocks reading a FIFO still ends it: exit 1 with "interrupted".
mkfifo "$TMP/fifo"
"$PUB" --json --skip-invalid <"$TMP/fifo" >"$TMP/sig.out" 2>"$TMP/sig.err" &
pid=$!
exec 7>"$TMP/fifo"
printf '%s\n' "$P" >&7
others() { # the threads of $pid other than the main thread and librdkafka's
  local t
  for t in /proc/"$pid"/task/*; do
    [ "${t##*/}" = "$pid" ] && continue
    case $(cat "$t/comm" 2>/dev/null) in rdk:*|'') ;; *) echo "${t##*/}" ;; esac
  done
}
for _ in $(seq 1 100); do [ -n "$(others)" ] && break; sleep 0.1; done
if [ -n "$(others)" ]; then ok; else bad "SIGINT on a library thread: vt-publish has no thread of its library"; fi
for tid in $(others); do kill -INT "$tid" 2>/dev/null; done
# a hang detector, not a timing assertion: the writer stays open throughout
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  bad "SIGINT on a library thread: vt-publish still blocks in its read 30 s later"
  kill -KILL "$pid" 2>/dev/null
fi
wait "$pid"
rc=$?
exec 7>&-
if [ "$rc" = 1 ]; then ok; else bad "SIGINT on a library thread: exit $rc, want 1"; sed 's/^/  stderr: /' "$TMP/sig.err" >&2; fi
if grep -q "interrupted" "$TMP/sig.err"; then ok; else bad "SIGINT on a library thread: no 'interrupted' message"; fi

# invalid lines: each kind, in strict mode nothing is published
check_bad() { # NAME LINE REGEX
  printf '%s\n%s\n%s\n' "$P" "$2" "$P" >"$TMP/bad.jsonl"
  run "json $1" 2 "$PUB" --json -f "$TMP/bad.jsonl"
  has err "json $1" "$3"
  has err "json $1" "nothing was published"
  lines out "json $1" 0
  run "json $1 (stdin)" 2 "$PUB" --json <"$TMP/bad.jsonl"
  has err "json $1 (stdin)" "$3"
  lines out "json $1 (stdin)" 0
}
check_bad "malformed" '{"event_type":"vessel.position.updated",' '^line 2: column [0-9]+: malformed JSON: '
check_bad "not an object" '[1,2]' '^line 2: expected a JSON object'
check_bad "wrong type" "${P/\"lat\":1.5/\"lat\":\"north\"}" '^line 2: data.lat: expected a number, got a string'
check_bad "missing field" "${P/\"vessel_id\":\"v1\",/}" '^line 2: vessel_id: missing required field'
check_bad "unknown field" "${P/\"vessel_id\"/\"colour\":\"red\",\"vessel_id\"}" '^line 2: colour: unknown field'
check_bad "out of range" "${P/\"lat\":1.5/\"lat\":-91}" '^line 2: data.lat: -91 is outside \[-90, 90\]'
check_bad "unknown event_type" "${P/vessel.position.updated/vessel.moved}" '^line 2: event_type: '
check_bad "bad timestamp" "${P/\"vessel_id\"/\"timestamp\":\"10/01/2026\",\"vessel_id\"}" '^line 2: timestamp: '
check_bad "bad priority" "${R/\"normal\"/\"asap\"}" '^line 2: data.priority: '

# several bad lines: every one is reported
printf '%s\n%s\n%s\n%s\n' "$P" "${P/\"lat\":1.5/\"lat\":99}" "$P" "${P/\"speed\":3/\"speed\":-3}" >"$TMP/bad2.jsonl"
run "json two bad lines" 2 "$PUB" --json -f "$TMP/bad2.jsonl"
has err "json two bad lines" "^line 2: data.lat: 99 is outside"
has err "json two bad lines" "^line 4: data.speed: "
has err "json two bad lines" "2 of 4 lines invalid: nothing was published"
lines out "json two bad lines" 0
run "json --skip-invalid" 2 "$PUB" --json --skip-invalid -f "$TMP/bad2.jsonl"
has err "json --skip-invalid" "^line 2: data.lat: 99 is outside"
has err "json --skip-invalid" "^line 4: data.speed: "
has err "json --skip-invalid" "2 invalid lines skipped"
lines out "json --skip-invalid" 2
run "json --skip-invalid all good" 0 "$PUB" --json --skip-invalid -f "$TMP/good.jsonl"
lines out "json --skip-invalid all good" 2

# ---- vt-publish --schema: JSON lines of any Avro schema -----------------------
SRC=$(cd "$(dirname "$0")" && pwd)
AVSC=$SRC/schemas/vessel_arrival.avsc
ARR=$SRC/tools/vessel_arrival.jsonl
A1=$(head -1 "$ARR")
sub() { local s=$1; printf '%s' "${s/"$2"/"$3"}"; } # sub TEXT FROM TO: the first FROM, literally
run "schema -f" 0 "$PUB" --schema "$AVSC" -t unit-arrivals -f "$ARR"
lines out "schema -f" 4
has out "schema -f" "^1 unit-arrivals [0-9]+ [0-9]+$"
has out "schema -f" "^4 unit-arrivals [0-9]+ [0-9]+$"
run "schema stdin --json -o json" 0 "$PUB" --schema "$AVSC" --topic unit-arrivals --json -o json <"$ARR"
lines out "schema stdin --json -o json" 4
has out "schema stdin --json -o json" '^\{"line":2,"topic":"unit-arrivals","partition":[0-9]+,"offset":[0-9]+\}$'
hasnt out "schema stdin --json -o json" 'event_id'
# absent members take their defaults (a fresh UUID, the time now); any order
MIN='{"hull": "AAAAAA==", "deposit": "1", "eta": "2026-01-10T18:00:00Z", "vessel_id": "v", "day": "2026-01-10", "berth": 1, "draft_m": 1, "kind": "LOCK", "data": {"lon": 0, "lat": 0}}'
run "schema absent members" 0 "$PUB" --schema "$AVSC" -t unit-arrivals <<<"$MIN"
lines out "schema absent members" 1
# a bad line: exit 2, the line and the field named, nothing published (strict)
check_schema_bad() { # NAME LINE REGEX
  printf '%s\n%s\n%s\n' "$A1" "$2" "$A1" >"$TMP/sbad.jsonl"
  run "schema $1" 2 "$PUB" --schema "$AVSC" -t unit-arrivals -f "$TMP/sbad.jsonl"
  has err "schema $1" "$3"
  has err "schema $1" "1 of 3 lines invalid: nothing was published"
  lines out "schema $1" 0
}
check_schema_bad "wrong type" "$(sub "$A1" '"lat": 29.7604' '"lat": "north"')" '^line 2: data.lat: expected a number, got a string$'
check_schema_bad "out of range" "$(sub "$A1" '"lat": 29.7604' '"lat": 91')" '^line 2: data.lat: 91 is outside \[-90, 90\]$'
check_schema_bad "int range" "$(sub "$A1" '"berth": 4' '"berth": 4294967296')" '^line 2: berth: 4294967296 is outside the int range$'
check_schema_bad "minimum" "$(sub "$A1" '"berth": 4' '"berth": 0')" '^line 2: berth: 0 is outside \[1, inf\)$'
check_schema_bad "bad date" "$(sub "$A1" '"day": "2026-01-10"' '"day": "2026-02-30"')" '^line 2: day: "2026-02-30" is not a date like 2026-01-10$'
check_schema_bad "bad time" "$(sub "$A1" '"eta": "2026-01-10T18:00:00.000001Z"' '"eta": "tomorrow"')" '^line 2: eta: "tomorrow" is not an ISO-8601 UTC time'
check_schema_bad "bad base64" "$(sub "$A1" '"hull": "3q2+7w=="' '"hull": "!!"')" '^line 2: hull: "!!" is not base64$'
check_schema_bad "fixed size" "$(sub "$A1" '"hull": "3q2+7w=="' '"hull": "AQ=="')" '^line 2: hull: expected 4 bytes, got 1$'
check_schema_bad "bad decimal" "$(sub "$A1" '"fee": "1250.00"' '"fee": "12.345"')" '^line 2: fee: "12.345" is not a decimal with at most 2 digits after the point$'
check_schema_bad "bad symbol" "$(sub "$A1" '"kind": "PORT"' '"kind": "DOCK"')" '^line 2: kind: "DOCK" is not one of PORT, ANCHORAGE, LOCK$'
check_schema_bad "bad union" "$(sub "$A1" '"tag": "priority"' '"tag": []')" '^line 2: tag: expected one of null, string, long, double, boolean, got an array$'
check_schema_bad "union branch" "$(sub "$A1" '"cargo": {"test.tools.Cargo"' '"cargo": {"long"')" '^line 2: cargo: "long" is not a type of the union \(null, test.tools.Cargo, test.tools.Kind, array\)$'
check_schema_bad "in a union branch" "$(sub "$A1" '"tons": 61250.5' '"tons": "x"')" '^line 2: cargo.test.tools.Cargo.tons: expected a number, got a string$'
check_schema_bad "map value" "$(sub "$A1" '"Atlas": 1' '"Atlas": 1.5')" '^line 2: tugs.Atlas: expected an integer, got a number$'
check_schema_bad "array item" "$(sub "$A1" '"B. Jones"' '7')" '^line 2: pilots\[1\]: expected a string, got an integer$'
check_schema_bad "bad UUID" "$(sub "$A1" '"6f1c2a3b-' '"zz1c2a3b-')" '^line 2: arrival_id: "zz1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b" is not a UUID'
check_schema_bad "empty string" "$(sub "$A1" '"vessel_id": "lng-001"' '"vessel_id": ""')" '^line 2: vessel_id: "" must not be empty$'
check_schema_bad "unknown field" "$(sub "$A1" '"note": null' '"note": null, "colour": "red"')" '^line 2: colour: unknown field$'
check_schema_bad "missing field" "$(sub "$A1" '"berth": 4, ' '')" '^line 2: berth: missing required field$'
check_schema_bad "malformed" '{"berth": ' '^line 2: column [0-9]+: malformed JSON: '
check_schema_bad "not an object" '[1]' '^line 2: expected a JSON object, got an array$'
printf '%s\n%s\n%s\n' "$A1" "$(sub "$A1" '"lat": 29.7604' '"lat": -91')" "$A1" >"$TMP/sbad.jsonl"
run "schema --skip-invalid" 2 "$PUB" --schema "$AVSC" -t unit-arrivals --skip-invalid -f "$TMP/sbad.jsonl"
has err "schema --skip-invalid" '^line 2: data.lat: -91 is outside \[-90, 90\]$'
has err "schema --skip-invalid" "1 invalid lines skipped"
lines out "schema --skip-invalid" 2
has out "schema --skip-invalid" "^3 unit-arrivals "
# usage
run "schema without -t" 2 "$PUB" --schema "$AVSC" -f "$ARR"
has err "schema without -t" "--schema: give the topic with -t TOPIC"
run "-t without --schema" 2 "$PUB" -t unit-arrivals --json -f "$ARR"
has err "-t without --schema" "-t: only with --schema"
run "schema missing file" 2 "$PUB" --schema "$TMP/nope.avsc" -t unit-arrivals -f "$ARR"
has err "schema missing file" "--schema $TMP/nope.avsc: No such file"
printf '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "string", "vt.min": 1}]}' >"$TMP/bad.avsc"
run "schema with a bad constraint" 2 "$PUB" --schema "$TMP/bad.avsc" -t unit-arrivals -f "$ARR"
has err "schema with a bad constraint" "--schema $TMP/bad.avsc: a: constraint vt.min applies to numbers, not to string"
printf '{"type": "record", "name": "R"' >"$TMP/bad.avsc"
run "schema not JSON" 2 "$PUB" --schema "$TMP/bad.avsc" -t unit-arrivals -f "$ARR"
has err "schema not JSON" "--schema $TMP/bad.avsc: the schema: invalid JSON"
run "schema with event flags" 2 "$PUB" --schema "$AVSC" -t unit-arrivals --lat 1
has err "schema with event flags" "--lat: event flags cannot be combined with --json"
run "schema with an event type" 2 "$PUB" --schema "$AVSC" -t unit-arrivals position
has err "schema with an event type" "position: unexpected argument"

# ---- configuration sources -------------------------------------------------
printf 'topic.position = from-file\n# comment\n' >"$TMP/vt.conf"
run "-F file" 0 "$PUB" -F "$TMP/vt.conf" "${POS[@]}"
has out "-F file" " from-file [0-9]+ 0$"
run "--config file, -X wins" 0 "$PUB" --config "$TMP/vt.conf" -X topic.position=from-x "${POS[@]}"
has out "--config file, -X wins" " from-x [0-9]+ 0$"
run "VTEV_CONFIG" 0 env VTEV_CONFIG="$TMP/vt.conf" "$PUB" "${POS[@]}"
has out "VTEV_CONFIG" " from-file [0-9]+ 0$"
mkdir -p "$HOME/.config"
printf 'topic.position=from-home\n' >"$HOME/.config/vtevents.conf"
run "~/.config/vtevents.conf" 0 "$PUB" "${POS[@]}"
has out "~/.config/vtevents.conf" " from-home [0-9]+ 0$"
run "env wins over file" 0 env VTEV_TOPIC_POSITION=from-env "$PUB" "${POS[@]}"
has out "env wins over file" " from-env [0-9]+ 0$"
rm -f "$HOME/.config/vtevents.conf"
run "-F missing" 2 "$PUB" -F "$TMP/missing.conf" "${POS[@]}"
has err "-F missing" "missing.conf"
printf 'no.such.key=1\n' >"$TMP/badkey.conf"
run "-F unknown key" 2 "$PUB" -F "$TMP/badkey.conf" "${POS[@]}"
has err "-F unknown key" "badkey.conf:1: no.such.key"
run "bad env" 2 env VTEV_LOG_LEVEL=loud "$PUB" "${POS[@]}"
has err "bad env" "environment: VTEV_LOG_LEVEL"

# ---- vt-tail and vt-topics usage ---------------------------------------------
run "tail mock bootstrap" 2 "$TAIL" -e position
has err "tail mock bootstrap" "embedded mock cluster exists only inside one process"
run "tail bad type" 2 "$TAIL" waypoint
has err "tail bad type" "waypoint: not an event type"
run "tail bad -o" 2 "$TAIL" -o middle position
has err "tail bad -o" "-o: \"middle\" is not beginning, end or an offset"
run "tail bad -c" 2 "$TAIL" -c 0 position
has err "tail bad -c" "-c: \"0\" is not a positive integer"
run "tail -g with numeric -o" 2 "$TAIL" -g grp -o 5 position
has err "tail -g with numeric -o" "with -g only beginning or end"
run "topics no command" 2 "$TOPICS"
has err "topics no command" "give a command"
run "topics bad command" 2 "$TOPICS" destroy
has err "topics bad command" "destroy: unknown command"
run "topics lag without -g" 2 "$TOPICS" lag
has err "topics lag without -g" "lag: -g GROUP is required"
run "topics describe without topic" 2 "$TOPICS" describe
run "topics bad --replication" 2 "$TOPICS" create --replication 0
has err "topics bad --replication" "--replication: "
run "topics --replication with list" 2 "$TOPICS" list -R 1
run "topics bad --timeout" 2 "$TOPICS" list --timeout x

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
