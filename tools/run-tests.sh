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
# The sanitizer build and the fuzz harness's build run at nice 19 while
# the release suites run (the tests mostly wait on namespaces, packages
# and clients: the compilers take the idle CPU); the sanitizer pass waits
# for them.  Each stage's wall time is printed ("run-tests: time ...").
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

# Debian's programs first, as on the fresh Debian 12 CI runs on: a
# development box's interpreter shims (pyenv's python3 here) take up to
# seconds to start under load, and the tests start python3 (telemetry
# reads) thousands of times; every Python tool here needs only the
# standard library of Debian's python3
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
# stage NAME START: one line with the wall time since START (date +%s)
stage() { echo "run-tests: time $1: $(($(date +%s) - $2)) s"; }
t0=$(date +%s)
"$top/tools/install-deps.sh"
stage "install-deps" "$t0"
t=$(date +%s)
"$top/tools/build.sh"
stage "release build" "$t"

noise=()
stop_noise() {
	if [ ${#noise[@]} -gt 0 ]; then
		kill "${noise[@]}" 2>/dev/null || true
		wait "${noise[@]}" 2>/dev/null || true
	fi
	noise=()
}
# the background builds: their own process group (setsid), so an early
# exit ends ninja and the compilers too
bg="" bg_log="" bg_rc=""
stop_bg() {
	if [ -n "$bg" ]; then
		kill -TERM -- "-$bg" 2>/dev/null || true
		wait "$bg" 2>/dev/null || true
	fi
	bg=""
	[ -z "$bg_log" ] || rm -f "$bg_log"
}
trap 'st=$?; stop_noise; stop_bg; exit $st' EXIT
if [ "$noisy" = 1 ]; then
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		# bounded like every loop here: 4 hours at the most
		taskset -c "$cpu" timeout 14400 bash -c 'while :; do :; done' &
		noise+=($!)
	done
	echo "run-tests: ${#noise[@]} busy-loop processes compete for the CPUs"
fi

case $fuzz_time in ''|*[!0-9]*) echo "run-tests: --fuzz-time takes seconds" >&2; exit 2 ;; esac

# the sanitizer build, then the fuzz harness's, in the background at the
# lowest priority (no ccache: every build here is a real one)
if [ "$quick" = 0 ]; then
	bg_log=$(mktemp /tmp/hc-run-tests-build.XXXXXX)
	fuzz_build=true
	[ ! -x "$top/tools/fuzz.sh" ] || fuzz_build="$top/tools/fuzz.sh --build-only"
	setsid nice -n 19 bash -c 't=$(date +%s); "$1/tools/build.sh" --sanitize &&
		echo "run-tests: time sanitizer build (background): $(($(date +%s) - t)) s" &&
		t=$(date +%s) && $2 &&
		echo "run-tests: time fuzz build (background): $(($(date +%s) - t)) s"' \
		bg-build "$top" "$fuzz_build" > "$bg_log" 2>&1 < /dev/null &
	bg=$!
	echo "run-tests: the sanitizer and fuzz builds run in the background (nice 19)"
fi
# wait_bg: wait for the background builds (once); 0 if they succeeded
wait_bg() {
	local t
	if [ -z "$bg_rc" ]; then
		t=$(date +%s)
		bg_rc=0
		wait "$bg" || bg_rc=$?
		bg=""
		stage "waiting for the background builds" "$t"
		if [ "$bg_rc" = 0 ]; then
			grep '^run-tests: time' "$bg_log" || true
		else
			cat "$bg_log"
			echo "run-tests: the sanitizer or fuzz build failed (exit $bg_rc)"
		fi
	fi
	return "$bg_rc"
}

# suites BUILD_DIR WHAT [MESON TEST OPTIONS]: meson test there, one
# plain closing line, and each skipped test with its reason (its SKIP
# line and the lines before it: a skip is loud, never a quiet pass)
suites() {
	local dir=$1 what=$2 rc=0 log passed failed skipped
	shift 2
	meson test -C "$dir" --print-errorlogs "$@" || rc=$?
	log="$dir/meson-logs/testlog.json"
	if [ -f "$log" ]; then
		passed=$(grep -c '"result": "OK"' "$log" || true)
		failed=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\)"' "$log" || true)
		skipped=$(grep -c '"result": "SKIP"' "$log" || true)
		echo "run-tests: $what: $passed passed, $failed failed, $skipped skipped"
		[ "$skipped" = 0 ] || python3 - "$log" <<'EOP'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t.get("result") != "SKIP":
        continue
    out = (t.get("stdout") or "").rstrip().splitlines() or ["(no output)"]
    at = max([i for i, l in enumerate(out) if l.startswith("SKIP")] or [len(out) - 1])
    for l in out[max(0, at - 4):at + 1]:
        print("run-tests: skipped %s: %s" % (t["name"], l[:300]))
EOP
	fi
	return $rc
}

rc=0
for round in $(seq 1 "$repeat"); do
	[ "$repeat" = 1 ] || echo "run-tests: round $round of $repeat"
	t=$(date +%s)
	suites "$top/build" "release build" || rc=$?
	stage "release suites" "$t"
	[ "$rc" = 0 ] || break
	[ "$quick" = 0 ] || continue
	wait_bg || { rc=$?; break; }
	t=$(date +%s)
	"$top/tools/build.sh" --sanitize # (up to date: the background built it)
	suites "$top/build-asan" "ASan+UBSan build" --no-suite clients --no-suite system || rc=$?
	stage "sanitizer suites" "$t"
	[ "$rc" = 0 ] || break
	if [ -x "$top/tools/fuzz.sh" ]; then
		t=$(date +%s)
		"$top/tools/fuzz.sh" --time "$fuzz_time" || rc=$?
		stage "fuzz session" "$t"
		[ "$rc" = 0 ] || { echo "run-tests: the fuzz session failed"; break; }
	fi
done
stage "total" "$t0"
exit $rc
