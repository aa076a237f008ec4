#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - headcount beside Redis, one command: starts a private
# redis-server (a unix socket in a temporary directory, no persistence,
# pinned to the second CPU the script may run on; stopped at the end), then alternates, --reps times,
# hc-bench (one worker core, admission on, and the appliance's own
# control core on the other: --control) and hc-bench-redis (the same
# users, rooms, warm-up and event stream through membership.lua, the client
# on the first) for batch64 and batch1, one window each per turn, so that noise
# hits both (headcount first in odd turns, Redis first in even ones: a
# turn's second place was seen to favour or handicap its run).  The same events: one stream length for both (the generator's
# draws follow from it), Redis settles on hc-bench's settle and times
# hc-bench's window, and each turn's applied mix (joins, moves, leaves,
# no-ops) and end state (users in rooms, digests of every room's count
# and of every user's room, hc_state_digest.h) must be the same in both, with no JOIN
# refused by either (each
# clamps rooms at 100 by default; hc-bench fails a case in which its
# control core refused one, and its stand-in admits every one).  Every
# Redis run must pass its exact state check.  Prints one line per case
# with the medians and the ratio:
#
#   case=batch64 headcount_events_per_s=... redis_events_per_s=... ratio=...
#     (the appliance, its worker and its control core on two lcores,
#     against redis-server's one thread: events/s against events/s)
#     ratio_per_busy_core=... (the same per core busy: headcount's events/s
#     over 1 + its control core's busy share, against Redis's over
#     redis_busy) redis_busy=... (redis-server's CPU time over the
#     window's, INFO cpu: how much of its core it used)
#     headcount_cycles_per_event=... (the worker's busy TSC cycles)
#     redis_cycles_per_event=... (TSC cycles a Redis event over the
#     window's whole time, redis-server's idle time included)
#     redis_busy_cycles_per_event=... (the same times redis_busy: over
#     its busy time, as headcount's are counted)
#     headcount_xcore_rtt_ns=... (how far apart the host put hc-bench's
#     two lcores: a cache line's round trip, hc-bench's xcore_rtt_ns)
#     headcount_frames=memory (hc-bench's frames=: where its worker read
#     the frames, as a NIC's DMA leaves them)
#     headcount_control=real|stand-in, and with real
#     headcount_control_busy=... (the median share of the window the
#     control core was busy) ...
#     cpu="..." tsc_hz=...
#
# Builds nothing: the programs come from the build directory.
#
#   --build DIR    the build directory [./build]
#   --users N      users [1000000]
#   --rooms N      rooms [20000]
#   --reps N       turns; each figure is the median of N windows [5]
#   --max N        a room's most members for Redis (the policy's default
#                  max, which the real control core keeps whatever this
#                  says; a run where either refuses a JOIN fails) [100]
#   --pipeline N   EVALSHA calls in flight [32]
#   --hc-chunks N  the window, both programs', in chunks of 8,192 datagrams
#                  [hc-bench's defaults: 8 for batch64, 32 for batch1]
#   --control C    hc-bench's control core: real (the appliance's own,
#                  hc_decide_poll: its seat book clamps rooms at the
#                  policy's max, 100, as Redis does at --max) or stand-in
#                  (hc-bench's, which grants every seat: the worker alone)
#                  [real; real takes at most 60 users a room]
#   --stream N     events in the stream, both programs' [each case's
#                  settle and window, and a quarter more]; e.g. 120000000
#                  at 10 M users, as docs/benchmarks.md's 10 M figures
#                  (hc-bench gets 8 GiB from 2 M users on, else 3 GiB)
#   --help
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=./build users=1000000 rooms=20000 reps=5 max=100 pipeline=32 chunks= control=real
stream_given=
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=${2:?--build DIR}; shift ;;
	--users) users=${2:?--users N}; shift ;;
	--rooms) rooms=${2:?--rooms N}; shift ;;
	--reps) reps=${2:?--reps N}; shift ;;
	--max) max=${2:?--max N}; shift ;;
	--pipeline) pipeline=${2:?--pipeline N}; shift ;;
	--hc-chunks) chunks=${2:?--hc-chunks N}; shift ;;
	--control) control=${2:?--control real|stand-in}; shift ;;
	--stream) stream_given=${2:?--stream N}; shift ;;
	-h|--help) sed -n '/^# run.sh/,/^#   --help/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for v in "$users" "$rooms" "$reps" "$max" "$pipeline" ${chunks:+"$chunks"} ${stream_given:+"$stream_given"}; do
	case $v in ''|*[!0-9]*) echo "run.sh: numbers only (see --help)" >&2; exit 2 ;; esac
done
[ "$reps" -ge 1 ] && [ "$reps" -le 99 ] || { echo "run.sh: --reps 1..99" >&2; exit 2; }
case $control in real|stand-in) ;; *) echo "run.sh: --control real|stand-in" >&2; exit 2 ;; esac
# (hc-bench's own rule, said before Redis starts: at max the real control
# core would refuse JOINs)
[ "$control" = stand-in ] || [ "$users" -le $((rooms * 60)) ] || {
	echo "run.sh: --control real takes at most 60 users a room: --users $users needs" \
		"--rooms $(((users + 59) / 60)) or more (or --control stand-in); at a few" \
		"thousand users far more: movers count in both rooms for a round trip" >&2; exit 2; }
