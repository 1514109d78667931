#!/usr/bin/env bash
# The `abi-variants` unit test: tests/abi/check_abi.sh can fail.  Builds the
# library from a copy of the sources with one deliberate change at a time and
# runs the check against the baseline: the compatible additions doc/ABI.md
# allows must pass, each kind of break must fail and name what broke.
#
# Usage: test_abi_variants.sh SOURCE_ROOT CHECK_SCRIPT BASELINE SUPPRESSIONS
set -uo pipefail
src=$1 check=$2 baseline=$3 suppr=$4

command -v abidiff >/dev/null 2>&1 || {
  echo "SKIP: abidiff not found (Debian package abigail-tools; ./run deps installs it)"
  exit 77
}

tmp=$(mktemp -d /tmp/vtev-abi-variants-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# What the library build reads (tools/: vt-codegen is configured by the top
# meson.build; scripts/: the schema embedder).
mkdir -p "$tmp/pristine/scripts" "$tmp/pristine/tools"
cp -r "$src/include" "$src/lib" "$src/schemas" "$src/meson.build" "$src/meson_options.txt" "$tmp/pristine/"
cp "$src/scripts/embed_schemas.py" "$tmp/pristine/scripts/"
cp "$src/tools/vt-codegen.c" "$tmp/pristine/tools/"
cp -r "$tmp/pristine" "$tmp/src"
if ! meson setup "$tmp/build" "$tmp/src" -Dbuildtype=debug -Dtests=false \
     -Dtools=false -Dexamples=false -Ddocs=false >"$tmp/setup.log" 2>&1; then
  cat "$tmp/setup.log"; echo "FAIL: meson setup of the copy"; exit 1
fi

fails=0 passes=0 touched=()
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# edit FILE PATTERN REPLACEMENT: one regex substitution (Python re, multiline)
# that must match exactly once, so that a variant cannot silently do nothing.
edit() {
  touched+=("$1")
  python3 - "$tmp/src/$1" "$2" "$3" <<'PY'
import re, sys
path, pat, repl = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
new, n = re.subn(pat, repl, text, flags=re.M)
if n != 1:
    sys.exit(f"{path}: pattern {pat!r} matched {n} times")
open(path, "w", encoding="utf-8").write(new)
PY
}

# run_variant NAME EXPECT(pass|fail) MUST_MENTION [BASELINE]: builds the
# edited copy and checks it against BASELINE (default: the release's).
run_variant() {
  local name=$1 expect=$2 mention=$3 base=${4:-} out rc lib
  echo "=== $name (expected: $expect)"
  if ! meson compile -C "$tmp/build" -j 1 vtevents >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log"; fail "$name: the variant does not build"; return
  fi
  lib=$(find "$tmp/build/lib" -maxdepth 1 -type f -name 'libvtevents.so.*' | head -n1)
  out=$("$check" "${base:-$baseline}" "$suppr" "$lib" "$tmp/src/include/vtevents" \
    "$tmp/build/include/vtevents" 2>&1)
  rc=$?
  echo "$out" | sed 's/^/    /'
  if [ "$rc" = 77 ]; then
    fail "$name: the check skipped"
  elif [ "$expect" = pass ] && [ "$rc" != 0 ]; then
    fail "$name: a compatible change was refused"
  elif [ "$expect" = fail ] && [ "$rc" = 0 ]; then
    fail "$name: a break passed the check"
  elif [ "$expect" = fail ] && ! grep -q -- "$mention" <<<"$out"; then
    fail "$name: the report does not name $mention"
  else
    passes=$((passes + 1))
  fi
}

# Back to the unchanged sources (plain cp: a new mtime, so ninja rebuilds).
restore() {
  local f
  for f in "${touched[@]+"${touched[@]}"}"; do cp "$tmp/pristine/$f" "$tmp/src/$f"; done
  touched=()
}

# 0. The unchanged copy, described for the variants about types the release
#    baseline does not have yet (the generated platform events).
if ! meson compile -C "$tmp/build" -j 1 vtevents >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log"; echo "FAIL: the unchanged copy does not build"; exit 1
fi
"$src/scripts/abi-dump.sh" "$(find "$tmp/build/lib" -maxdepth 1 -type f -name 'libvtevents.so.*' | head -n1)" \
  "$tmp/current.abi" "$tmp/src/include/vtevents" "$tmp/build/include/vtevents"
run_variant "unchanged, against itself" pass "" "$tmp/current.abi"

# 1. What doc/ABI.md calls compatible, all at once: a new exported function in
#    the newest map node, an error code appended before VTEV_ERR__END, a member
#    appended to a struct the library hands out (vtev_msg_info_t).
edit include/vtevents/error.h '^(VTEV_EXPORT int vtev_err_is_retriable\(vtev_err_t err\);)$' \
  '\1\n/** @brief Selftest. @returns 0. @since 0.2.0 */\nVTEV_EXPORT int vtev_abi_selftest_added(void);'
edit lib/error.c '\Z' '\nint vtev_abi_selftest_added(void) {\n    return 0;\n}\n'
edit lib/vtevents.map '^(\s*)vtev_err_is_retriable;$' '\1vtev_err_is_retriable;\n\1vtev_abi_selftest_added;'
edit include/vtevents/error.h '^(\s*)VTEV_ERR__END(\s)' '\1VTEV_ERR_ABI_SELFTEST,\n\1VTEV_ERR__END\2'
edit include/vtevents/consumer.h '^(\s*int attempt;.*\n)(\} vtev_msg_info_t;)' '\1    int abi_selftest_appended;\n\2'
run_variant "additions" pass ""
restore

# 2. A member inserted in the middle of a caller-allocated struct.
edit include/vtevents/consumer.h '^(\s*uint64_t ok;.*)$' '\1\n    uint64_t abi_selftest_inserted;'
run_variant "member inserted into vtev_consumer_stats_t" fail "vtev_consumer_stats_s"
restore

# 3. A member inserted in the middle of a struct that may grow at the end only.
edit include/vtevents/consumer.h '^(\s*const char \*topic;.*read from\. \*/)$' '\1\n    const char *abi_selftest_inserted;'
run_variant "member inserted into vtev_msg_info_t" fail "vtev_msg_info_s"
restore

# 4. A member appended to a caller-allocated struct (frozen: it may not grow).
edit include/vtevents/consumer.h '^(\s*uint64_t handler_max_us;.*\n)(\} vtev_consumer_stats_t;)' '\1    uint64_t abi_selftest_appended;\n\2'
run_variant "member appended to vtev_consumer_stats_t" fail "vtev_consumer_stats_s"
restore

# 5. A parameter type changed.
edit include/vtevents/event.h '(vtev_metadata_set_int\(vtev_metadata_t \*md, const char \*key, )int64_t value\)' '\1int32_t value)'
edit lib/metadata.c '^(vtev_err_t vtev_metadata_set_int\(vtev_metadata_t \*md, const char \*key, )int64_t value\)' '\1int32_t value)'
run_variant "parameter type of vtev_metadata_set_int changed" fail "vtev_metadata_set_int"
restore

# 6. An exported symbol removed (no longer in the map, so local).
edit lib/vtevents.map '^\s*vtev_event_clear;\n' ''
run_variant "vtev_event_clear no longer exported" fail "vtev_event_clear"
restore

# 7. An error code inserted in the middle: the later codes are renumbered.
edit include/vtevents/error.h '^(\s*)(VTEV_ERR_MSG_TOO_LARGE,)' '\1VTEV_ERR_ABI_SELFTEST,\n\1\2'
run_variant "error code inserted before VTEV_ERR_MSG_TOO_LARGE" fail "VTEV_ERR_MSG_TOO_LARGE"
restore

# 8. A symbol moved to a newer version node: programs linked against
#    vtev_version@VTEVENTS_0.1 no longer find it.
edit lib/vtevents.map '^\s*vtev_version;\n' ''
edit lib/vtevents.map '^(\s*)vtev_conf_is_set;$' '\1vtev_conf_is_set;\n\1vtev_version;'
run_variant "vtev_version moved to VTEVENTS_0.2" fail "vtev_version@@VTEVENTS_0.1"
restore

# 9. A field inserted into a platform schema: the generated struct installed
#    as <vtevents/vessel_position_updated.h> changes (against the unchanged
#    copy: the 0.1.0 baseline predates the generated types).
edit schemas/avro/vessel.position.updated.avsc '^(\s*)(\{"name": "speed", .*\n)' '\1\2\1{"name": "abi_selftest", "type": "double", "default": 0},\n'
run_variant "field inserted into the vessel.position.updated schema" fail "vtev_position_data_s" "$tmp/current.abi"
restore

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
