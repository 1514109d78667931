#!/bin/sh
# Runs a test script of tests/ with the project's Python ($VTEV_PYTHON, else
# the source tree's .venv, where ./run pydeps puts Selenium and websockets):
#   vtpy.sh SCRIPT ARGS...
here=$(dirname "$0")
script=$1
shift
py=${VTEV_PYTHON:-}
[ -n "$py" ] || { [ -x "$here/../.venv/bin/python" ] && py=$here/../.venv/bin/python; } || py=python3
exec "$py" "$here/$script" "$@"
