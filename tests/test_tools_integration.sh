#!/usr/bin/env bash
# Integration tests of vt-publish, vt-tail and vt-topics against the real
# Kafka broker and schema registry of scripts/stack.sh
# (KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL, from .stack/env), with
# Python ($VTEV_PYTHON) generating random events and checking JSON.
# Every run uses its own topic names (-X topic.*=...), so reruns on a live
# stack are independent.
#
# usage: test_tools_integration.sh VT_PUBLISH VT_TAIL VT_TOPICS HELPER_PY
set -u
PUB=$1 TAIL=$2 TOPICS=$3 HELPER=$4

need() {
  if [ -z "${!1:-}" ]; then
    if [ "${VTEV_ALLOW_SKIP:-}" = 1 ]; then echo "$1 is not set: skipped"; exit 77; fi
    echo "$1 is not set: start the stack with ./run stack up (or set VTEV_ALLOW_SKIP=1)" >&2
    exit 1
  fi
}
need KAFKA_BOOTSTRAP_SERVERS
need SCHEMA_REGISTRY_URL
need VTEV_PYTHON
PY=$VTEV_PYTHON
BS=$KAFKA_BOOTSTRAP_SERVERS REG=$SCHEMA_REGISTRY_URL
unset VTEV_CONFIG
TMP=$(mktemp -d)
BG=()
cleanup() {
  local p
  for p in "${BG[@]+"${BG[@]}"}"; do kill "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
export HOME=$TMP/home
mkdir -p "$HOME"

fails=0 checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }
run() {
  local name=$1 want=$2 rc
  shift 2
  # a command that hangs fails the check (exit 124) instead of the suite
  timeout -k 5 120 "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  if [ "$rc" = "$want" ]; then ok; else
    bad "$name: exit $rc, want $want"; sed 's/^/  stderr: /' "$TMP/err" | head -20 >&2; sed 's/^/  stdout: /' "$TMP/out" | head -20 >&2
  fi
}
has() {
  if grep -Eq -- "$3" "$TMP/$1"; then ok; else
    bad "$2: $1 does not match /$3/"; sed "s/^/  $1: /" "$TMP/$1" | head -20 >&2
  fi
}
hasnt() {
  if grep -Eq -- "$3" "$TMP/$1"; then bad "$2: $1 matches /$3/"; sed "s/^/  $1: /" "$TMP/$1" | head -20 >&2; else ok; fi
}
lines() {
  local n
  n=$(grep -c . "$TMP/$1")
  if [ "$n" = "$3" ]; then ok; else bad "$2: $1 has $n lines, want $3"; sed "s/^/  $1: /" "$TMP/$1" | head -20 >&2; fi
}
eq() { if [ "$3" = "$4" ]; then ok; else bad "$1: got '$3', want '$4' ($2)"; fi; }
pyok() { # NAME ARGS...
  local name=$1
  shift
  if "$PY" "$HELPER" "$@" 2>"$TMP/pyerr"; then ok; else bad "$name: $(cat "$TMP/pyerr")"; fi
}

P=vt-it-$(date +%s)-$$
X=(-X "topic.position=$P.pos" -X "topic.request=$P.req" -X "topic.result=$P.res")
TYPES=(position request result)
SNAP=(--vessel lng-001 --lat 29.7604 --lon -95.3698 --speed 12.5 --heading 275)

# ---- vt-topics create / list / describe --------------------------------------
run "topics create" 0 "$TOPICS" "${X[@]}" create --replication 1
lines out "topics create" 6
has out "topics create" "^created $P.pos$"
has out "topics create" "^created $P.req.dlq$"
run "topics create again (idempotent)" 0 "$TOPICS" "${X[@]}" create -R 1
has out "topics create again" "^exists $P.pos$"
lines out "topics create again" 6
hasnt out "topics create again" "^(created|differs|failed) "
run "topics create (broker's replication)" 0 "$TOPICS" "${X[@]}" create
has out "topics create (broker's replication)" "^exists $P.res.dlq$"
run "topics list" 0 "$TOPICS" list
has out "topics list" "^$P.pos$"
has out "topics list" "^$P.res.dlq$"
hasnt out "topics list" "^__consumer_offsets$"
run "topics describe" 0 "$TOPICS" describe "$P.req"
has out "topics describe" "^topic $P.req$"
has out "topics describe" "^partitions 5$"
has out "topics describe" "^retention.ms 86400000$"
has out "topics describe" "^compression.type gzip$"
has out "topics describe" "^partition 4 leader [0-9]+ replicas 1 isr 1$"
run "topics describe dlq" 0 "$TOPICS" describe "$P.pos.dlq"
has out "topics describe dlq" "^partitions 1$"
has out "topics describe dlq" "^retention.ms 1209600000$"
run "topics describe missing" 1 "$TOPICS" describe "$P.nope"
has err "topics describe missing" "$P.nope: no such topic"
run "topics --timeout" 0 "$TOPICS" --timeout 20000 list
# a topic that exists with other settings is reported, not changed
run "publish auto-creates odd topic" 0 "$PUB" -X "topic.position=$P.odd" position "${SNAP[@]}"
run "topics create differs" 0 "$TOPICS" -X "topic.position=$P.odd" -X "topic.request=$P.req" \
  -X "topic.result=$P.res" create
