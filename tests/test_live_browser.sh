#!/bin/sh
# The live map in a real browser (tests/test_live_browser.py) with the
# project's Python ($VTEV_PYTHON: .venv, where ./run pydeps puts Selenium).
exec "${VTEV_PYTHON:-python3}" "$(dirname "$0")/test_live_browser.py" "$@"
