#!/usr/bin/env bash
# Unit test of tools/vt-mock-cluster (meson suite `unit`: the mock cluster only).
# Usage: test_mock_cluster.sh VT-MOCK-CLUSTER VT-STACK-PROBE
set -uo pipefail
mc=$1 probe=$2
fails=0 passes=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then passes=$((passes + 1)); else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
ask() { # ask COMMAND -> the one-line answer
  printf '%s\n' "$1" >&"${MC[1]}"
  local ans
  read -r -t 10 ans <&"${MC[0]}" || ans="(no answer)"
  printf '%s\n' "$ans"
}

"$mc" --brokers 0 >/dev/null 2>&1; check "--brokers 0 is a usage error (exit 2)" test $? = 2
"$mc" --topic nocolon >/dev/null 2>&1; check "--topic without partitions is a usage error" test $? = 2
check "--help prints the usage on stdout" grep -q '^usage: vt-mock-cluster' <<<"$("$mc" --help)"
check "-V names librdkafka" grep -q '^librdkafka ' <<<"$("$mc" -V)"

coproc MC { exec "$mc" -q -n 3 -t extra:4; }
bs=
read -r -t 20 bs <&"${MC[0]}"
check "prints three bootstrap servers" grep -Eq '^127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+){2}$' <<<"$bs"
md=$("$probe" -b "$bs" -n 3 -w 10)
check "metadata lists 3 brokers and 7 topics (3 platform, 3 .dlq, extra)" \
  grep -q '3 broker(s), 7 topic(s)' <<<"$md"
check "down 2 answers ok" test "$(ask 'down 2')" = ok
check "up 2 answers ok" test "$(ask 'up 2')" = ok
check "down 9 is refused" grep -q '^error: broker id' <<<"$(ask 'down 9')"
check "error by name answers ok" test "$(ask 'error 0 NOT_LEADER_FOR_PARTITION 2')" = ok
check "unknown error name is refused" grep -q '^error:' <<<"$(ask 'error 0 NO_SUCH_THING')"
check "leader move answers ok" test "$(ask 'leader vessel-position-updates 1 3')" = ok
check "topic creation answers ok" test "$(ask 'topic made-later 2')" = ok
md=$("$probe" -b "$bs" -n 3 -w 10)
check "the new topic shows in the metadata" grep -q '8 topic(s)' <<<"$md"
check "bootstrap repeats the address" test "$(ask bootstrap)" = "$bs"
pid=$MC_PID
kill -TERM "$pid"
wait "$pid"; rc=$?
check "SIGTERM stops it with exit 0 (got $rc)" test "$rc" = 0
check "no process left" test ! -d "/proc/$pid"

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