has out "topics create differs" "^differs $P.odd .*partitions 1 \(want 3\)"
has err "topics create differs" "$P.odd exists with other settings, left unchanged"
has out "topics create differs" "^created $P.odd.dlq$"
run "topics describe unchanged" 0 "$TOPICS" describe "$P.odd"
has out "topics describe unchanged" "^partitions 1$"

# ---- round trip: N random events -> vt-publish --json -> vt-tail --events-only
N=300
"$PY" "$HELPER" gen "$N" "$$" >"$TMP/events.jsonl"
run "publish --json N events" 0 "$PUB" "${X[@]}" --json -f "$TMP/events.jsonl"
lines out "publish --json N events" "$N"
has out "publish --json N events" "^[0-9a-f-]{36} $P\.(pos|req|res) [0-9]+ [0-9]+$"
run "tail --events-only -e" 0 "$TAIL" "${X[@]}" --events-only -e -o beginning "${TYPES[@]}"
cp "$TMP/out" "$TMP/back.jsonl"
lines out "tail --events-only -e" "$N"
pyok "round trip identical" same "$TMP/events.jsonl" "$TMP/back.jsonl"
# the event ids printed by vt-publish are the events' ids
"$PY" "$HELPER" field "$TMP/events.jsonl" event_id | sort >"$TMP/ids.in"
run "publish empty input" 0 "$PUB" "${X[@]}" --json -f /dev/null
lines out "publish empty input" 0
# second hop: what vt-tail printed republishes unchanged
run "republish tail output" 0 "$PUB" -X "topic.position=$P.rt" -X "topic.request=$P.rt" \
  -X "topic.result=$P.rt" --json -o json <"$TMP/back.jsonl"
lines out "republish tail output" "$N"
"$PY" "$HELPER" field "$TMP/out" event_id | sort >"$TMP/ids.out"
if cmp -s "$TMP/ids.in" "$TMP/ids.out"; then ok; else bad "publish -o json event ids differ from the input's"; fi
run "tail --topic mixed types" 0 "$TAIL" -t "$P.rt" --events-only -e -o beginning
lines out "tail --topic mixed types" "$N"
pyok "second hop identical" same "$TMP/events.jsonl" "$TMP/out"

