#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run-tests.sh - the README's second command: install, build, run every
# test (unit suites, pcap replays, namespace lab, end-to-end, fault and
# attack tests, the clients in other languages), then the same suites
# again built with AddressSanitizer and UndefinedBehaviorSanitizer
# (build-asan/, any report fails) but for suite 'clients' (Elixir, Node,
# the browser: no C of theirs to sanitize) and suite 'system' (packages,
# the unit file, Prometheus, the Python and Lua tools, the HA phases:
# tests/meson.build says why), then a short bounded fuzz
# session (tools/fuzz.sh). Exit 0 only if all pass.
#
#   --noisy     run beside one busy-loop process per CPU (started and
#               stopped here): the verdicts must not depend on speed
#   --repeat N  run the whole suite N times in a row, stop at a failure
#   --quick     the release build's suites only (no sanitizers, no fuzzing)
#   --fuzz-time S  seconds of fuzzing [60]
#   --help
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
noisy=0 repeat=1 quick=0 fuzz_time=60
while [ $# -gt 0 ]; do
	case $1 in
	--noisy) noisy=1 ;;
	--repeat) repeat=${2:?--repeat N}; shift ;;
	--quick) quick=1 ;;
	--fuzz-time) fuzz_time=${2:?--fuzz-time S}; shift ;;
	-h|--help) sed -n '/^# run-tests.sh/,/^#   --help/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "run-tests: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $repeat in ''|*[!0-9]*|0) echo "run-tests: --repeat takes a count >= 1" >&2; exit 2 ;; esac

"$top/tools/install-deps.sh"
"$top/tools/build.sh"

noise=()
stop_noise() {
	if [ ${#noise[@]} -gt 0 ]; then
		kill "${noise[@]}" 2>/dev/null || true
		wait "${noise[@]}" 2>/dev/null || true
	fi
	noise=()
}
trap 'st=$?; stop_noise; exit $st' EXIT
if [ "$noisy" = 1 ]; then
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		# bounded like every loop here: 4 hours at the most
		taskset -c "$cpu" timeout 14400 bash -c 'while :; do :; done' &
		noise+=($!)
	done
	echo "run-tests: ${#noise[@]} busy-loop processes compete for the CPUs"
fi

case $fuzz_time in ''|*[!0-9]*) echo "run-tests: --fuzz-time takes seconds" >&2; exit 2 ;; esac

# suites BUILD_DIR WHAT [MESON TEST OPTIONS]: meson test there, one
# plain closing line
suites() {
	local dir=$1 what=$2 rc=0 log passed failed
	shift 2
	meson test -C "$dir" --print-errorlogs "$@" || rc=$?
	log="$dir/meson-logs/testlog.json"
	if [ -f "$log" ]; then
		passed=$(grep -c '"result": "OK"' "$log" || true)
		failed=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\)"' "$log" || true)
		echo "run-tests: $what: $passed passed, $failed failed"
	fi
	return $rc
}

rc=0
for round in $(seq 1 "$repeat"); do
	[ "$repeat" = 1 ] || echo "run-tests: round $round of $repeat"
	suites "$top/build" "release build" || rc=$?
	[ "$rc" = 0 ] || break
	[ "$quick" = 0 ] || continue
	"$top/tools/build.sh" --sanitize
	suites "$top/build-asan" "ASan+UBSan build" --no-suite clients --no-suite system || rc=$?
	[ "$rc" = 0 ] || break
	if [ -x "$top/tools/fuzz.sh" ]; then
		"$top/tools/fuzz.sh" --time "$fuzz_time" || rc=$?
		[ "$rc" = 0 ] || { echo "run-tests: the fuzz session failed"; break; }
	fi
done
exit $rc
