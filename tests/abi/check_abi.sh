#!/usr/bin/env bash
# The `abi` unit test (doc/ABI.md, abi/README.md): the built library keeps the
# ABI of the last release, whose abidw description is abi/libvtevents.so.0.abi.
#
# Usage: check_abi.sh BASELINE SUPPRESSIONS LIBRARY HEADERS_DIR...
#   HEADERS_DIR  the directories of the public headers LIBRARY was built with:
#                include/vtevents of the sources and of the build (generated).
#
# LIBRARY is described with scripts/abi-dump.sh, as the baseline was, and
# compared with abidiff.  Fails on any change abidiff reports about the
# interfaces of the baseline: a removed or re-versioned symbol
# (ABIDIFF_ABI_INCOMPATIBLE_CHANGE, exit bit 8) and any changed function or
# public type reachable from one (ABIDIFF_ABI_CHANGE, bit 4: a struct member
# inserted, removed, retyped or moved, a parameter or return type changed, an
# enumerator renumbered).  Added functions and variables are compatible: left
# out of the verdict (--no-added-syms), listed when the check passes.
# SUPPRESSIONS lists the changes doc/ABI.md allows that abidiff cannot tell
# from breaks on its own.  Exit 77 (skip) only when abidiff is not installed
# or the baseline describes another architecture.
set -uo pipefail
baseline=$1 suppr=$2 lib=$3
shift 3

if ! command -v abidiff >/dev/null 2>&1; then
  echo "SKIP: abidiff not found (Debian package abigail-tools; ./run deps installs it)"
  exit 77
fi
for f in "$baseline" "$suppr" "$lib"; do
  [ -f "$f" ] || { echo "FAIL: $f is missing"; exit 1; }
done
# Without DWARF abidiff compares symbol names only and would pass a changed
# struct: refuse, rather than pass for the wrong reason.
sections=$(readelf -S "$lib" 2>/dev/null)
if ! grep -q '\.debug_info' <<<"$sections"; then
  echo "FAIL: $lib has no debug info; configure the build with debug info (meson's default"
  echo "      buildtype debugoptimized, or -Ddebug=true) so that types can be compared"
  exit 1
fi
base_arch=$(sed -n "s/.*<abi-corpus [^>]*architecture='\([^']*\)'.*/\1/p" "$baseline" | head -n1)
lib_arch=$(readelf -h "$lib" | sed -n 's/^ *Machine: *//p')
if [ "$base_arch" = elf-amd-x86_64 ] && [ "$lib_arch" != "Advanced Micro Devices X86-64" ]; then
  echo "SKIP: the baseline describes x86_64, this library is built for $lib_arch"
  exit 77
fi

# Both sides described by the same abidw flags (scripts/abi-dump.sh).
dump=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts" && pwd)/abi-dump.sh
tmp=$(mktemp -d /tmp/vtev-abi-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if ! "$dump" "$lib" "$tmp/lib.abi" "$@" 2>"$tmp/abidw.err"; then
  cat "$tmp/abidw.err"; echo "FAIL: abidw could not describe $lib"; exit 1
fi
opts=(--suppressions "$suppr")
report=$(abidiff "${opts[@]}" "$baseline" "$tmp/lib.abi" 2>&1)
verdict=$(abidiff "${opts[@]}" --no-added-syms "$baseline" "$tmp/lib.abi" 2>&1)
rc=$?

echo "abidiff $(basename "$baseline") $(basename "$lib") (abidiff $(abidiff --version | sed 's/^abidiff: //'))"
if [ "$rc" -eq 0 ]; then
  echo "$report"
  echo "OK: no incompatible change against the baseline"
  exit 0
fi
echo "$verdict"
what=()
[ $((rc & 1)) -ne 0 ] && what+=("abidiff failed (ABIDIFF_ERROR)")
[ $((rc & 2)) -ne 0 ] && what+=("usage error (ABIDIFF_USAGE_ERROR)")
[ $((rc & 8)) -ne 0 ] && what+=("a symbol of the baseline was removed or re-versioned (ABIDIFF_ABI_INCOMPATIBLE_CHANGE)")
[ $((rc & 12)) -eq 4 ] && what+=("an existing function or public type changed (ABIDIFF_ABI_CHANGE)")
echo "FAIL (abidiff exit $rc): $(IFS=';'; echo "${what[*]}")"
echo "(added functions and variables are compatible and not listed here; doc/ABI.md says"
echo "which changes need a new soname, abi/README.md what to do)"
exit 1