# ---- vt-tail output, offsets, count, pretty --------------------------------------
run "tail full" 0 "$TAIL" "${X[@]}" -e -o beginning "${TYPES[@]}"
pyok "tail envelope fields" check-tail "$TMP/out" "$N"
run "tail default types" 0 "$TAIL" "${X[@]}" -e -o beginning
lines out "tail default types" "$N"
run "tail full event_type name" 0 "$TAIL" "${X[@]}" -e -o beginning vessel.position.updated
has out "tail full event_type name" "\"topic\": \"$P.pos\""
hasnt out "tail full event_type name" "\"topic\": \"$P.re[qs]\""
run "tail -c" 0 "$TAIL" "${X[@]}" -c 7 -o beginning "${TYPES[@]}"
lines out "tail -c" 7
run "tail --count" 0 "$TAIL" "${X[@]}" --count 3 --offset beginning --exit position
lines out "tail --count" 3
run "tail --pretty" 0 "$TAIL" "${X[@]}" --pretty -c 2 -o beginning request
has out "tail --pretty" '^  "event": \{$'
has out "tail --pretty" '^    "event_type": "prediction.analysis.requested",$'
eq "tail --pretty values" "" "$("$PY" "$HELPER" pretty-count "$TMP/out")" 2
run "tail --pretty --events-only" 0 "$TAIL" "${X[@]}" --pretty --events-only -c 2 -o beginning result
has out "tail --pretty --events-only" '^  "event_type": "prediction.analysis.completed",$'
eq "tail --pretty --events-only values" "" "$("$PY" "$HELPER" pretty-count "$TMP/out")" 2
# offsets on the one-partition topic $P.odd (publish 4 more: offsets 0..4)
for i in 1 2 3 4; do "$PUB" -q -X "topic.position=$P.odd" position "${SNAP[@]}" --meta i=$i >/dev/null || bad "publish odd $i"; done
run "tail -o end -e" 0 "$TAIL" -t "$P.odd" -o end -e
lines out "tail -o end -e" 0
run "tail -o 3" 0 "$TAIL" -t "$P.odd" -o 3 -e
lines out "tail -o 3" 2
has out "tail -o 3" '"offset": 3,'
run "tail -o -1" 0 "$TAIL" -t "$P.odd" -o -1 -e
lines out "tail -o -1" 1
has out "tail -o -1" '"offset": 4,'
has out "tail -o -1" '"i": "4"'
run "tail default offset is end" 0 "$TAIL" -t "$P.odd" -e
lines out "tail default offset is end" 0
run "tail --topic" 0 "$TAIL" --topic "$P.odd" --offset 4 --exit
lines out "tail --topic" 1
run "tail unknown topic" 1 "$TAIL" -t "$P.nope" -e
has err "tail unknown topic" "$P.nope"

# ---- consumer group: commits, lag ---------------------------------------------
G=$P-grp
run "lag before" 0 "$TOPICS" lag -g "$G" "$P.odd"
has out "lag before" "^$P.odd +0 +- +0 +5 +5$"
run "tail -g" 0 "$TAIL" -t "$P.odd" -g "$G" -e
lines out "tail -g" 5
run "lag after" 0 "$TOPICS" lag --group "$G" "$P.odd"
has out "lag after" "^$P.odd +0 +5 +0 +5 +0$"
has out "lag after" "^total lag 0$"
run "tail -g again: nothing new" 0 "$TAIL" -t "$P.odd" --group "$G" -e
lines out "tail -g again" 0
"$PUB" -q -X "topic.position=$P.odd" position "${SNAP[@]}" >/dev/null || bad "publish odd 5"
run "lag one new" 0 "$TOPICS" lag -g "$G" "$P.odd"
has out "lag one new" "^total lag 1$"
run "tail -g -c 1" 0 "$TAIL" -t "$P.odd" -g "$G" -c 1
has out "tail -g -c 1" '"offset": 5,'
run "lag zero again" 0 "$TOPICS" lag -g "$G" "$P.odd"
has out "lag zero again" "^total lag 0$"
run "tail -g -o end (new group)" 0 "$TAIL" -t "$P.odd" -g "$G-end" -o end -e
lines out "tail -g -o end" 0
run "tail -g -o beginning (new group)" 0 "$TAIL" -t "$P.odd" -g "$G-beg" -o beginning -e
lines out "tail -g -o beginning" 6
run "lag of the event topics (default topics)" 0 "$TOPICS" "${X[@]}" lag -g "$G-none"
has out "lag of the event topics" "^$P.req +4 +- "
run "lag unknown topic" 1 "$TOPICS" lag -g "$G" "$P.nope"
# SIGINT stops a group tail cleanly and commits
"$TAIL" -t "$P.odd" -g "$G-sig" -o beginning >"$TMP/sig.out" 2>"$TMP/sig.err" &
pid=$!
BG+=("$pid")
for _ in $(seq 1 100); do [ "$(grep -c . "$TMP/sig.out")" -ge 6 ] && break; sleep 0.2; done
kill -INT "$pid"
wait "$pid"
eq "tail SIGINT exit" "" "$?" 0
eq "tail SIGINT printed" "" "$(grep -c . "$TMP/sig.out")" 6
run "lag after SIGINT" 0 "$TOPICS" lag -g "$G-sig" "$P.odd"
has out "lag after SIGINT" "^total lag 0$"
# SIGTERM on a tail without a group
"$TAIL" -t "$P.odd" -o beginning >"$TMP/sig.out" 2>"$TMP/sig.err" &
pid=$!
BG+=("$pid")
for _ in $(seq 1 100); do [ "$(grep -c . "$TMP/sig.out")" -ge 6 ] && break; sleep 0.2; done
kill -TERM "$pid"
wait "$pid"
eq "tail SIGTERM exit" "" "$?" 0

