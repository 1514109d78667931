#!/usr/bin/env bash
# The example services built without SQLite, without PostgreSQL, or without
# both (meson options examples_sqlite and examples_postgres), in a build of
# their own in a temporary directory (the library and the examples only):
# configured with both left out, then with each one alone (of those this
# machine has).  Each time every example program builds, only
# prediction-persister and vt-demo link a database library and only the
# enabled ones, a --db of a kind left out is refused with exit 2 and a
# message naming the option, and a kind that is in gets as far as the
# database itself (a runtime failure, exit 1, from SQLite or libpq).
#
# usage: test_examples_options.sh SOURCE_ROOT HAVE_SQLITE HAVE_POSTGRES
#   HAVE_*: 1 when the main build found the library (then the configuration
#   with only that one enabled is built too), else 0
set -u
src=$1 have_sqlite=$2 have_pg=$3

unset KAFKA_BOOTSTRAP_SERVERS SCHEMA_REGISTRY_URL VTEV_CONFIG
for v in $(env | sed -n 's/^\(VTEV_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
tmp=$(mktemp -d /tmp/vtev-exopts-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
b=$tmp/build
B=$b/examples
programs=(position-simulator prediction-trigger prediction-worker prediction-persister vt-demo)
NO_SQLITE='this build has no SQLite support \(meson option examples_sqlite\)'
NO_PG='this build has no PostgreSQL support \(meson option examples_postgres\)'
# nothing listens on port 1: libpq fails at once
PG_URL=postgresql://vtev@127.0.0.1:1/postgres

fails=0 checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: [$conf] $*" >&2; }
# run NAME WANT_RC CMD...: the command's exit status; stderr in $tmp/err
run() {
  local name=$1 want=$2 rc
  shift 2
  timeout -k 5 120 "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" = "$want" ]; then ok; else
    bad "$name: exit $rc, want $want"; sed 's/^/  stderr: /' "$tmp/err" >&2
  fi
}
# has NAME REGEX / hasnt NAME REGEX: stderr of the last run
has() {
  if grep -Eq -- "$2" "$tmp/err"; then ok; else bad "$1: stderr lacks /$2/"; sed 's/^/  stderr: /' "$tmp/err" >&2; fi
}
hasnt() {
  if grep -Eq -- "$2" "$tmp/err"; then bad "$1: stderr has /$2/"; sed 's/^/  stderr: /' "$tmp/err" >&2; else ok; fi
}
# needed PROGRAM LIB WANT: whether PROGRAM has a DT_NEEDED entry for LIB
needed() {
  local got=0
  readelf -d "$B/$1" | grep -q "(NEEDED).*\[$2\.so" && got=1
  if [ "$got" = "$3" ]; then ok; else bad "$1: NEEDED $2 is $got, want $3"; fi
}

# check SQLITE POSTGRES: the build dir as configured now (1 enabled, 0 left out)
check() {
  local sq=$1 pg=$2 p db
  conf="examples_sqlite=$([ "$sq" = 1 ] && echo enabled || echo disabled)"
  conf+=" examples_postgres=$([ "$pg" = 1 ] && echo enabled || echo disabled)"
  if ! ninja -C "$b" -j2 "${programs[@]/#/examples/}" >"$tmp/ninja.log" 2>&1; then
    bad "the examples do not build"; tail -n 40 "$tmp/ninja.log" >&2
    return
  fi
  ok
  for p in "${programs[@]}"; do
    db=0
    case $p in prediction-persister | vt-demo) db=1 ;; esac
    needed "$p" libsqlite3 $((db && sq))
    needed "$p" libpq $((db && pg))
  done
  if [ "$sq" = 0 ]; then
    run "persister --db FILE" 2 "$B/prediction-persister" -q --db "$tmp/p.db"
    has "persister --db FILE" "^prediction-persister: --db: $NO_SQLITE\$"
    run "persister --db sqlite:FILE" 2 "$B/prediction-persister" -q --db "sqlite:$tmp/p.db"
    has "persister --db sqlite:FILE" "^prediction-persister: --db: $NO_SQLITE\$"
    if [ -e "$tmp/p.db" ]; then bad "the refused --db created $tmp/p.db"; else ok; fi
    run "persister without --db" 2 env -C "$tmp" "$B/prediction-persister" -q
    has "persister without --db" "^prediction-persister: the default --db predictions.db: $NO_SQLITE\$"
    run "vt-demo without --db" 2 "$B/vt-demo" -q --count 2 --rate 0
    has "vt-demo without --db" "^vt-demo: the default database \(a temporary SQLite file\): $NO_SQLITE\$"
    run "vt-demo --db FILE" 2 "$B/vt-demo" -q --count 2 --rate 0 --db "$tmp/p.db"
    has "vt-demo --db FILE" "^vt-demo: --db: $NO_SQLITE\$"
  else
    # SQLite itself refuses a file in a missing directory
    run "persister --db FILE" 1 "$B/prediction-persister" -q --db "$tmp/missing/p.db"
    has "persister --db FILE" "^prediction-persister: sqlite $tmp/missing/p.db: "
    hasnt "persister --db FILE" "meson option"
    run "vt-demo (SQLite)" 0 "$B/vt-demo" -q --quiet-predictions --count 2 --rate 0
  fi
  if [ "$pg" = 0 ]; then
    run "persister --db postgresql://" 2 "$B/prediction-persister" -q --db "$PG_URL"
    has "persister --db postgresql://" "^prediction-persister: --db: $NO_PG\$"
    hasnt "persister --db postgresql://" "127\.0\.0\.1"
    run "persister --db postgres://" 2 "$B/prediction-persister" -q --db "postgres://vtev@127.0.0.1:1/x"
    has "persister --db postgres://" "^prediction-persister: --db: $NO_PG\$"
    run "vt-demo --db postgresql://" 2 "$B/vt-demo" -q --count 2 --rate 0 --db "$PG_URL"
    has "vt-demo --db postgresql://" "^vt-demo: --db: $NO_PG\$"
  else
    run "persister --db postgresql://" 1 "$B/prediction-persister" -q --db "$PG_URL"
    has "persister --db postgresql://" "^prediction-persister: postgresql: "
    hasnt "persister --db postgresql://" "meson option"
  fi
}

conf="setup"
if ! meson setup "$b" "$src" -Dwerror=true -Dtests=false -Dtools=false -Ddocs=false \
     -Dexamples=true -Dexamples_sqlite=disabled -Dexamples_postgres=disabled >"$tmp/setup.log" 2>&1; then
  cat "$tmp/setup.log" >&2
  echo "FAIL: meson setup with both databases left out"
  exit 1
fi
check 0 0
if [ "$have_sqlite" = 1 ]; then
  if meson configure "$b" -Dexamples_sqlite=enabled -Dexamples_postgres=disabled >/dev/null; then
    check 1 0
  else bad "meson configure -Dexamples_sqlite=enabled"; fi
fi
if [ "$have_pg" = 1 ]; then
  if meson configure "$b" -Dexamples_sqlite=disabled -Dexamples_postgres=enabled >/dev/null; then
    check 0 1
  else bad "meson configure -Dexamples_postgres=enabled"; fi
fi

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
