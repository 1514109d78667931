#!/bin/sh
# Runs a test script of tests/ with the project's Python ($VTEV_PYTHON: the
# .venv where ./run pydeps puts Selenium and websockets): vtpy.sh SCRIPT ARGS...
script=$1
shift
exec "${VTEV_PYTHON:-python3}" "$(dirname "$0")/$script" "$@"