# [defects] 9: an offset is committed only once its line was written. stdout
# that cannot be written (/dev/full): exit 1, nothing committed.
timeout -k 5 120 "$TAIL" -t "$P.odd" -g "$G-full" -o beginning -e >/dev/full 2>"$TMP/err"
rc=$?
eq "tail -g >/dev/full: exit" "$(head -5 "$TMP/err")" "$rc" 1
has err "tail -g >/dev/full" "cannot write to standard output: No space left on device"
run "lag after /dev/full: nothing committed" 0 "$TOPICS" lag -g "$G-full" "$P.odd"
has out "lag after /dev/full: nothing committed" "^$P.odd +0 +- +0 +6 +6$"
# `vt-tail -g G | head -1` ends (exit 1) at the first line it cannot write,
# after committing what was written: at least the line head read, never the
# line that failed.
( "$TAIL" -t "$P.odd" -g "$G-head" -o beginning 2>"$TMP/head.err" &
  echo $! >"$TMP/head.pid"; wait $!; echo $? >"$TMP/head.rc" ) | head -1 >"$TMP/head.out" &
for _ in $(seq 1 150); do [ -s "$TMP/head.out" ] && break; sleep 0.2; done
has head.out "tail -g | head -1" '"offset": 0,'
sleep 0.5 # head has exited
"$PUB" -q -X "topic.position=$P.odd" position "${SNAP[@]}" >/dev/null || bad "publish odd 7"
for _ in $(seq 1 300); do [ -s "$TMP/head.rc" ] && break; sleep 0.2; done
if [ ! -s "$TMP/head.rc" ]; then
  bad "tail -g | head -1: vt-tail still runs 60 s after its reader exited"
  kill "$(cat "$TMP/head.pid")" 2>/dev/null
  sleep 1
fi
eq "tail -g | head -1: exit" "$(head -5 "$TMP/head.err")" "$(cat "$TMP/head.rc" 2>/dev/null)" 1
run "lag after head -1" 0 "$TOPICS" lag -g "$G-head" "$P.odd"
committed=$(awk -v t="$P.odd" '$1 == t { print $3 }' "$TMP/out")
if [ -n "$committed" ] && [ "$committed" != - ] && [ "$committed" -ge 1 ] && [ "$committed" -le 6 ]; then ok; else
  bad "tail -g | head -1: committed '$committed', want 1..6 (the 7th line was never written)"; sed 's/^/  out: /' "$TMP/out" >&2
fi

# [defects] 8: the envelope is built as JSON: a header named "event" (null
# value) stays a header, the event stays the event.
n=$("$PY" "$HELPER" copy-hdr "$BS" "$P.odd" "$P.hdr" event) || bad "copy-hdr"
eq "copy-hdr copied" "" "$n" 7
run "tail header named event" 0 "$TAIL" -t "$P.hdr" -o beginning -e
lines out "tail header named event" 7
pyok "tail header named event: envelope" check-tail "$TMP/out" 7
if "$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o["event"], dict) and o["event"]["event_type"] == "vessel.position.updated", o
    assert "event" in o["headers"] and o["headers"]["event"] is None, o["headers"]
' "$TMP/out" 2>"$TMP/pyerr"; then ok; else bad "tail header named event: $(cat "$TMP/pyerr")"; fi
run "tail header named event --pretty" 0 "$TAIL" -t "$P.hdr" -o beginning -e --pretty
eq "tail header named event --pretty values" "" "$("$PY" "$HELPER" pretty-count "$TMP/out")" 7
has out "tail header named event --pretty" '^    "event": null$'
has out "tail header named event --pretty" '^  "event": \{$'

# ---- undecodable messages ---------------------------------------------------
run "create bad topic" 0 "$TOPICS" -X "topic.position=$P.bad" -X "topic.request=$P.req" -X "topic.result=$P.res" create
"$PY" "$HELPER" raw "$BS" "$P.bad" 6e6f742066726d6564 k1 || bad "raw produce 1"
"$PY" "$HELPER" raw "$BS" "$P.bad" 00000f4240deadbeef k2 || bad "raw produce 2"
"$PUB" -q -X "topic.position=$P.bad" position "${SNAP[@]}" >/dev/null || bad "publish good after bad"
run "tail undecodable" 0 "$TAIL" -X "topic.position=$P.bad" -o beginning -e position
lines out "tail undecodable" 3
has out "tail undecodable" '^\{"error": "BAD_MAGIC", "reason": "[^"]+", "topic": "'"$P"'.bad", "partition": [0-9]+, "offset": [0-9]+\}$'
has out "tail undecodable" '^\{"error": "REGISTRY_SCHEMA_NOT_FOUND", "reason": "[^"]+", "topic"'
has out "tail undecodable" '"event": \{"event_id"'
has err "tail undecodable" "2 messages could not be decoded"
run "tail undecodable --events-only" 0 "$TAIL" -t "$P.bad" -o beginning -e --events-only
has out "tail undecodable --events-only" '^\{"error": "'
has out "tail undecodable --events-only" '^\{"event_id"'