hcb=$build/bench/hc-bench rdb=$build/bench/peers/hc-bench-redis
for p in "$hcb" "$rdb"; do
	[ -x "$p" ] || { echo "run.sh: $p missing: build first (ninja -C $build)" >&2; exit 2; }
done
command -v redis-server > /dev/null || { echo "run.sh: no redis-server (tools/install-deps.sh)" >&2; exit 2; }
# two CPUs this may run on (its affinity: a cpuset may leave out CPU 0)
read -r -a cpus <<< "$(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')" || true
[ "${#cpus[@]}" -ge 2 ] || { echo "run.sh: needs two CPUs" >&2; exit 2; }

tmp=$(mktemp -d /tmp/hc-peers.XXXXXX)
redis_pid=
cleanup() {
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
sock=$tmp/redis.sock
taskset -c "${cpus[1]}" redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$tmp" --logfile "$tmp/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 1 600); do # 60 s at the most (a busy host)
	kill -0 "$redis_pid" 2> /dev/null || break
	[ -S "$sock" ] && redis-cli -s "$sock" ping 2> /dev/null | grep -q PONG && break
	sleep 0.1
done
redis-cli -s "$sock" ping 2> /dev/null | grep -q PONG ||
	{ echo "run.sh: redis-server did not start:" >&2; cat "$tmp/redis.log" >&2; exit 1; }

# field NAME LINE: the value of NAME=... in a case line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }
# mix OUTPUT: the applied mix of its one window ("joins N %, ... no-ops N %")
mix() { grep -o 'joins [0-9]* %, moves [0-9]* %, leaves [0-9]* %, no-ops [0-9]* %' <<< "$1"; }
# the events of case $1 (batch64|batch1): k a datagram, hc-bench's chunks
# a window and 2 (or fewer) to settle, the stream for both
events_of() {
	local k=64 c=8
	[ "$1" = batch1 ] && k=1 c=32
	c=${chunks:-$c}
	win=$((c * 8192 * k)) settle=$(((c < 2 ? c : 2) * 8192 * k))
	stream=${stream_given:-$(((settle + win) + (settle + win) / 4 + 65536))}
}
declare -A hc hcc rd rdc rdbc hrt hcb_busy rdb_busy
mem=3072
[ "$users" -lt 2000000 ] || mem=8192
cpu= tsc= frames=
# one side's run of case c at the turn's sizes: its output in hc_out or
# rd_out (a failed run ends the comparison)
run_hc() {
	hc_out=$("$hcb" -l "${cpus[0]},${cpus[1]}" --no-huge -m "$mem" --no-pci --no-shconf --no-telemetry \
		--file-prefix "hcpeers$$" --log-level=lib.eal:warning -- \
		--users "$users" --rooms "$rooms" --reps 1 --case "$1" --stream "$stream" \
		--control "$control" ${chunks:+--chunks "$chunks"} 2>&1) ||
		{ echo "$hc_out" >&2; echo "run.sh: hc-bench failed" >&2; exit 1; }
}
run_rd() {
	rd_out=$(taskset -c "${cpus[0]}" "$rdb" --socket "$sock" --script "$here/membership.lua" \
		--users "$users" --rooms "$rooms" --max "$max" --pipeline "$pipeline" \
		--settle "$settle" --events "$win" --stream "$stream" --reps 1 --case "$1" 2>&1) ||
		{ echo "$rd_out" >&2; echo "run.sh: hc-bench-redis failed" >&2; exit 1; }
}
for rep in $(seq 1 "$reps"); do
	for c in batch64 batch1; do
		events_of "$c"
		# headcount first in odd turns, Redis first in even ones: a
		# turn's second place was seen to favour or handicap its run
		# (bench/ab.sh alternates for the same reason)
		if [ $((rep % 2)) = 1 ]; then run_hc "$c"; run_rd "$c"; else run_rd "$c"; run_hc "$c"; fi
		out=$hc_out
		hc_mix=$(mix "$out")
		hc_state=$(grep "^state case=$c " <<< "$out") ||
			{ echo "$out" >&2; echo "run.sh: hc-bench printed no end state" >&2; exit 1; }
		line=$(grep "^case=$c " <<< "$out") || { echo "$out" >&2; exit 1; }
		hc[$c]+=" $(field events_per_s "$line")"
		hcc[$c]+=" $(field cycles_per_event "$line")"
		rtt=$(field xcore_rtt_ns "$line")
		hrt[$c]+=" $rtt"
		[ "$(field control "$line")" = "$control" ] ||
			{ echo "$out" >&2; echo "run.sh: hc-bench ran another control core" >&2; exit 1; }
		if [ "$control" = real ]; then
			b=$(field control_busy "$line")
			[ -n "$b" ] || { echo "$out" >&2; echo "run.sh: no control_busy" >&2; exit 1; }
			hcb_busy[$c]+=" $b"
		fi
		cpu=$(sed -n 's/.* cpu="\([^"]*\)".*/\1/p' <<< "$line")
		tsc=$(field tsc_hz "$line")
		frames=$(field frames "$line")
		out=$rd_out
		grep "^redis_check=ok " <<< "$out" ||
			{ echo "$out" >&2; echo "run.sh: the Redis state check failed" >&2; exit 1; }
		line=$(grep "^case=$c " <<< "$out") || { echo "$out" >&2; exit 1; }
		[ "$(field refused "$line")" = 0 ] || { echo "$out" >&2; echo "run.sh: Redis refused" \
			"$(field refused "$line") JOINs into full rooms (--max $max), hc-bench admitted every one:" \
			"not the same work; give more rooms or a larger --max" >&2; exit 1; }
		[ -n "$hc_mix" ] && [ "$(mix "$out")" = "$hc_mix" ] || { echo "$out" >&2
			echo "run.sh: the applied mixes differ: headcount ($hc_mix), Redis ($(mix "$out"))" >&2
			exit 1; }
		# the same end state, room by room and user by user (users in
		# rooms, digests of every room's count and every user's room:
		# Redis's are its model's, which its check holds to Redis)
		rd_state=$(grep "^state case=$c " <<< "$out") ||
			{ echo "$out" >&2; echo "run.sh: hc-bench-redis printed no end state" >&2; exit 1; }
		[ "$rd_state" = "$hc_state" ] || { echo "$out" >&2
			echo "run.sh: the end states differ: headcount ($hc_state), Redis ($rd_state)" >&2
			exit 1; }
		rd[$c]+=" $(field redis_events_per_s "$line")"
		rdc[$c]+=" $(field redis_cycles_per_event "$line")"
		rdbc[$c]+=" $(awk -v c="$(field redis_cycles_per_event "$line")" \
			-v b="$(field redis_busy "$line")" 'BEGIN {printf "%.1f", c * b}')"
		rdb_busy[$c]+=" $(field redis_busy "$line")"
		echo "run.sh: turn $rep $c: headcount ${hc[$c]##* } redis ${rd[$c]##* } events/s" \
			"(headcount's lcores $rtt ns apart, round trip; $([ $((rep % 2)) = 1 ] &&
			echo headcount || echo Redis) first)"
	done
