#!/bin/sh
# Builds the HTML reference for the `docs` target (doc/meson.build) from
# scratch, so that no page of a removed header survives; when doxygen fails
# (a warning: WARN_AS_ERROR) no reference is left behind.
# Usage: run_doxygen.sh DOXYGEN DOXYFILE OUTPUT_DIR
set -eu
rm -rf "$3"
if ! "$1" "$2"; then
  rm -rf "$3"
  echo "doxygen failed: document what the lines above name (doc/api.md has the rules)" >&2
  exit 1
fi
[ -f "$3/index.html" ] || { echo "doxygen wrote no $3/index.html" >&2; exit 1; }
