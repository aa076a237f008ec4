#!/usr/bin/env bash
# run-tests.sh - the README's second command: install, build, run every
# test (unit suites, pcap replay, namespace lab). Exit 0 only if all pass.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/install-deps.sh"
"$top/tools/build.sh"
rc=0
meson test -C "$top/build" --print-errorlogs || rc=$?
# One plain closing line for whoever reads the log.
log="$top/build/meson-logs/testlog.json"
if [ -f "$log" ]; then
	passed=$(grep -c '"result": "OK"' "$log" || true)
	failed=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\)"' "$log" || true)
	echo "$passed passed, $failed failed"
fi
exit $rc
