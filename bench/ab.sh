#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/ab.sh - two builds of hc-bench (or one build with two sets of
# options) alternated round by round on the same case, and the ratio of
# their rates: B's events/s (a directives case's directives/s) over
# A's.  The machines here change speed by up to 2x from one minute to the
# next (docs/benchmarks.md); a ratio of
# two runs a few seconds apart is what survives that, and its median over
# the rounds is what docs/benchmarks.md quotes.  A runs first in odd
# rounds and B in even ones: a round's second place was seen to favour or
# handicap its run in some phases (the same two builds 1.020 with the old
# one always first, 1.238 with the new one always first: docs/benchmarks.md,
# "The rooms' lines asked for only where they miss").  Run it alone:
# anything else running on the machine falls on one side of a round.
#
#   bench/ab.sh [options] BENCH_A BENCH_B
#     --rounds N    rounds, each A then B (default 4)
#     --case C      hc-bench's case (default batch64)
#     --users U     users (default 1000000); rooms U / 50; from 10 M users
#                   on, 8 GiB and a stream of 120 M events (the default
#                   stream would be replayed)
#     --reps K      hc-bench's --reps (default 3)
#     --a "ARGS"    more hc-bench options for A only (e.g. --no-report)
#     --b "ARGS"    and for B only
#     --both "ARGS" for both
#     --eal "ARGS"  EAL options instead of -l 0,1 --no-huge -m MEM
#                   --no-pci --no-shconf --no-telemetry
#
# Prints a line per round (round=, each side's events/s (a directives
# case's directives/s, under the same keys) and busy cycles
# an event, ratio=, first=a or b) and a last line `ab ... ratio_median=` with each
# side's median rate and the CPU model.  Exits 1 with the end of the
# run's output when a run exits non-zero (hc-bench fails a case that
# measured nothing, or another mix, after printing its line) or prints no
# case= line with a rate; 2 on a usage error.
set -euo pipefail
export LC_ALL=C # (sort -g and awk read 1.023 as a number in every locale)

rounds=4 case=batch64 users=1000000 reps=3 xa="" xb="" both="" eal=""
usage() { sed -n '/^#   bench\/ab.sh/,/^#$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
# value OPTION ARGC: an option's value must follow it
value() { [ "$2" -ge 2 ] || { echo "ab.sh: $1 needs a value" >&2; usage; }; }
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) value "$1" $#; rounds=$2; shift 2 ;;
	--case) value "$1" $#; case=$2; shift 2 ;;
	--users) value "$1" $#; users=$2; shift 2 ;;
	--reps) value "$1" $#; reps=$2; shift 2 ;;
	--a) value "$1" $#; xa=$2; shift 2 ;;
	--b) value "$1" $#; xb=$2; shift 2 ;;
	--both) value "$1" $#; both=$2; shift 2 ;;
	--eal) value "$1" $#; eal=$2; shift 2 ;;
	-h|--help) usage ;;
	--*) echo "ab.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || usage
A=$1 B=$2
for n in "$rounds" "$users" "$reps"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "ab.sh: not a count: $n" >&2; exit 2; }
done
for bin in "$A" "$B"; do
	[ -x "$bin" ] || { echo "ab.sh: $bin: not an executable" >&2; exit 2; }
done

rooms=$((users / 50 > 0 ? users / 50 : 1))
mem=4096 stream=()
if [ "$users" -ge 10000000 ]; then
	mem=8192 stream=(--stream 120000000)
fi
[ -n "$eal" ] || eal="-l 0,1 --no-huge -m $mem --no-pci --no-shconf --no-telemetry"
read -r -a eal_args <<< "$eal"
# (a file prefix of its own, unless the caller gave one)
[[ " $eal " == *" --file-prefix "* || " $eal " == *" --file-prefix="* ]] ||
	eal_args+=(--file-prefix "hcab$$")

# field NAME LINE: NAME's value in LINE
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }
# rate LINE: the case's rate: events_per_s, else (a directives case's)
# directives_per_s; one value either way
rate() {
	local r
	r=$(field events_per_s "$1")
	[ -n "$r" ] || r=$(field directives_per_s "$1")
	echo "$r"
}

# run BIN EXTRA: the case= line of one run, which must exit 0 and give a
# rate (else ab.sh exits 1)
run() {
	local bin=$1 out line extra rc=0
	read -r -a extra <<< "$both $2"
	out=$("$bin" "${eal_args[@]}" -- --users "$users" --rooms "$rooms" \
		--reps "$reps" --case "$case" ${stream[@]+"${stream[@]}"} \
		${extra[@]+"${extra[@]}"} 2>&1) || rc=$?
	line=$(awk -v c="case=$case " 'index($0, c) == 1' <<< "$out" | tail -1)
	if [ "$rc" != 0 ] || [ -z "$(rate "$line")" ]; then
		tail -20 <<< "$out" >&2
		if [ "$rc" != 0 ]; then
			echo "ab.sh: $bin exited $rc" >&2
		else
			echo "ab.sh: $bin printed no case=$case line with a rate" >&2
		fi
		exit 1
	fi
	echo "$line"
}

# median FORMAT: the median of the numbers on stdin
median() {
	sort -g | awk -v f="$1" '{v[NR] = $1}
		END {printf f, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

ra=() rb=() ratios=() cpu=""
for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) = 1 ]; then
		first=a
		la=$(run "$A" "$xa")
		lb=$(run "$B" "$xb")
	else
		first=b
		lb=$(run "$B" "$xb")
		la=$(run "$A" "$xa")
	fi
	ea=$(rate "$la") eb=$(rate "$lb")
	ratio=$(awk -v a="$ea" -v b="$eb" 'BEGIN {printf "%.3f", (a > 0 ? b / a : 0)}')
	echo "round=$r a_events_per_s=$ea a_cycles=$(field cycles_per_event "$la")" \
	     "b_events_per_s=$eb b_cycles=$(field cycles_per_event "$lb") ratio=$ratio first=$first"
	ra+=("$ea") rb+=("$eb") ratios+=("$ratio")
	cpu=$(sed -n 's/.* cpu=\("[^"]*"\).*/\1/p' <<< "$la")
done
echo "ab case=$case users=$users rounds=$rounds" \
     "a_median=$(printf '%s\n' "${ra[@]}" | median %.0f)" \
     "b_median=$(printf '%s\n' "${rb[@]}" | median %.0f)" \
     "ratio_median=$(printf '%s\n' "${ratios[@]}" | median %.3f) cpu=$cpu"