# ---- invalid input: exit 2, the line and field named, nothing published ---------
I=(-X "topic.position=$P.inv" -X "topic.request=$P.inv" -X "topic.result=$P.inv")
run "create inv topics" 0 "$TOPICS" "${I[@]}" create
lines out "create inv topics (one topic for three types)" 2
GOOD=$(head -1 "$TMP/events.jsonl")
POSL='{"event_type":"vessel.position.updated","vessel_id":"v1","data":{"lat":1.5,"lon":2,"speed":3,"heading":4,"status":"moored"}}'
check_bad() { # NAME LINE REGEX
  printf '%s\n%s\n%s\n' "$GOOD" "$2" "$POSL" >"$TMP/bad.jsonl"
  run "invalid $1" 2 "$PUB" "${I[@]}" --json <"$TMP/bad.jsonl"
  has err "invalid $1" "$3"
  lines out "invalid $1" 0
}
check_bad "malformed JSON" '{"event_type": "vessel.position.updated", "data": {' '^line 2: column [0-9]+: malformed JSON'
check_bad "wrong type" "${POSL/\"speed\":3/\"speed\":\"fast\"}" '^line 2: data.speed: expected a number'
check_bad "missing field" "${POSL/\"lat\":1.5,/}" '^line 2: data.lat: missing required field'
check_bad "unknown field" "${POSL/\"data\"/\"extra\":1,\"data\"}" '^line 2: extra: unknown field'
check_bad "out of range" "${POSL/\"heading\":4/\"heading\":360}" '^line 2: data.heading: 360 is outside'
check_bad "bad event_type" "${POSL/vessel.position.updated/vessel.sunk}" '^line 2: event_type: '
run "invalid flag" 2 "$PUB" "${I[@]}" position --vessel v --lat 1 --lon 181 --speed 1 --heading 1
has err "invalid flag" "--lon: 181 is outside \[-180, 180\]"
run "invalid flag value" 2 "$PUB" "${I[@]}" request "${SNAP[@]}" --terminal-filter ten
has err "invalid flag value" "--terminal-filter: "
run "unknown flag" 2 "$PUB" "${I[@]}" position "${SNAP[@]}" --colour red
has err "unknown flag" "--colour: unknown option"
run "nothing on the topic" 0 "$TAIL" -t "$P.inv" -o beginning -e
lines out "nothing on the topic" 0
# --skip-invalid publishes the good lines before and after the bad one
printf '%s\n%s\n%s\n' "$POSL" "${POSL/\"lat\":1.5/\"lat\":100}" "$POSL" >"$TMP/bad.jsonl"
run "--skip-invalid" 2 "$PUB" "${I[@]}" --json --skip-invalid <"$TMP/bad.jsonl"
has err "--skip-invalid" "^line 2: data.lat: 100 is outside"
has err "--skip-invalid" "1 invalid lines skipped"
lines out "--skip-invalid" 2
run "two on the topic" 0 "$TAIL" -t "$P.inv" -o beginning -e
lines out "two on the topic" 2

# ---- flags: every event type, every flag, on the real stack ------------------------
run "publish position flags" 0 "$PUB" "${X[@]}" position "${SNAP[@]}" --status moored \
  --correlation-id corr-42 --meta source=it --meta note=x \
  --event-id 6a1c5b0e-7d2f-4e3a-9b8c-0d1e2f3a4b5c --timestamp 2026-01-10T15:30:00.000Z
has out "publish position flags" "^6a1c5b0e-7d2f-4e3a-9b8c-0d1e2f3a4b5c $P.pos [0-9]+ [0-9]+$"
run "publish request flags" 0 "$PUB" "${X[@]}" request "${SNAP[@]}" --terminal-filter 12 \
  --priority high --request-id req-1234abcd --event-id 7b2d6c1f-8e3a-4f4b-8c9d-1e2f3a4b5c6d -o json
