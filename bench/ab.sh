#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/ab.sh - two builds of hc-bench (or one build with two sets of
# options) alternated round by round on the same case, and the ratio of
# their rates: B's events/s over A's.  The machines here change speed by
# up to 2x from one minute to the next (docs/benchmarks.md); a ratio of
# two runs a few seconds apart is what survives that, and its median over
# the rounds is what docs/benchmarks.md quotes.  Run it alone: anything
# else running on the machine falls on one side of a round.
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
# Prints a line per round (round=, each side's events/s and busy cycles
# an event, ratio=) and a last line `ab ... ratio_median=` with each
# side's median rate and the CPU model.  Exits 1 with the run's output
# when a run prints no case= line (it failed, or measured nothing: hc-bench
# then fails itself), 2 on a usage error.
set -euo pipefail

rounds=4 case=batch64 users=1000000 reps=3 xa="" xb="" both="" eal=""
usage() { sed -n '/^#   bench\/ab.sh/,/^#$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2:?}; shift 2 ;;
	--case) case=${2:?}; shift 2 ;;
	--users) users=${2:?}; shift 2 ;;
	--reps) reps=${2:?}; shift 2 ;;
	--a) xa=${2?}; shift 2 ;;
	--b) xb=${2?}; shift 2 ;;
	--both) both=${2?}; shift 2 ;;
	--eal) eal=${2?}; shift 2 ;;
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
[[ " $eal " == *" --file-prefix "* ]] || eal_args+=(--file-prefix "hcab$$")

# field NAME LINE: NAME's value in LINE
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }

# run BIN EXTRA: the case= line of one run (exits on none)
run() {
	local bin=$1 out line extra
	read -r -a extra <<< "$both $2"
	out=$("$bin" "${eal_args[@]}" -- --users "$users" --rooms "$rooms" \
		--reps "$reps" --case "$case" ${stream[@]+"${stream[@]}"} \
		${extra[@]+"${extra[@]}"} 2>&1) || true
	line=$(grep "^case=$case " <<< "$out" | tail -1) || true
	if [ -z "$line" ]; then
		tail -20 <<< "$out" >&2
		echo "ab.sh: $bin printed no case=$case line" >&2
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
	la=$(run "$A" "$xa")
	lb=$(run "$B" "$xb")
	ea=$(field events_per_s "$la") eb=$(field events_per_s "$lb")
	ratio=$(awk -v a="$ea" -v b="$eb" 'BEGIN {printf "%.3f", (a > 0 ? b / a : 0)}')
	echo "round=$r a_events_per_s=$ea a_cycles=$(field cycles_per_event "$la")" \
	     "b_events_per_s=$eb b_cycles=$(field cycles_per_event "$lb") ratio=$ratio"
	ra+=("$ea") rb+=("$eb") ratios+=("$ratio")
	cpu=$(sed -n 's/.* cpu=\("[^"]*"\).*/\1/p' <<< "$la")
done
echo "ab case=$case users=$users rounds=$rounds" \
     "a_median=$(printf '%s\n' "${ra[@]}" | median %.0f)" \
     "b_median=$(printf '%s\n' "${rb[@]}" | median %.0f)" \
     "ratio_median=$(printf '%s\n' "${ratios[@]}" | median %.3f) cpu=$cpu"
