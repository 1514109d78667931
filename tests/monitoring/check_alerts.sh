#!/usr/bin/env bash
# The alert_rules unit test: doc/monitoring/alerts.yml parses
# (promtool check rules) and its unit-test series give the expected alerts
# (promtool test rules doc/monitoring/alerts_test.yml).
# Usage: check_alerts.sh DOC_MONITORING_DIR
set -uo pipefail
dir=$1
if ! command -v promtool >/dev/null 2>&1; then
  if [ "${VTEV_ALLOW_SKIP:-}" = 1 ]; then
    echo "SKIP: promtool not found (Debian package prometheus; ./run deps installs it)"
    exit 77
  fi
  echo "FAIL: promtool not found (Debian package prometheus; ./run deps installs it)"
  exit 1
fi
cd "$dir" || exit 1
promtool check rules alerts.yml || exit 1
promtool test rules alerts_test.yml || exit 1