has out "publish request flags" "\"event_id\":\"7b2d6c1f-8e3a-4f4b-8c9d-1e2f3a4b5c6d\",\"topic\":\"$P.req\""
run "publish result flags" 0 "$PUB" "${X[@]}" result "${SNAP[@]}" --request-id req-1234abcd \
  --prediction-id pred-9 --terminal-id 12 --terminal-name "Sabine Pass" --confidence-score 0.87 \
  --proximity 0.9 --speed-score 0.8 --heading-score 0.7 --rag-boost 0.2 --ai-adjustment -0.1 \
  --distance-km 42.5 --eta-hours 3.5 --ai-reasoning "closest terminal" \
  --event-id 8c3e7d2a-9f4b-4a5c-9d0e-2f3a4b5c6d7e
run "tail the three" 0 "$TAIL" "${X[@]}" --events-only -o -1 -e position request result
has out "tail flags position" '"event_id": "6a1c5b0e-7d2f-4e3a-9b8c-0d1e2f3a4b5c".*"timestamp": "2026-01-10T15:30:00.000(000)?Z".*"status": "moored".*"metadata": \{"correlation_id": "corr-42", "source": "it", "note": "x"\}'
has out "tail flags request" '"request_id": "req-1234abcd".*"terminal_filter": 12, "priority": "high"'
has out "tail flags result" '"prediction_id": "pred-9", "terminal_id": 12, "terminal_name": "Sabine Pass", "confidence_score": 0.87, "scores": \{"proximity": 0.9, "speed": 0.8, "heading": 0.7, "rag_boost": 0.2, "ai_adjustment": -0.1\}, "distance_km": 42.5, "eta_hours": 3.5, "ai_reasoning": "closest terminal"'
run "tail correlation header" 0 "$TAIL" "${X[@]}" -o -1 -e position
has out "tail correlation header" '"correlation_id": "corr-42"'

# ---- common options on the real stack ----------------------------------------------
run "-b -r without env" 0 env -u KAFKA_BOOTSTRAP_SERVERS -u SCHEMA_REGISTRY_URL \
  "$PUB" -b "$BS" -r "$REG" "${X[@]}" position "${SNAP[@]}"
has out "-b -r" " $P.pos "
run "--brokers --registry (tail)" 0 env -u KAFKA_BOOTSTRAP_SERVERS -u SCHEMA_REGISTRY_URL \
  "$TAIL" --brokers "$BS" --registry "$REG" "${X[@]}" -o -1 -e position
lines out "--brokers --registry (tail)" 3  # -o -1: the last message of each of the 3 partitions
run "-b (topics)" 0 env -u KAFKA_BOOTSTRAP_SERVERS "$TOPICS" -b "$BS" describe "$P.pos"
printf 'bootstrap.servers=%s\nschema.registry.url=%s\ntopic.position=%s\n' "$BS" "$REG" "$P.pos" >"$TMP/vt.conf"
run "-F file (publish)" 0 env -u KAFKA_BOOTSTRAP_SERVERS -u SCHEMA_REGISTRY_URL "$PUB" -F "$TMP/vt.conf" position "${SNAP[@]}"
has out "-F file (publish)" " $P.pos "
run "-F file (tail)" 0 env -u KAFKA_BOOTSTRAP_SERVERS -u SCHEMA_REGISTRY_URL "$TAIL" -F "$TMP/vt.conf" -o -1 -e position
lines out "-F file (tail)" 3  # -o -1: the last message of each of the 3 partitions
run "VTEV_CONFIG (topics)" 0 env -u KAFKA_BOOTSTRAP_SERVERS VTEV_CONFIG="$TMP/vt.conf" "$TOPICS" describe "$P.pos"
mkdir -p "$HOME/.config" && cp "$TMP/vt.conf" "$HOME/.config/vtevents.conf"
run "~/.config/vtevents.conf (tail)" 0 env -u KAFKA_BOOTSTRAP_SERVERS -u SCHEMA_REGISTRY_URL "$TAIL" -o -1 -e position
lines out "~/.config/vtevents.conf (tail)" 3  # -o -1: the last message of each of the 3 partitions
rm -f "$HOME/.config/vtevents.conf"
run "-X kafka.* (tail)" 0 "$TAIL" -X kafka.fetch.wait.max.ms=50 "${X[@]}" -o -1 -e position
lines out "-X kafka.* (tail)" 3  # -o -1: the last message of each of the 3 partitions
run "-q (publish)" 0 "$PUB" -q "${X[@]}" position "${SNAP[@]}"
lines out "-q (publish): the delivery line is data" 1
lines err "-q (publish): nothing on stderr" 0
run "-v (tail)" 0 "$TAIL" -v "${X[@]}" -o -1 -e position
has err "-v (tail)" "^vt-tail: 3 messages$"
run "-q (tail)" 0 "$TAIL" -q "${X[@]}" -o -1 -e position
lines err "-q (tail)" 0
run "-v (topics)" 0 "$TOPICS" -v list
run "-q (topics)" 0 "$TOPICS" -q list

