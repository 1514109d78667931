#!/usr/bin/env bash
# examples/arrival end to end on the embedded default (no network): the
# vessel-arrivals program, built from its own .avsc by vt-codegen, records
# arrivals and reads them back with the typed API; arrivals that break the
# schema's constraints are refused with the field named, the others go
# through; made-up arrivals are the same for the same --seed.
#
# usage: test_arrival.sh VESSEL_ARRIVALS
set -u
VA=$1

unset KAFKA_BOOTSTRAP_SERVERS SCHEMA_REGISTRY_URL VTEV_CONFIG
for v in $(env | sed -n 's/^\(VTEV_[A-Z0-9_]*\)=.*/\1/p'); do
  case $v in VTEV_ALLOW_SKIP|VTEV_PYTHON|VTEV_SOURCE_ROOT) ;; *) unset "$v" ;; esac
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fails=0 checks=0
ok() { checks=$((checks + 1)); }
bad() {
  checks=$((checks + 1)) fails=$((fails + 1))
  echo "FAIL: $*" >&2
  sed 's/^/  stdout: /' "$TMP/out" >&2
  sed 's/^/  stderr: /' "$TMP/err" >&2
}
run() { # NAME WANT_EXIT CMD...
  local name=$1 want=$2 rc
  shift 2
  # a hang gets the stacks of every thread in the report (gdb, when there)
  "$@" >"$TMP/out" 2>"$TMP/err" </dev/null &
  local pid=$! waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 1200 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "still running after 120 s; its threads:" >>"$TMP/err"
    if command -v gdb >/dev/null; then
      timeout 60 gdb -p "$pid" -batch -ex 'thread apply all bt' >>"$TMP/err" 2>&1
    fi
    kill -9 "$pid" 2>/dev/null
  fi
  wait "$pid"
  rc=$?
  if [ "$rc" = "$want" ]; then ok; else bad "$name: exit $rc, want $want"; fi
}
has() { # NAME FILE FIXED-STRING : FILE has a line containing it
  if grep -qF -- "$3" "$TMP/$2"; then ok; else bad "$1: no line with '$3' in $2"; fi
}
lines() { # NAME FILE REGEX N : FILE has N lines matching REGEX
  local n
  n=$(grep -Ec -- "$3" "$TMP/$2")
  if [ "$n" = "$4" ]; then ok; else bad "$1: $n lines of $2 match /$3/, want $4"; fi
}

# --- 25 made-up arrivals, published and read back -------------------------
run "demo" 0 "$VA" demo --count 25 --seed 7 --print
lines "demo" out '^\{"event_id": "[0-9a-f-]{36}", "event_type": "vessel.arrival.recorded", ' 25
lines "demo" out '^IMO[0-9]{7} ' 25
has "demo" out "summary: arrivals 25, "
has "demo" out "consumer: consumed 25, ok 25, dead letters 0"
has "demo" err "recorded 25 arrivals on vessel-arrivals (25 delivered, 0 failed), 0 refused"
lines "demo: the embedded default is announced once" err \
  '^vessel-arrivals: warning: bootstrap.servers and schema.registry.url are not configured' 1
# every published arrival comes back decoded: its vessel, terminal, berthing
# time (timestamp-millis, from 2026-01-10) and outcome are on a report line
while IFS= read -r json; do
  vessel=$(sed -n 's/.*"vessel_id": "\([^"]*\)".*/\1/p' <<<"$json")
  terminal=$(sed -n 's/.*"terminal_id": \([0-9]*\),.*/\1/p' <<<"$json")
  at=$(sed -n 's/.*"arrived_at": "\([^"]*\)".*/\1/p' <<<"$json")
  outcome=$(sed -n 's/.*"outcome": "\([^"]*\)".*/\1/p' <<<"$json")
  case $at in 2026-01-1[01]T*Z) ok ;; *) bad "demo: arrived_at $at is not on 2026-01-10/11" ;; esac
  lines "demo: $vessel read back" out "^$vessel +.* \($terminal\)  $at  $outcome " 1
done < <(grep '^{"event_id": ' "$TMP/out")
# the report's numbers are those of the published events
matched=$(grep -c '"outcome": "matched"' "$TMP/out")
other=$(grep -c '"outcome": "other_terminal"' "$TMP/out")
has "demo: summary counts" out "predicted $((matched + other)): matched $matched, other terminal $other; no prediction $((25 - matched - other))"

# --- the same seed makes the same arrivals (ids and times of recording aside)
strip() { sed -e 's/"event_id": "[^"]*"//' -e 's/"timestamp": "[^"]*"//' "$TMP/out"; }
run "record seed 7" 0 "$VA" record --count 5 --seed 7 --print -q -b mock://arr-a -r mock://arr-a
strip >"$TMP/a"
run "record seed 7 again" 0 "$VA" record --count 5 --seed 7 --print -q -b mock://arr-b -r mock://arr-b
strip >"$TMP/b"
if cmp -s "$TMP/a" "$TMP/b" && [ "$(wc -l <"$TMP/a")" = 5 ]; then ok; else bad "seed 7 twice: different arrivals"; fi
lines "explicit mock:// is not warned about" err 'warning' 0

