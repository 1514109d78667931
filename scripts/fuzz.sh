#!/usr/bin/env bash
# libFuzzer targets for untrusted input: unframe+decode (fuzz_decode), JSON
# parsing (fuzz_json), the resolving decode (fuzz_resolve), the schema-driven
# JSON form (fuzz_avro_json) and the decoders vt-codegen generates
# (fuzz_gen_position, fuzz_gen_request, fuzz_gen_result for schemas/avro,
# fuzz_gen_all_types for tests/schemas/all_types.avsc; the code is generated
# here with a vt-codegen built from tools/vt-codegen.c),
# built with clang -fsanitize=fuzzer,address,undefined.
#
#   scripts/fuzz.sh build        build the targets into build-fuzz/
#   scripts/fuzz.sh smoke        build, then run each for $VTEV_FUZZ_SMOKE_SECS s (default
#                                10; ./run test calls this)
#   scripts/fuzz.sh long N       build, then run each for N executions
#   scripts/fuzz.sh run TARGET [libFuzzer args...]
#   scripts/fuzz.sh coverage [TARGET...]
#                                source coverage (llvm-cov) that each target's
#                                corpus reaches in the code it tests
#
# VTEV_FUZZ_TARGETS="t1 t2" limits build, smoke and long to those targets.
#
# Seeds live in tests/fuzz/corpus/<target>/; new inputs found go to
# build-fuzz/corpus/<target>/ (not committed).  A crash stops with exit 1 and
# leaves the reproducer in build-fuzz/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${VTEV_FUZZ_DIR:-$ROOT/build-fuzz}
CC=${CC_FUZZ:-clang}
TARGETS=(fuzz_decode fuzz_json fuzz_resolve fuzz_avro_json fuzz_gen_position fuzz_gen_request fuzz_gen_result fuzz_gen_all_types)
if [ -n "${VTEV_FUZZ_TARGETS:-}" ]; then
  read -r -a TARGETS <<<"$VTEV_FUZZ_TARGETS"
fi
# The library's sources, read from lib/meson.build (one list: a file added to
# the library is fuzzed with it).  They go into an archive, so that each
# target links only what it uses.
mapfile -t LIBSRC < <(sed -n "/^vtev_sources = files(/,/^)/s/^ *'\([a-z_]*\.c\)',\{0,1\}$/\1/p" "$ROOT/lib/meson.build")
[ "${#LIBSRC[@]}" -gt 0 ] || { echo "fuzz.sh: no sources found in lib/meson.build" >&2; exit 1; }
# fuzz_gen_* targets: the generated file each one links (BASE of BASE.c), and
# the schema and prefix it is generated from.
declare -A GEN_BASE=([fuzz_gen_position]=vessel_position_updated [fuzz_gen_request]=prediction_analysis_requested
                     [fuzz_gen_result]=prediction_analysis_completed [fuzz_gen_all_types]=all_types)
GEN_SCHEMAS=("vtev:schemas/avro/vessel.position.updated.avsc" "vtev:schemas/avro/prediction.analysis.requested.avsc"
             "vtev:schemas/avro/prediction.analysis.completed.avsc" "t:tests/schemas/all_types.avsc")

log() { printf '==> %s\n' "$*" >&2; }