# ---- any schema: vt-publish --schema -> vt-tail -t, in doc/codegen.md's JSON form ----
SRC=$(cd "$(dirname "$0")" && pwd)
AVSC=$SRC/schemas/vessel_arrival.avsc
ARR=$SRC/tools/vessel_arrival.jsonl
NA=$(grep -c . "$ARR")
same_file() { # NAME EXPECTED ACTUAL
  if cmp -s "$2" "$3"; then ok; else bad "$1: the JSON differs"; diff "$2" "$3" | head -10 >&2; fi
}
run "schema publish" 0 "$PUB" --schema "$AVSC" -t "$P.arr" -f "$ARR"
lines out "schema publish" "$NA"
has out "schema publish" "^1 $P\.arr 0 0$"
run "schema tail --events-only" 0 "$TAIL" -t "$P.arr" --events-only -e -o beginning
same_file "schema round trip" "$ARR" "$TMP/out"
# the schema is registered under the topic's subject; the envelope names its id
curl -sf "$REG/subjects/$P.arr-value/versions/latest" >"$TMP/subject.json" || bad "schema subject $P.arr-value not in the registry"
run "schema tail envelope" 0 "$TAIL" -t "$P.arr" -e -o beginning
if "$PY" -c '
import json, re, sys
want = int(json.load(open(sys.argv[1]))["id"])
events = [json.loads(l) for l in open(sys.argv[2])]
got = [json.loads(l) for l in open(sys.argv[3])]
assert len(got) == len(events), (len(got), len(events))
for i, (o, e) in enumerate(zip(got, events)):
    assert list(o) == ["topic", "partition", "offset", "key", "timestamp", "headers", "schema_id", "event"], list(o)
    assert o["topic"] == sys.argv[4] and o["offset"] == i and o["key"] is None, o
    # the only header: the trace context every publish sets (a new trace each)
    assert list(o["headers"]) == ["traceparent"], o["headers"]
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", o["headers"]["traceparent"]), o["headers"]
    assert o["schema_id"] == want, (o["schema_id"], want)
    assert o["event"] == e, (o["event"], e)