# --- arrivals from JSON lines: the bad ones are refused, the field named ---
cat >"$TMP/arrivals.jsonl" <<'EOF'
# the JSON form of vessel.arrival.recorded; absent fields take their defaults
{"vessel_id": "IMO9239599", "data": {"terminal_id": 7, "terminal_name": "Corpus Christi LNG", "arrived_at": "2026-01-10T15:30:00.000Z", "prediction_id": "pred-1", "predicted_terminal_id": 7, "confidence_score": 0.89, "eta_error_hours": 0.42}}
{"vessel_id": "IMO9312345", "data": {"terminal_id": 3, "terminal_name": "", "arrived_at": "2026-01-10T16:00:00Z"}}
{"vessel_id": "IMO9301234", "data": {"terminal_id": 1, "terminal_name": "Sabine Pass LNG", "arrived_at": "2026-01-10T17:00:00Z", "predicted_terminal_id": 2, "confidence_score": 1.5}}
{"vessel_id": "IMO9301234", "data": {"terminal_id": 0, "terminal_name": "Sabine Pass LNG", "arrived_at": "2026-01-10T17:00:00Z"}}
{"vessel_id": "", "data": {"terminal_id": 1, "terminal_name": "Sabine Pass LNG", "arrived_at": "2026-01-10T17:00:00Z"}}
{"vessel_id": "IMO9301235", "data": {"terminal_id": 2, "terminal_name": "Golden Pass LNG", "arrived_at": "2026-01-10T18:00:00Z", "outcome": "matched", "predicted_terminal_id": 4}}
{"vessel_id": "IMO9301235", "data": {"terminal_id": 2, "terminal_name": "Golden Pass LNG", "arrived_at": "2026-01-10T18:00:00Z", "predicted_terminal": 4}}
{"vessel_id": "IMO9301236", "data": {"terminal_id": 8, "terminal_name": "Gulf LNG Pascagoula", "arrived_at": "2026-01-11T02:15:00Z", "predicted_terminal_id": 9, "confidence_score": 0.51}, "metadata": {"source": "ais-berth-detector", "berth": 2}}
EOF
run "bad arrivals" 2 "$VA" demo --input "$TMP/arrivals.jsonl"
f=$TMP/arrivals.jsonl
has "empty string" err "vessel-arrivals: $f:3: refused: data.terminal_name: \"\" must not be empty"
has "range" err "vessel-arrivals: $f:4: refused: data.confidence_score: 1.5 is outside [0, 1]"
has "minimum" err "vessel-arrivals: $f:5: refused: data.terminal_id: 0 is outside [1, inf)"
has "key" err "vessel-arrivals: $f:6: refused: vessel_id: \"\" must not be empty"
has "outcome" err "vessel-arrivals: $f:7: refused: data.outcome: matched, but the prediction named terminal 4 and the vessel arrived at 2"
has "unknown field" err "vessel-arrivals: $f:8: refused: data.predicted_terminal: unknown field"
has "counts" err "recorded 2 arrivals on vessel-arrivals (2 delivered, 0 failed), 6 refused"
lines "only the good ones are read back" out '^IMO[0-9]{7} ' 2
has "good 1" out "IMO9239599  Corpus Christi LNG   (7)  2026-01-10T15:30:00.000Z  matched         conf 0.89  ETA error +0.42 h   predicted 7 pred-1"
has "good 2" out "IMO9301236  Gulf LNG Pascagoula  (8)  2026-01-11T02:15:00.000Z  other_terminal  conf 0.51"
has "bad arrivals: summary" out "summary: arrivals 2, predicted 2: matched 1, other terminal 1; no prediction 0"
has "bad arrivals: accuracy" out "accuracy: 50.0% of the predictions named the terminal reached; mean confidence 0.89 when right, 0.51 when wrong"
has "bad arrivals: consumer" out "consumer: consumed 2, ok 2, dead letters 0"

# --- the command line -------------------------------------------------------
run "help" 0 "$VA" --help
has "help" out "Usage: vessel-arrivals record"
run "record --help" 0 "$VA" record --help
run "version" 0 "$VA" -V
has "version" out "libvtevents "
run "no command" 2 "$VA"
run "unknown command" 2 "$VA" publish
has "unknown command" err "unknown command 'publish'"
run "bad count" 2 "$VA" record --count x
has "bad count" err "--count x: expected an integer >= 0"
run "count and input" 2 "$VA" record --count 3 --input -
run "bad -X" 2 "$VA" record -X nokey
run "unknown key" 2 "$VA" record -X no.such.key=1
run "missing input" 2 "$VA" record --input "$TMP/none.jsonl" -b mock://arr-c -r mock://arr-c
run "report times out" 1 "$VA" report --expect 1 --timeout 3 -q -b mock://arr-d -r mock://arr-d
has "report times out" err "0 of 1 arrivals after 3 s"

echo "$((checks - fails)) of $checks checks passed"
[ "$fails" -eq 0 ]
