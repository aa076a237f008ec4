#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# fuzz.sh - build the libFuzzer harness (tests/fuzz/, clang with ASan and
# UBSan) in its own build directory and run it for a bounded time: first
# every saved reproducer (tests/fuzz/regressions/), then the fuzzer from
# the seed corpus (tests/fuzz/corpus/) plus what earlier runs found.
# One fuzzer process at a time.  Prints executions, exec/s, coverage
# (libFuzzer's cov: edges, ft: features) and the corpus size.
#
#   --time S        fuzz for S seconds (libFuzzer -max_total_time)   [60]
#   --build-dir D   the fuzz build directory                [build-fuzz]
#   --fresh         start from the seed corpus only (forget what
#                   earlier runs in D found)
#   --replay        only replay the seeds, the regressions and what earlier
#                   runs found, once each (no fuzzing)
#   --build-only    build the harness and stop (tools/run-tests.sh builds
#                   it while the release suites run)
#   --report        then a source line-coverage report of that corpus
#                   over dataplane/ and proto/ (a second, profiling build:
#                   D/cov; llvm-cov)
#   --help
#
# Exit 0: no crash, sanitizer report, leak, timeout or invariant
# violation; 1: a finding (the input that shows it is saved in
# D/artifacts/; minimise it with `D/tests/fuzz/hc-fuzz -minimize_crash=1
# -runs=10000 FILE`); 2: usage, build or environment error.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=60 bdir= fresh=0 replay=0 report=0 build_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--time) secs=${2:?--time SECONDS}; shift ;;
	--build-dir) bdir=${2:?--build-dir DIR}; shift ;;
	--fresh) fresh=1 ;;
	--replay) replay=1 ;;
	--report) report=1 ;;
	--build-only) build_only=1 ;;
	-h|--help) sed -n '/^# fuzz.sh/,/^#   --help/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "fuzz: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $secs in ''|*[!0-9]*|0) echo "fuzz: --time takes seconds >= 1" >&2; exit 2 ;; esac
bdir=${bdir:-$top/build-fuzz}
case $bdir in /*) ;; *) bdir=$PWD/$bdir ;; esac

command -v clang >/dev/null || { echo "fuzz: needs clang (and libclang-rt-dev for libFuzzer)" >&2; exit 2; }

# configure once: clang, ASan + UBSan, the harness on
setup() { # dir, extra meson args...
	local d=$1; shift
	if [ ! -f "$d/build.ninja" ]; then
		mkdir -p "$d"
		# (LLVM_PROFILE_FILE: meson runs test programs, which may write profiles)
		CC=clang LLVM_PROFILE_FILE="$d/meson-%p.profraw" \
			meson setup "$d" "$top" -Dfuzz=true -Dtests=false -Db_lundef=false \
			--buildtype=debugoptimized "$@" >"$d/fuzz-setup.log" 2>&1 ||
			{ cat "$d/fuzz-setup.log" >&2; echo "fuzz: meson setup $d failed" >&2; exit 2; }
	fi
	ninja -C "$d" tests/fuzz/hc-fuzz >"$d/fuzz-build.log" 2>&1 ||
		{ tail -40 "$d/fuzz-build.log" >&2; echo "fuzz: build in $d failed" >&2; exit 2; }
}
setup "$bdir" -Db_sanitize=address,undefined
[ "$build_only" = 0 ] || { echo "fuzz: built $bdir/tests/fuzz/hc-fuzz"; exit 0; }
fuzzer=$bdir/tests/fuzz/hc-fuzz
work=$bdir/fuzz-corpus
arts=$bdir/artifacts
[ "$fresh" = 1 ] && rm -rf "$work"
mkdir -p "$work" "$arts"

# known bugs, reported and not yet fixed: the harness stops an input that
# shows one (unkept) instead of failing, so a run looks for other bugs
known=$top/tests/fuzz/known-bugs
if [ -z "${HC_FUZZ_TOLERATE+x}" ] && [ -f "$known" ]; then
	HC_FUZZ_TOLERATE=$(sed 's/#.*//' "$known" | tr -s ' \t\n' ',' | sed 's/^,//; s/,$//')
fi
export HC_FUZZ_TOLERATE=${HC_FUZZ_TOLERATE:-}
[ -n "$HC_FUZZ_TOLERATE" ] && echo "fuzz: tolerating known bugs: $HC_FUZZ_TOLERATE"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
common=(-rss_limit_mb=2048 -timeout=20 -max_len=4096 -artifact_prefix="$arts/")

