#!/usr/bin/env bash
# Unit-level checks of the example programs' command-line configuration on
# the embedded default (no network): a program that falls back to mock://
# because nothing was configured says so once on stderr, also with -q
# ([defects] 6); choosing mock:// explicitly stays silent.
#
# usage: test_examples_unit.sh POSITION_SIMULATOR VT_DEMO [SQLITE]
#   SQLITE: 0 when the build left SQLite out (meson option examples_sqlite):
#   then vt-demo's default database is refused (exit 2); default 1
set -u
SIM=$1 DEMO=$2 SQLITE=${3:-1}

unset KAFKA_BOOTSTRAP_SERVERS SCHEMA_REGISTRY_URL VTEV_CONFIG
for v in $(env | sed -n 's/^\(VTEV_[A-Z0-9_]*\)=.*/\1/p'); do
  case $v in VTEV_ALLOW_SKIP|VTEV_PYTHON|VTEV_SOURCE_ROOT|VTEV_TERMINALS) ;; *) unset "$v" ;; esac
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fails=0 checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }
run() {
  local name=$1 want=$2 rc
  shift 2
  timeout -k 5 120 "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  if [ "$rc" = "$want" ]; then ok; else
    bad "$name: exit $rc, want $want"; sed 's/^/  stderr: /' "$TMP/err" >&2
  fi
}
count() { # count NAME REGEX N : stderr has N lines matching REGEX
  local n
  n=$(grep -Ec -- "$2" "$TMP/err")
  if [ "$n" = "$3" ]; then ok; else bad "$1: $n stderr lines match /$2/, want $3"; sed 's/^/  stderr: /' "$TMP/err" >&2; fi
}
W='^position-simulator: warning: bootstrap.servers and schema.registry.url are not configured: using the embedded mock cluster and registry mock://default'

run "nothing configured" 0 "$SIM" --count 2 --rate 0
count "nothing configured" "$W" 1
run "nothing configured, -q" 0 "$SIM" -q --count 2 --rate 0
count "nothing configured, -q" "$W" 1
run "misspelt KAFKA_BOOTSTRAP_SERVER" 0 env KAFKA_BOOTSTRAP_SERVER=127.0.0.1:9092 "$SIM" -q --count 2 --rate 0
count "misspelt KAFKA_BOOTSTRAP_SERVER" "$W" 1
run "-b mock:// chosen" 0 "$SIM" -q -b mock://sim --count 2 --rate 0
count "-b mock:// chosen" "warning" 0
run "-X bootstrap.servers=mock:// chosen" 0 "$SIM" -q -X bootstrap.servers=mock://sim --count 2 --rate 0
count "-X bootstrap.servers=mock:// chosen" "warning" 0
printf 'schema.registry.url=mock://file\n' >"$TMP/vt.conf"
run "-F registry mock:// chosen" 0 "$SIM" -q -F "$TMP/vt.conf" --count 2 --rate 0
count "-F registry mock:// chosen" "warning" 0
# vt-demo without --real chooses mock://demo itself: no warning
if [ "$SQLITE" = 1 ]; then
  run "vt-demo on the embedded cluster" 0 "$DEMO" -q --count 2 --rate 0
  count "vt-demo on the embedded cluster" "warning" 0
else
  run "vt-demo without SQLite" 2 "$DEMO" -q --count 2 --rate 0
  count "vt-demo without SQLite" "no SQLite support \(meson option examples_sqlite\)" 1
fi

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
