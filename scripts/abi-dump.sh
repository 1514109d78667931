#!/usr/bin/env bash
# The ABI description of a built libvtevents, as abidw writes it: the one
# place with abidw's flags, so that the baseline (scripts/abi-baseline.sh) and
# the `abi` unit test (tests/abi/check_abi.sh) describe a library the same way.
#
# Usage: scripts/abi-dump.sh LIBRARY OUT HEADERS_DIR...
#   HEADERS_DIR  every directory of installed headers: include/vtevents of the
#                sources and include/vtevents of the build (version.h and the
#                generated <vtevents/vessel_position_updated.h>, ...).
# Only types defined in those headers count (--headers-dir with
# --drop-private-types: a type from a directory left out becomes an opaque
# declaration, and changes to it go unseen); no paths, line numbers or
# DT_NEEDED, and hashed type ids, so that the file changes only when the ABI
# does.  Both sides of a comparison are filtered here, by abidw: abidiff's own
# --headers-dir option would treat every type of a description without
# locations as private and miss changed structs.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 LIBRARY OUT HEADERS_DIR..." >&2; exit 2; }
lib=$1 out=$2
shift 2
hd=()
for d in "$@"; do
  [ -d "$d" ] || { echo "$0: $d is not a directory" >&2; exit 2; }
  hd+=(--headers-dir "$d")
done
exec abidw "${hd[@]}" --drop-private-types --drop-undefined-syms \
  --no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed \
  --type-id-style hash --out-file "$out" "$lib"