finding() { # log
	echo "fuzz: FINDING: see $1 and $arts/" >&2
	grep -E 'INVARIANT VIOLATED|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY|Test unit written' "$1" | head -20 >&2 || true
	# the reproducer itself, in the log: a CI root (or a fresh one) may be
	# gone before anyone reads $arts (at most -max_len 4096 bytes)
	local a
	for a in $(sed -n 's/.*Test unit written to //p' "$1" | head -3); do
		[ -f "$a" ] || continue
		echo "fuzz: reproducer $(basename "$a") (base64; decode it with base64 -d," \
			"replay it with tools/fuzz.sh's hc-fuzz FILE):" >&2
		base64 -w 76 "$a" >&2
	done
	exit 1
}

# 1. every saved reproducer once: a bug fixed stays fixed
regs=$top/tests/fuzz/regressions
if compgen -G "$regs/*" >/dev/null; then
	log=$bdir/fuzz-regressions.log
	timeout 600 "$fuzzer" "${common[@]}" -runs=0 "$regs" >"$log" 2>&1 || finding "$log"
	echo "fuzz: $(find "$regs" -type f | wc -l) regression inputs pass"
fi

# 2. fuzz (or replay only), bounded in time twice over
log=$bdir/fuzz.log
if [ "$replay" = 1 ]; then
	timeout 1200 "$fuzzer" "${common[@]}" -runs=0 "$work" "$top/tests/fuzz/corpus" >"$log" 2>&1 ||
		finding "$log"
else
	echo "fuzz: fuzzing for $secs s (log: $log)"
	timeout $((secs + 300)) "$fuzzer" "${common[@]}" -max_total_time="$secs" -print_final_stats=1 \
		"$work" "$top/tests/fuzz/corpus" >"$log" 2>&1 || finding "$log"
fi
last=$(grep -E '^#[0-9]+' "$log" | tail -1)
final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
if [ "$replay" = 1 ]; then
	echo "fuzz: replayed $(find "$work" "$top/tests/fuzz/corpus" -type f | wc -l) inputs: cov $cov ft $ft corpus $corp"
else
	echo "fuzz: $(final_stat number_of_executed_units) executions in $secs s," \
		"$(final_stat average_exec_per_sec) exec/s; cov $cov ft $ft; corpus $corp;" \
		"new units $(final_stat new_units_added); peak RSS $(final_stat peak_rss_mb) MB"
fi

# 3. optionally: which lines of the dataplane the corpus reaches
if [ "$report" = 1 ]; then
	command -v llvm-profdata-14 >/dev/null || command -v llvm-profdata >/dev/null ||
		{ echo "fuzz: --report needs llvm-profdata / llvm-cov" >&2; exit 2; }
	prof=$(command -v llvm-profdata-14 || command -v llvm-profdata)
	lcov=$(command -v llvm-cov-14 || command -v llvm-cov)
	cdir=$bdir/cov # (a build directory inside the other: ignored with it)
	setup "$cdir" -Db_sanitize=none \
		-Dc_args='-fprofile-instr-generate -fcoverage-mapping' \
		-Dc_link_args='-fprofile-instr-generate'
	rm -f "$cdir"/hc-fuzz-*.profraw
	LLVM_PROFILE_FILE="$cdir/hc-fuzz-%p.profraw" timeout 1200 "$cdir/tests/fuzz/hc-fuzz" \
		-runs=0 -max_len=4096 "$work" "$top/tests/fuzz/corpus" >"$cdir/replay.log" 2>&1 ||
		finding "$cdir/replay.log"
	"$prof" merge -sparse -o "$cdir/hc-fuzz.profdata" "$cdir"/hc-fuzz-*.profraw
	# dataplane/ and proto/ only; one line per file: lines and branches covered
	"$lcov" report "$cdir/tests/fuzz/hc-fuzz" -instr-profile="$cdir/hc-fuzz.profdata" \
		-ignore-filename-regex='(/usr/include|tests/|common/|app/|control/)' >"$cdir/coverage.txt"
	echo "fuzz: line and branch coverage of the corpus ($cdir/coverage.txt):"
	awk '$1 ~ /\.(c|h)$/ && $8 > 0 { f = $1; sub(/.*\/(dataplane|proto)\//, "&", f);
		n = split(f, part, "/"); f = part[n - 1] "/" part[n];
		printf "  %-30s lines %5d/%-5d %7s   branches %7s\n", f, $8 - $9, $8, $10, $13 }
		$1 == "TOTAL" { printf "  %-30s lines %5d/%-5d %7s   branches %7s\n", "total", \
		$8 - $9, $8, $10, $13 }' "$cdir/coverage.txt"
fi
exit 0