done
median() { tr ' ' '\n' <<< "$1" | grep . | sort -g |
	awk -v f="${2:-%.0f}" '{v[NR] = $1} END {printf f "\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for c in batch64 batch1; do
	h=$(median "${hc[$c]}") r=$(median "${rd[$c]}") cyc=$(median "${hcc[$c]}" %.1f)
	rcyc=$(median "${rdc[$c]}" %.1f)
	rt=$(median "${hrt[$c]}")
	busy= hb=0
	if [ "$control" != stand-in ]; then
		hb=$(median "${hcb_busy[$c]}" %.2f)
		busy=" headcount_control_busy=$hb"
	fi
	rb=$(median "${rdb_busy[$c]}" %.2f)
	# a side that measured nothing, or Redis's CPU time unread: no ratio
	awk -v r="$r" -v rb="$rb" 'BEGIN {exit !(r > 0 && rb > 0)}' || {
		echo "run.sh: $c: Redis's rate ($r) or its busy share ($rb) is not above 0: no ratio" >&2
		exit 1; }
	ratio=$(awk -v h="$h" -v r="$r" 'BEGIN {printf (h / r >= 100 ? "%.0f" : "%.2f"), h / r}')
	# per busy core: headcount's worker (the window's whole time) and its
	# control core's busy share, against redis-server's busy share
	per_core=$(awk -v h="$h" -v r="$r" -v hb="$hb" -v rb="$rb" 'BEGIN {
		printf "%.2f", (h / (1 + hb)) / (r / rb) }')
	# Redis's cycles an event counted over its busy time only, as
	# headcount's are (redis_cycles_per_event counts the window's whole
	# time, idle included): each turn's, then their median
	rbcyc=$(median "${rdbc[$c]}" %.1f)
	echo "case=$c headcount_events_per_s=$h redis_events_per_s=$r ratio=$ratio" \
		"ratio_per_busy_core=$per_core redis_busy=$rb" \
		"headcount_cycles_per_event=$cyc redis_cycles_per_event=$rcyc" \
		"redis_busy_cycles_per_event=$rbcyc" \
		"headcount_xcore_rtt_ns=$rt" \
		"headcount_frames=$frames headcount_control=$control$busy users=$users" \
		"rooms=$rooms reps=$reps redis_max=$max pipeline=$pipeline redis=$(redis-server --version |
		sed -n 's/.*v=\([^ ]*\).*/\1/p') cpu=\"$cpu\" tsc_hz=$tsc"
done