# build [cov]: the targets with libFuzzer, ASan and UBSan into $OUT/, or (cov)
# with clang's source coverage and no sanitizers into $OUT/cov/ (coverage).
build() {
  command -v "$CC" >/dev/null || { echo "fuzz.sh: $CC not found" >&2; exit 1; }
  local dir=$OUT san=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  local osan=(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
  if [ "${1:-}" = cov ]; then
    dir=$OUT/cov
    san=(-fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping)
    osan=(-fprofile-instr-generate -fcoverage-mapping)
  fi
  mkdir -p "$dir/obj"
  python3 "$ROOT/scripts/embed_schemas.py" "$OUT/schemas_gen.c" \
    "position=$ROOT/schemas/avro/vessel.position.updated.avsc" \
    "request=$ROOT/schemas/avro/prediction.analysis.requested.avsc" \
    "result=$ROOT/schemas/avro/prediction.analysis.completed.avsc"
  local base=(-std=c11 -D_GNU_SOURCE -g -O1 -I"$ROOT/include" -I"$ROOT/lib" -I"$OUT")
  local cflags libs
  cflags=$(pkg-config --cflags avro-c jansson rdkafka libcurl)
  libs=$(pkg-config --libs avro-c jansson rdkafka libcurl)
  # a version.h for <vtevents/vtevents.h>
  mkdir -p "$OUT/vtevents"
  local ver maj min pat
  ver=$(sed -n "s/^  version: '\([0-9.]*\)',/\1/p" "$ROOT/meson.build" | head -n1)
  IFS=. read -r maj min pat <<<"$ver"
  sed -e "s/@VTEV_VERSION_MAJOR@/$maj/; s/@VTEV_VERSION_MINOR@/$min/; s/@VTEV_VERSION_PATCH@/$pat/" \
      -e "s/@VTEV_VERSION_STR@/\"$ver\"/" "$ROOT/include/vtevents/version.h.in" > "$OUT/vtevents/version.h"
  # the platform types, generated as the build does (validate.c uses them;
  # the fuzz_gen_* targets of the platform link these same objects)
  # shellcheck disable=SC2046
  cc -std=c11 -D_GNU_SOURCE -O1 -I"$ROOT/include" -I"$OUT" "$ROOT/tools/vt-codegen.c" \
    $(pkg-config --cflags --libs jansson) -lm -o "$OUT/vt-codegen"
  "$OUT/vt-codegen" -o "$OUT/vtevents" --prefix vtev "$ROOT"/schemas/avro/vessel.position.updated.avsc \
    "$ROOT"/schemas/avro/prediction.analysis.requested.avsc "$ROOT"/schemas/avro/prediction.analysis.completed.avsc
  local objs=() lobjs=() f o g
  for g in vessel_position_updated prediction_analysis_requested prediction_analysis_completed; do
    # shellcheck disable=SC2086
    "$CC" "${base[@]}" "${osan[@]}" $cflags -I"$OUT/vtevents" -c "$OUT/vtevents/$g.c" -o "$dir/obj/gen_$g.o"
    objs+=("$dir/obj/gen_$g.o")
  done
  for f in "${LIBSRC[@]}" ; do
    o="$dir/obj/${f%.c}.o"
    if [ ! -f "$o" ] || [ "$ROOT/lib/$f" -nt "$o" ] ||
       [ -n "$(find "$ROOT/lib" "$ROOT/include" -name '*.h' -newer "$o")" ]; then
      # shellcheck disable=SC2086
      "$CC" "${base[@]}" "${osan[@]}" $cflags -c "$ROOT/lib/$f" -o "$o"
    fi
    lobjs+=("$o")
  done
  # shellcheck disable=SC2086
  "$CC" "${base[@]}" "${osan[@]}" -c "$OUT/schemas_gen.c" -o "$dir/obj/schemas_gen.o"
  lobjs+=("$dir/obj/schemas_gen.o")
  rm -f "$dir/libvtev_fuzz.a"
  ar rcs "$dir/libvtev_fuzz.a" "${lobjs[@]}"
  # the generator (no sanitizers: it only writes the code under test), then
  # the generated code, instrumented like the library
  local gen=0 sp t
  for t in "${TARGETS[@]}"; do [ -n "${GEN_BASE[$t]:-}" ] && gen=1; done
  if [ "$gen" = 1 ]; then
    mkdir -p "$OUT/gen"
    for sp in "${GEN_SCHEMAS[@]}"; do
      "$OUT/vt-codegen" -o "$OUT/gen" --prefix "${sp%%:*}" "$ROOT/${sp#*:}"
    done
  fi
  for t in "${TARGETS[@]}"; do
    local extra=()
    if [ -n "${GEN_BASE[$t]:-}" ] && [ -f "$dir/obj/gen_${GEN_BASE[$t]}.o" ] &&
       [ -f "$OUT/vtevents/${GEN_BASE[$t]}.c" ]; then
      extra=(-I"$OUT/gen") # a platform type: its object is among objs
    elif [ -n "${GEN_BASE[$t]:-}" ]; then
      # shellcheck disable=SC2086
      "$CC" "${base[@]}" "${osan[@]}" $cflags -c "$OUT/gen/${GEN_BASE[$t]}.c" -o "$dir/obj/gen_${GEN_BASE[$t]}.o"
      extra=(-I"$OUT/gen" "$dir/obj/gen_${GEN_BASE[$t]}.o")
    fi
    # shellcheck disable=SC2086
    "$CC" "${base[@]}" "${san[@]}" $cflags "$ROOT/tests/fuzz/$t.c" "${extra[@]}" "${objs[@]}" "$dir/libvtev_fuzz.a" $libs -lpthread -lm \
      -o "$dir/$t"
  done
}

run_target() {
  local t=$1; shift
  mkdir -p "$OUT/corpus/$t"
  (cd "$OUT" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
     "./$t" -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 "$@" \
     "$OUT/corpus/$t" "$ROOT/tests/fuzz/corpus/$t")
}

# run_logged TARGET ARGS...: the run's output goes to $OUT/TARGET.log; shown
# are its last coverage line and statistics, or its end when it failed.
run_logged() {
  local t=$1 rc=0
  run_target "$@" >"$OUT/$t.log" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then
    grep -E '^#[0-9]+[[:space:]]+DONE|^Done|^stat::' "$OUT/$t.log"
  else
    tail -n 40 "$OUT/$t.log"
    echo "fuzz.sh: $t failed (output in $OUT/$t.log)" >&2
  fi
  return "$rc"
}

# coverage TARGET: the source coverage that the corpus of TARGET (the seeds
# and what the runs found) reaches in the code it tests.
coverage_of() {
  local t=$1 files=()
  case "$t" in
    fuzz_gen_*) files=("$OUT/gen/${GEN_BASE[$t]}.c" "$ROOT/lib/avro_direct.c") ;;
    fuzz_resolve) files=("$ROOT/lib/avro_resolve.c" "$ROOT/lib/codec.c") ;;
    fuzz_decode) files=("$ROOT/lib/codec.c" "$ROOT/lib/serde_avro.c" "$ROOT/lib/avro_scan.c") ;;
    fuzz_json) files=("$ROOT/lib/json.c" "$ROOT/lib/timestamp.c") ;;
  esac
  mkdir -p "$OUT/corpus/$t"
  rm -f "$OUT/cov/$t.profraw"
  (cd "$OUT/cov" && LLVM_PROFILE_FILE="$OUT/cov/$t.profraw" "./$t" -runs=0 \
     "$OUT/corpus/$t" "$ROOT/tests/fuzz/corpus/$t" >"$OUT/cov/$t.log" 2>&1)
  llvm-profdata merge -sparse "$OUT/cov/$t.profraw" -o "$OUT/cov/$t.profdata"
  llvm-cov report "$OUT/cov/$t" -instr-profile="$OUT/cov/$t.profdata" "${files[@]}"
}

cmd=${1:-smoke}
[ $# -gt 0 ] && shift
case "$cmd" in
  build) build ;;
  smoke)
    build
    secs=${VTEV_FUZZ_SMOKE_SECS:-10}
    for t in "${TARGETS[@]}"; do
      log "fuzzing $t for $secs s"
      run_logged "$t" -max_total_time="$secs" || exit 1
    done ;;
  long)
    n=${1:?usage: fuzz.sh long N}
    build
    for t in "${TARGETS[@]}"; do
      log "fuzzing $t for $n executions"
      run_logged "$t" -runs="$n" || exit 1
    done ;;
  coverage)
    [ $# -gt 0 ] && TARGETS=("$@")
    build cov
    for t in "${TARGETS[@]}"; do
      log "coverage of $t's corpus"
      coverage_of "$t"
    done ;;
  run)
    t=${1:?usage: fuzz.sh run TARGET [args]}; shift
    build
    run_target "$t" "$@" ;;
  *) sed -n '2,23p' "$0"; exit 2 ;;
esac
