#!/usr/bin/env bash
# The API reference check: doxygen over every public header (the sources'
# include/vtevents/ and the build's, i.e. version.h and the generated
# platform events) with the project's Doxyfile, warnings as errors.  Any
# warning fails the test and is printed: an undocumented declaration, a
# parameter without @param, a return value without @returns, a malformed
# command.  Then check_threads.py requires a @remark naming the thread(s) on
# every function.  Skipped (77) only when doxygen is not installed
# (./run deps installs it).
# Usage: test_docs.sh DOXYFILE CHECK_THREADS_PY [PYTHON]
set -euo pipefail
doxyfile=$1 check_threads=$2 python=${3:-python3}
if ! command -v doxygen >/dev/null 2>&1; then
  echo "SKIP: doxygen is not installed (./run deps installs it)"
  exit 77
fi
tmp=$(mktemp -d /tmp/vtev-docs-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The project's settings, with the output in a scratch directory, the
# warnings in a file, and XML for the thread check (later lines win).
{
  cat "$doxyfile"
  echo "OUTPUT_DIRECTORY = \"$tmp/out\""
  echo "WARN_LOGFILE = \"$tmp/warnings.log\""
  echo "WARN_AS_ERROR = FAIL_ON_WARNINGS"
  echo "GENERATE_XML = YES"
} >"$tmp/Doxyfile"
mkdir -p "$tmp/out"
rc=0
doxygen "$tmp/Doxyfile" >"$tmp/doxygen.out" 2>&1 || rc=$?
fails=0
if [ -s "$tmp/warnings.log" ]; then
  echo "FAIL: doxygen warnings ($(grep -c ': \(warning\|error\): ' "$tmp/warnings.log" || true)):"
  cat "$tmp/warnings.log"
  fails=$((fails + 1))
fi
if [ "$rc" -ne 0 ]; then
  echo "FAIL: doxygen exited with $rc"
  cat "$tmp/doxygen.out"
  fails=$((fails + 1))
fi
if [ ! -f "$tmp/out/html/index.html" ]; then
  echo "FAIL: no HTML reference was written"
  fails=$((fails + 1))
fi
if [ -d "$tmp/out/xml" ]; then
  "$python" "$check_threads" "$tmp/out/xml" || fails=$((fails + 1))
else
  echo "FAIL: no XML output for the thread check"
  fails=$((fails + 1))
fi
if [ "$fails" -ne 0 ]; then echo "0 passed, $fails failed"; exit 1; fi
echo "1 passed, 0 failed"
