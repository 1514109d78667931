#!/usr/bin/env bash
# Writes the ABI baseline that the `abi` unit test compares the built library
# with (abi/README.md): the library of commit REV, built on its own from a
# clean export of that commit, described by abidw.
#
# Usage: scripts/abi-baseline.sh [REV [OUT]]
#   REV  the released commit (default HEAD); run it at each release.
#   OUT  where to write (default abi/libvtevents.so.0.abi).
# Needs git, meson, ninja, a C compiler, the library's -dev packages and
# abidw (Debian package abigail-tools; ./run deps installs it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rev=${1:-HEAD}
out=${2:-$ROOT/abi/libvtevents.so.0.abi}
command -v abidw >/dev/null || { echo "abidw not found (apt-get install abigail-tools)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vtev-abi-baseline-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# A clean export of the commit: no worktree, nothing uncommitted gets in.
mkdir "$tmp/src"
git -C "$ROOT" archive --format=tar "$rev" | tar -x -C "$tmp/src" -f -

# debugoptimized (the project default) carries DWARF; only the library is built.
meson setup "$tmp/build" "$tmp/src" -Dbuildtype=debugoptimized \
  -Dtests=false -Dtools=false -Dexamples=false -Ddocs=false >/dev/null
meson compile -C "$tmp/build" -j 2 vtevents >/dev/null

lib=$(find "$tmp/build/lib" -maxdepth 1 -type f -name 'libvtevents.so.*' | head -n1)
[ -n "$lib" ] || { echo "no libvtevents.so.* built" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
"$ROOT/scripts/abi-dump.sh" "$lib" "$out" "$tmp/src/include/vtevents" "$tmp/build/include/vtevents"
echo "wrote $out from $(git -C "$ROOT" rev-parse --short "$rev") ($(basename "$lib"), abidw $(abidw --version | sed 's/^abidw: //'))"
