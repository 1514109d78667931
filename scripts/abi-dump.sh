#!/usr/bin/env bash
# The ABI description of a built libvtevents, as abidw writes it: the one
# place with abidw's flags, so that the baseline (scripts/abi-baseline.sh) and
# the `abi` unit test (tests/abi/check_abi.sh) describe a library the same way.
#
# Usage: scripts/abi-dump.sh HEADERS_DIR LIBRARY OUT
#   HEADERS_DIR  the public headers (include/vtevents of the same sources).
# Only types defined in the public headers count (--headers-dir with
# --drop-private-types); no paths, line numbers or DT_NEEDED, and hashed type
# ids, so that the file changes only when the ABI does.  Both sides of a
# comparison are filtered here, by abidw: abidiff's own --headers-dir option
# would treat every type of a description without locations as private and
# miss changed structs.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 HEADERS_DIR LIBRARY OUT" >&2; exit 2; }
exec abidw --headers-dir "$1" --drop-private-types --drop-undefined-syms \
  --no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed \
  --type-id-style hash --out-file "$3" "$2"