' "$TMP/subject.json" "$ARR" "$TMP/out" "$P.arr" 2>"$TMP/pyerr"; then ok; else bad "schema tail envelope: $(cat "$TMP/pyerr")"; fi
run "schema tail --pretty" 0 "$TAIL" -t "$P.arr" --pretty --events-only -c 1 -o beginning
has out "schema tail --pretty" '^  "arrival_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",$'
has out "schema tail --pretty" '^    "test.tools.Cargo": \{$'
eq "schema tail --pretty values" "" "$("$PY" "$HELPER" pretty-count "$TMP/out")" 1
# a second hop: what vt-tail printed republishes unchanged
"$TAIL" -t "$P.arr" --events-only -e -o beginning >"$TMP/arr.back" 2>"$TMP/err" || bad "schema tail (hop 1)"
run "schema republish" 0 "$PUB" --schema "$AVSC" -t "$P.arr2" -f "$TMP/arr.back"
run "schema tail (hop 2)" 0 "$TAIL" -t "$P.arr2" --events-only -e -o beginning
same_file "schema second hop" "$ARR" "$TMP/out"
# members in another order, absent ones with defaults, an offset: printed in the schema's form
printf '%s\n' '{"hull": "AAAAAA==", "deposit": "1", "eta": "2026-01-10T18:00:00Z", "vessel_id": "v", "day": "2026-01-10", "berth": 1, "draft_m": 1, "kind": "LOCK", "data": {"lon": 0, "lat": 0}, "recorded": "2026-01-10T15:30:00+01:00", "arrival_id": "0d5c9b1e-4a3f-4e2d-8c1b-7a6f5e4d3c2b"}' >"$TMP/arr.in"
printf '%s\n' '{"arrival_id": "0d5c9b1e-4a3f-4e2d-8c1b-7a6f5e4d3c2b", "recorded": "2026-01-10T14:30:00.000Z", "eta": "2026-01-10T18:00:00.000Z", "day": "2026-01-10", "vessel_id": "v", "berth": 1, "draft_m": 1.0, "data": {"lat": 0.0, "lon": 0.0}, "kind": "LOCK", "pilots": [], "tugs": {}, "cargo": null, "tag": null, "fee": "0.01", "deposit": "1.000", "hull": "AAAAAA==", "photo": "", "note": null}' >"$TMP/arr.want"
run "schema publish short form" 0 "$PUB" --schema "$AVSC" -t "$P.arr3" -f "$TMP/arr.in"
run "schema tail short form" 0 "$TAIL" -t "$P.arr3" --events-only -e -o beginning
same_file "schema short form" "$TMP/arr.want" "$TMP/out"
# a bad line on the real stack: exit 2, line and field named, nothing published
{ head -1 "$ARR"; head -1 "$ARR" | sed 's/"berth": 4,/"berth": "four",/'; } >"$TMP/arr.bad"
run "schema bad line" 2 "$PUB" --schema "$AVSC" -t "$P.arr3" -f "$TMP/arr.bad"
has err "schema bad line" '^line 2: berth: expected an integer, got a string$'
lines out "schema bad line" 0
run "schema nothing more on the topic" 0 "$TAIL" -t "$P.arr3" --events-only -e -o beginning
lines out "schema nothing more on the topic" 1
# one topic, platform events and others: each in its own form, the platform's envelope unchanged
run "mix: a position" 0 "$PUB" -X "topic.position=$P.mix" position "${SNAP[@]}"
run "mix: arrivals" 0 "$PUB" --schema "$AVSC" -t "$P.mix" -f "$ARR"
run "mix: tail" 0 "$TAIL" -t "$P.mix" -e -o beginning
lines out "mix: tail" $((NA + 1))
pyok "mix: tail envelope" check-tail <(head -1 "$TMP/out") 1
has out "mix: tail" '"offset": 0, .*"event": \{"event_id": "[0-9a-f-]{36}", "event_type": "vessel.position.updated"'
has out "mix: tail" '"offset": 1, .*"event": \{"arrival_id": "6f1c2a3b-'
run "mix: tail --events-only" 0 "$TAIL" -t "$P.mix" -e -o 1 --events-only
same_file "mix: the arrivals" "$ARR" "$TMP/out"

# ---- runtime failures: exit 1 ------------------------------------------------------
run "broker unreachable" 1 "$PUB" -b 127.0.0.1:1 -X kafka.message.timeout.ms=3000 "${X[@]}" position "${SNAP[@]}"
has err "broker unreachable" "not delivered"
run "registry unreachable" 1 "$PUB" -r http://127.0.0.1:1 -X schema.registry.max.retries=0 "${X[@]}" position "${SNAP[@]}"
has err "registry unreachable" "cannot publish"
run "registry unreachable --json" 1 "$PUB" -r http://127.0.0.1:1 -X schema.registry.max.retries=0 "${X[@]}" --json -f "$TMP/events.jsonl"
has err "registry unreachable --json" "line 1: cannot publish"
has err "registry unreachable --json" "the lines after it were not published"
run "topics broker unreachable" 1 "$TOPICS" -b 127.0.0.1:1 --timeout 2000 list
# SIGTERM while vt-publish --skip-invalid waits for input: what was read is delivered
( echo "$POSL"; sleep 30 ) | "$PUB" "${I[@]}" --json --skip-invalid >"$TMP/sig.out" 2>"$TMP/sig.err" &
pid=$!
BG+=("$pid")
for _ in $(seq 1 100); do [ "$(grep -c . "$TMP/sig.out")" -ge 1 ] && break; sleep 0.2; done
kill -TERM "$pid"
wait "$pid"
rc=$?
eq "publish SIGTERM exit" "$(cat "$TMP/sig.err")" "$rc" 1
eq "publish SIGTERM delivered" "" "$(grep -c . "$TMP/sig.out")" 1
if grep -q "interrupted" "$TMP/sig.err"; then ok; else bad "publish SIGTERM: no 'interrupted' message"; fi

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
