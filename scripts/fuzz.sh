#!/usr/bin/env bash
# libFuzzer targets for untrusted input: unframe+decode (fuzz_decode), JSON
# parsing (fuzz_json), schema resolution (fuzz_resolve) and the schema-driven
# JSON form (fuzz_avro_json), built with clang -fsanitize=fuzzer,address,undefined.
#
#   scripts/fuzz.sh build        build both targets into build-fuzz/
#   scripts/fuzz.sh smoke        build, then run each for 15 s (./run test calls this)
#   scripts/fuzz.sh long N       build, then run each for N executions
#   scripts/fuzz.sh run TARGET [libFuzzer args...]
#
# Seeds live in tests/fuzz/corpus/<target>/; new inputs found go to
# build-fuzz/corpus/<target>/ (not committed).  A crash stops with exit 1 and
# leaves the reproducer in build-fuzz/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${VTEV_FUZZ_DIR:-$ROOT/build-fuzz}
CC=${CC_FUZZ:-clang}
TARGETS=(fuzz_decode fuzz_json fuzz_resolve fuzz_avro_json)
LIBSRC=(avro_canon.c avro_direct.c avro_json.c avro_resolve.c avro_scan.c codec.c conf.c error.c frame.c event.c
        json.c metadata.c mock_cluster.c schema.c serde_avro.c timestamp.c util.c validate.c)

log() { printf '==> %s\n' "$*" >&2; }

build() {
  command -v "$CC" >/dev/null || { echo "fuzz.sh: $CC not found" >&2; exit 1; }
  mkdir -p "$OUT/obj"
  python3 "$ROOT/scripts/embed_schemas.py" "$OUT/schemas_gen.c" \
    "position=$ROOT/schemas/avro/vessel.position.updated.avsc" \
    "request=$ROOT/schemas/avro/prediction.analysis.requested.avsc" \
    "result=$ROOT/schemas/avro/prediction.analysis.completed.avsc"
  local flags=(-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
               -fno-sanitize-recover=undefined -I"$ROOT/include" -I"$ROOT/lib" -I"$OUT")
  local cflags libs
  cflags=$(pkg-config --cflags avro-c jansson rdkafka)
  libs=$(pkg-config --libs avro-c jansson rdkafka)
  # a version.h for <vtevents/vtevents.h>
  mkdir -p "$OUT/vtevents"
  local ver maj min pat
  ver=$(sed -n "s/^  version: '\([0-9.]*\)',/\1/p" "$ROOT/meson.build" | head -n1)
  IFS=. read -r maj min pat <<<"$ver"
  sed -e "s/@VTEV_VERSION_MAJOR@/$maj/; s/@VTEV_VERSION_MINOR@/$min/; s/@VTEV_VERSION_PATCH@/$pat/" \
      -e "s/@VTEV_VERSION_STR@/\"$ver\"/" "$ROOT/include/vtevents/version.h.in" > "$OUT/vtevents/version.h"
  # the platform types, generated as the build does (validate.c uses them)
  # shellcheck disable=SC2046
  cc -std=c11 -D_GNU_SOURCE -O1 -I"$ROOT/include" -I"$OUT" "$ROOT/tools/vt-codegen.c" \
    $(pkg-config --cflags --libs jansson) -lm -o "$OUT/vt-codegen"
  "$OUT/vt-codegen" -o "$OUT/vtevents" --prefix vtev "$ROOT"/schemas/avro/vessel.position.updated.avsc \
    "$ROOT"/schemas/avro/prediction.analysis.requested.avsc "$ROOT"/schemas/avro/prediction.analysis.completed.avsc
  local objs=() f o g
  for g in vessel_position_updated prediction_analysis_requested prediction_analysis_completed; do
    # shellcheck disable=SC2086
    "$CC" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" $cflags -I"$OUT/vtevents" \
      -c "$OUT/vtevents/$g.c" -o "$OUT/obj/gen_$g.o"
    objs+=("$OUT/obj/gen_$g.o")
  done
  for f in "${LIBSRC[@]}" ; do
    o="$OUT/obj/${f%.c}.o"
    if [ ! -f "$o" ] || [ "$ROOT/lib/$f" -nt "$o" ] || [ -n "$(find "$ROOT/lib" -name '*.h' -newer "$o")" ]; then
      # shellcheck disable=SC2086
      "$CC" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" $cflags -c "$ROOT/lib/$f" -o "$o"
    fi
    objs+=("$o")
  done
  # shellcheck disable=SC2086
  "$CC" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -c "$OUT/schemas_gen.c" -o "$OUT/obj/schemas_gen.o"
  objs+=("$OUT/obj/schemas_gen.o")
  for t in "${TARGETS[@]}"; do
    # shellcheck disable=SC2086
    "$CC" "${flags[@]}" "$ROOT/tests/fuzz/$t.c" "${objs[@]}" $libs -lpthread -lm -o "$OUT/$t"
  done
}

run_target() {
  local t=$1; shift
  mkdir -p "$OUT/corpus/$t"
  (cd "$OUT" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
     "./$t" -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 "$@" \
     "$OUT/corpus/$t" "$ROOT/tests/fuzz/corpus/$t")
}

cmd=${1:-smoke}
[ $# -gt 0 ] && shift
case "$cmd" in
  build) build ;;
  smoke)
    build
    for t in "${TARGETS[@]}"; do
      log "fuzzing $t for 15 s"
      run_target "$t" -max_total_time=15 2>&1 | tail -n 12
      [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz.sh: $t failed" >&2; exit 1; }
    done ;;
  long)
    n=${1:?usage: fuzz.sh long N}
    build
    for t in "${TARGETS[@]}"; do
      log "fuzzing $t for $n executions"
      run_target "$t" -runs="$n" 2>&1 | tail -n 12
      [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz.sh: $t failed" >&2; exit 1; }
    done ;;
  run)
    t=${1:?usage: fuzz.sh run TARGET [args]}; shift
    build
    run_target "$t" "$@" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
