#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench_smoke.sh - the bench-smoke test: hc-bench runs every case to its
# end and says what it ran.  The event and snapshot cases at 1,000 users
# and 50 rooms; the directives cases at their fixed 10 M directives (they
# take no size).  It asserts what is true at any speed, never a speed:
#   1. a run of every case (batch64, batch1, picks, snapshot, directives
#      and its two seat cases) exits 0 with one case= line each, a rate > 0
#      (picks: a scan time and users picked, every ask answered), the
#      CPU model and the TSC frequency, and the directives cases lost=0
#      and not_completed=0; at 50 rooms, fewer than the snapshot case's
#      1,000 (its members once landed past max_rooms: bad records, and the
#      case never completed);
#   2. with --rx-csum-offload --frames-cached --burst 16 --stages
#      --pick-memo 100 every case still completes, and the event and
#      snapshot lines are labelled rx_csum=offload frames=cache, the event
#      lines burst=16, pick_memo=100 (the worker's pick memo still holds
#      its 100 records at the end: none taken, none expired) and stages=1
#      with each of the apply's three stages above 0
#      cycles an event and the rest of the busy cycles not below 0 (the
#      stages are timed inside the worker's busy loops) (without them:
#      software and, on x86, memory, the appliance's default burst, as
#      `headcount --config-doc` says, pick_memo=0, and no stage figures;
#      --pick-memo 4097, above the memo's size, exits 2; the labels
#      only: the worker counts no checksum it skips, and where a frame
#      was read from is not counted);
#   3. a case that is not one exits 2 and names the cases (the first
#      three of them checked);
#   4. a stream shorter than the run takes (--stream 4096: replayed, so
#      its leaves and joins turn into no-ops, another mix) fails the
#      event cases with a message and exit 1; the default stream, which
#      the runs above used, fits;
#   5. bench/ab.sh: against two stand-ins for hc-bench whose rates are
#      known (4 rounds: A 100 200 300 400, B 110 180 390 400 events/s),
#      exactly those rates and ratios in its round lines and the medians
#      of an even count in its last line (a 250, b 285, ratio 1.050), the
#      sides run A B, B A, A B, B A (first=a, b, a, b in the lines), the
#      other case's line the stand-ins print ignored, A's option (--a
#      --no-report) given to A alone; a B that exits non-zero after its
#      line, or prints no rate, fails it (exit 1, naming B); a directives
#      case's directives_per_s is its rate, and a line with both rates
#      gives its events_per_s alone (2 rounds: 1.500 and 1.000, medians
#      200, 225 and 1.250); an option
#      without its value, or unknown, exits 2; and once with hc-bench
#      itself, A with --no-report: two round lines with rates above 0.
#   6. hc-bench-memo (the pick memo's calls and its compaction): 3 rounds
#      exit 0 with one case=memo line, records=4096, every cycle figure
#      above 0 and the CPU model (it FAILs, exit 1, when a compaction
#      lost a live user, kept a taken one or left the ring's counts
#      wrong); --rounds 0 exits 2.
#   7. --control real (the appliance's control core takes the worker's
#      reports instead of the stand-in, which runs 1. to 5.: their batch
#      lines say control=stand-in and carry no control figures): batch64
#      and batch1 each exit 0 with control=real, a rate, the worker's
#      ctl_waits, and the control core's busy share, reports a busy second
#      and events a busy second above 0, and control_refused=0 (a JOIN
#      it refused fails the case: the stand-in admits every one); with
#      another case, with --lease-seats or --no-report, above 60 users a
#      room (rooms at max would refuse), or as `--control other`, exit 2.
#      (The --control real runs at 1,000 users and 1,000 rooms, not 50.)
#   8. hc-bench-mem: --mib 4 (a random line in 4 KiB and huge pages) and
#      --users 1000 (the two shapes of a user's lookup) exit 0, one line
#      per page size or shape with cycles above 0 and the CPU model, and
#      the shapes' ratio above 0; --users 999 (below its range) exits 2.
# HC_BUILD: the build directory (meson sets it).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${HC_BUILD:-$top/build}
bench=$build/bench/hc-bench
fail() { echo "bench-smoke: FAIL: $*" >&2; exit 1; }
[ -x "$bench" ] || fail "$bench not built"

# two lcores on the first two CPUs we may run on (one if that is all)
. "$top/tools/hc-netns.sh" # (hc_cpu_list)
read -r -a cpus <<< "$(hc_cpu_list)"
eal=(--lcores "0@${cpus[0]},1@${cpus[1]:-${cpus[0]}}" --no-huge -m 2048 --no-pci --no-shconf --no-telemetry --file-prefix "hcbsmoke$$")
small=(--users 1000 --rooms 50 --reps 1 --chunks 1)

# field NAME LINE: NAME's value in LINE (empty if absent)
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }
positive() {
	local v
	v=$(field "$1" "$2")
	awk -v v="$v" 'BEGIN {exit !(v != "" && v + 0 > 0)}' || fail "$1=$v, not > 0: $2"
}

run_all() { # $1: rx_csum expected; $2: frames expected; $3: burst
	# expected; $4: stage figures expected (0 or 1); $5: pick_memo
	# expected; the rest: extra options
	local want=$1 frames=$2 burst=$3 staged=$4 memo=$5 out line c s
	shift 5
	out=$(timeout 600 "$bench" "${eal[@]}" -- "${small[@]}" "$@" 2>&1) ||
		{ echo "$out"; fail "hc-bench ${*:-(no options)} exited non-zero"; }
	for c in batch64 batch1 picks snapshot directives directives_with_seats directives_completed; do
		[ "$(grep -c "^case=$c " <<< "$out")" = 1 ] || { echo "$out"; fail "not one case=$c line (${*:-no options})"; }
		line=$(grep "^case=$c " <<< "$out")
		case $c in
		batch*) positive events_per_s "$line"
			positive xcore_rtt_ns "$line"
			# (a busy loop takes one burst at most)
			positive datagrams_per_loop "$line"
			awk -v v="$(field datagrams_per_loop "$line")" -v b="$burst" \
				'BEGIN {exit !(v + 0 <= b + 0)}' || fail "datagrams_per_loop above burst $burst: $line"
			grep -q ' ctl_waits=[0-9]\{1,\}' <<< "$line" || fail "no ctl_waits: $line"
			[ "$(field burst "$line")" = "$burst" ] || fail "burst not $burst: $line"
			[ "$(field pick_memo "$line")" = "$memo" ] || fail "pick_memo not $memo: $line"
			[ "$(field control "$line")" = stand-in ] || fail "control not stand-in: $line"
			! grep -q ' control_' <<< "$line" || fail "control figures with the stand-in: $line"
			if [ "$staged" = 1 ]; then
				[ "$(field stages "$line")" = 1 ] || fail "no stages=1: $line"
				for s in stage_lookup stage_prefetch stage_ops; do
					positive "$s" "$line"
				done
				s=$(field stage_rest "$line")
				awk -v v="$s" 'BEGIN {exit !(v != "" && v + 0 >= 0)}' ||
					fail "stage_rest=$s, not >= 0: $line"
			else
				! grep -q ' stage' <<< "$line" || fail "stage figures without --stages: $line"
			fi ;;
		snapshot) positive members_per_s "$line" ;;
		picks) positive scan_ms "$line"
		       positive picked "$line"
		       positive positions "$line" ;;
		*) positive directives_per_s "$line"
		   [ "$(field lost "$line")" = 0 ] || fail "lost: $line"
		   [ "$(field not_completed "$line")" = 0 ] || fail "not completed: $line" ;;
		esac
		case $c in batch*|snapshot)
			[ "$(field rx_csum "$line")" = "$want" ] || fail "rx_csum not $want: $line"
			[ "$(field frames "$line")" = "$frames" ] || fail "frames not $frames: $line" ;;
		esac
		positive tsc_hz "$line"
		grep -q ' cpu="[^"]\{1,\}"' <<< "$line" || fail "no CPU model: $line"
	done
	echo "$out" | grep '^case='
}

# 1. and 2.
# (frames are flushed to memory only on x86: elsewhere they stay cached)
flushed=memory
case $(uname -m) in x86_64|i?86) ;; *) flushed=cache ;; esac
# the appliance's default burst, as its option table says (hc-bench takes
# the appliance's configuration)
default_burst=$("$build/headcount" --config-doc | awk -F'|' '$3 ~ /`burst`/ { gsub(/ /, "", $6); print $6 }')
[ -n "$default_burst" ] || fail "no burst default in headcount --config-doc"
run_all software "$flushed" "$default_burst" 0 0
run_all offload cache 16 1 100 --rx-csum-offload --frames-cached --burst 16 --stages --pick-memo 100
rc=0
out=$("$bench" "${eal[@]}" -- "${small[@]}" --pick-memo 4097 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "--pick-memo 4097: exit $rc, expected 2"; }

# 3.
rc=0
out=$("$bench" "${eal[@]}" -- "${small[@]}" --case no-such 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "--case no-such: exit $rc, expected 2"; }
grep -q 'not a case (batch64, batch1, picks, snapshot' <<< "$out" || { echo "$out"; fail "--case no-such: the cases not named"; }
# 4.
rc=0
out=$(timeout 600 "$bench" "${eal[@]}" -- "${small[@]}" --case batch64 --stream 4096 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "a replayed stream: exit $rc, expected 1"; }
grep -q '^hc-bench: FAIL: case batch64 measured another mix: the stream of 4096 events was replayed' \
	<<< "$out" || { echo "$out"; fail "a replayed stream: no message"; }
# 5.
ab=("$top/bench/ab.sh" --eal "${eal[*]}" --users 1000 --reps 1)
stubs=$(mktemp -d /tmp/hc-ab-stub.XXXXXX)
trap 'rm -rf "$stubs"' EXIT
# stub SIDE RATES...: a stand-in for hc-bench printing the next of RATES
# at each call ("fail": exits 1 after its line; "none": no rate; "dirsN":
# N as a directives case's directives_per_s; "bothN": events_per_s N
# beside a directives_per_s); side A must be given --no-report, side B
# must not
stub() {
	local side=$1 want_report=1
	shift
	[ "$side" = A ] && want_report=0
	printf '%s\n' "$@" > "$stubs/$side.rates"
	rm -f "$stubs/$side.n"
	{
		echo '#!/usr/bin/env bash'
		echo 'n=$(( $(cat "$0.n" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$0.n"'
		echo "echo $side >> \"\$(dirname \"\$0\")/calls\""
		echo 'rate=$(sed -n "${n}p" "$0.rates")'
		echo 'report=1; for a in "$@"; do [ "$a" = --no-report ] && report=0; done'
		echo "[ \"\$report\" = $want_report ] || { echo '$side: --no-report misrouted'; exit 3; }"
		echo 'echo "case=batch1 events_per_s=999 cycles_per_event=1.0"'
		echo 'case $rate in'
		echo 'fail) echo "case=batch64 events_per_s=5 cycles_per_event=1.0"; exit 1 ;;'
		echo 'none) echo "case=batch64 cycles_per_event=1.0" ;;'
		echo 'dirs*) echo "case=batch64 directives_per_s=${rate#dirs} cpu=\"Stub CPU\" tsc_hz=1" ;;'
		echo 'both*) echo "case=batch64 events_per_s=${rate#both} directives_per_s=1 cycles_per_event=7.0 cpu=\"Stub CPU\" tsc_hz=1" ;;'
		echo '*) echo "case=batch64 events_per_s=$rate cycles_per_event=7.0 cpu=\"Stub CPU\" tsc_hz=1" ;;'
		echo 'esac'
	} > "$stubs/$side"
	chmod +x "$stubs/$side"
}
stub A 100 200 300 400
stub B 110 180 390 400
rm -f "$stubs/calls"
out=$("${ab[@]}" --rounds 4 --a --no-report "$stubs/A" "$stubs/B" 2>&1) ||
	{ echo "$out"; fail "bench/ab.sh against the stand-ins exited non-zero"; }
want='round=1 a_events_per_s=100 a_cycles=7.0 b_events_per_s=110 b_cycles=7.0 ratio=1.100 first=a
round=2 a_events_per_s=200 a_cycles=7.0 b_events_per_s=180 b_cycles=7.0 ratio=0.900 first=b
round=3 a_events_per_s=300 a_cycles=7.0 b_events_per_s=390 b_cycles=7.0 ratio=1.300 first=a
round=4 a_events_per_s=400 a_cycles=7.0 b_events_per_s=400 b_cycles=7.0 ratio=1.000 first=b
ab case=batch64 users=1000 rounds=4 a_median=250 b_median=285 ratio_median=1.050 cpu="Stub CPU"'
[ "$out" = "$want" ] || { echo "$out"; fail "ab.sh against the stand-ins: not the rates and medians expected"; }
# the sides' order swapped every round: A first in odd rounds, B in even
[ "$(tr '\n' ' ' < "$stubs/calls")" = "A B B A A B B A " ] ||
	{ cat "$stubs/calls"; fail "ab.sh: the sides not run A B, B A, A B, B A"; }
for bad in fail none; do
	stub A 100
	stub B "$bad"
	rc=0
	out=$("${ab[@]}" --rounds 1 --a --no-report "$stubs/A" "$stubs/B" 2>&1) || rc=$?
	case $bad in
	fail) msg="ab.sh: $stubs/B exited 1" ;;
	none) msg="ab.sh: $stubs/B printed no case=batch64 line with a rate" ;;
	esac
	[ "$rc" = 1 ] && grep -qxF "$msg" <<< "$out" ||
		{ echo "$out"; fail "ab.sh with a B that does '$bad': exit $rc, or not '$msg'"; }
done
# a directives case's rate (directives_per_s), and one value from a line
# with both (events_per_s)
stub A dirs100 dirs300
stub B both150 both300
out=$("${ab[@]}" --rounds 2 --a --no-report "$stubs/A" "$stubs/B" 2>&1) ||
	{ echo "$out"; fail "bench/ab.sh against directives stand-ins exited non-zero"; }
want='round=1 a_events_per_s=100 a_cycles= b_events_per_s=150 b_cycles=7.0 ratio=1.500 first=a
round=2 a_events_per_s=300 a_cycles= b_events_per_s=300 b_cycles=7.0 ratio=1.000 first=b
ab case=batch64 users=1000 rounds=2 a_median=200 b_median=225 ratio_median=1.250 cpu="Stub CPU"'
[ "$out" = "$want" ] || { echo "$out"; fail "ab.sh against directives stand-ins: not the rates expected"; }
for args in "--rounds" "--no-such $bench $bench"; do
	rc=0
	# shellcheck disable=SC2086
	out=$("$top/bench/ab.sh" $args 2>&1) || rc=$?
	[ "$rc" = 2 ] || { echo "$out"; fail "ab.sh $args: exit $rc, expected 2"; }
done
# with hc-bench itself
out=$(timeout 600 "${ab[@]}" --rounds 2 --both "--chunks 1" --a --no-report "$bench" "$bench" 2>&1) ||
	{ echo "$out"; fail "bench/ab.sh with hc-bench exited non-zero"; }
[ "$(grep -c '^round=' <<< "$out")" = 2 ] || { echo "$out"; fail "ab.sh: not 2 round lines"; }
while read -r line; do
	positive a_events_per_s "$line"
	positive b_events_per_s "$line"
	positive ratio "$line"
done <<< "$(grep '^round=' <<< "$out")"
grep -q '^ab case=batch64 .* cpu="[^"]\{1,\}"' <<< "$out" ||
	{ echo "$out"; fail "ab.sh: no last line with the CPU model"; }
# 6. the pick memo's bench
memo=$build/bench/hc-bench-memo
[ -x "$memo" ] || fail "$memo not built"
memo_eal=(-l "${cpus[0]}" --no-huge -m 256 --no-pci --no-shconf --no-telemetry --file-prefix "hcbmemo$$")
out=$(timeout 300 "$memo" "${memo_eal[@]}" -- --rounds 3 2>&1) ||
	{ echo "$out"; fail "hc-bench-memo exited non-zero"; }
line=$(grep '^case=memo ' <<< "$out") || { echo "$out"; fail "hc-bench-memo: no case=memo line"; }
[ "$(grep -c '^case=' <<< "$out")" = 1 ] || { echo "$out"; fail "hc-bench-memo: not one case line"; }
[ "$(field records "$line")" = 4096 ] || fail "hc-bench-memo: records not 4096: $line"
for f in keep_cycles take_hit_cycles take_miss_cycles compact_warm_cycles compact_warm_max \
	compact_cold_cycles compact_cold_max compact_cold_us tsc_hz; do
	positive "$f" "$line"
done
grep -q ' cpu="[^"]\{1,\}"' <<< "$line" || fail "hc-bench-memo: no CPU model: $line"
rc=0
"$memo" "${memo_eal[@]}" -- --rounds 0 > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "hc-bench-memo --rounds 0: exit $rc, expected 2"
# 7.
# (at 1,000 rooms, not 50: at a few users a room the book's movers,
# counted in both rooms for a round trip, reach max on a slow host:
# hc_bench.c, where --control real is checked)
for c in batch64 batch1; do
	out=$(timeout 600 "$bench" "${eal[@]}" -- --users 1000 --rooms 1000 --reps 1 --chunks 1 \
		--case "$c" --control real 2>&1) ||
		{ echo "$out"; fail "--control real --case $c exited non-zero"; }
	[ "$(grep -c "^case=$c " <<< "$out")" = 1 ] || { echo "$out"; fail "--control real: not one case=$c line"; }
	line=$(grep "^case=$c " <<< "$out")
	[ "$(field control "$line")" = real ] || fail "control not real: $line"
	for f in events_per_s control_busy control_changes_per_busy_s control_events_per_busy_s; do
		positive "$f" "$line"
	done
	grep -q ' ctl_waits=[0-9]\{1,\}' <<< "$line" || fail "no ctl_waits: $line"
	[ "$(field control_refused "$line")" = 0 ] || fail "control_refused not 0: $line"
done
for args in "--case picks --control real" "--case batch64 --control real --lease-seats 8" \
	    "--case batch64 --control real --no-report" "--case batch64 --control other" \
	    "--case batch64 --control real --users 100000 --rooms 1000"; do
	rc=0
	# shellcheck disable=SC2086
	out=$("$bench" "${eal[@]}" -- "${small[@]}" $args 2>&1) || rc=$?
	[ "$rc" = 2 ] || { echo "$out"; fail "$args: exit $rc, expected 2"; }
done
# 8. the random lines' bench
mem=$build/bench/hc-bench-mem
[ -x "$mem" ] || fail "$mem not built"
out=$(timeout 300 "$mem" --mib 4 --reps 1 2>&1) || { echo "$out"; fail "hc-bench-mem --mib exited non-zero"; }
for pages in 4k thp; do
	line=$(grep "^case=mem .* pages=$pages " <<< "$out") ||
		{ echo "$out"; fail "hc-bench-mem: no pages=$pages line"; }
	positive cycles_per_line "$line"
	grep -q ' cpu="[^"]\{1,\}"' <<< "$line" || fail "hc-bench-mem: no CPU model: $line"
done
out=$(timeout 300 "$mem" --users 1000 --reps 1 2>&1) || { echo "$out"; fail "hc-bench-mem --users exited non-zero"; }
for shape in two one; do
	line=$(grep "^case=lookup users=1000 .* shape=$shape " <<< "$out") ||
		{ echo "$out"; fail "hc-bench-mem: no shape=$shape line"; }
	positive cycles_per_key "$line"
	grep -q ' cpu="[^"]\{1,\}"' <<< "$line" || fail "hc-bench-mem: no CPU model: $line"
done
positive one_over_two "$(grep '^case=lookup .* one_over_two=' <<< "$out")"
rc=0
"$mem" --users 999 > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "hc-bench-mem --users 999: exit $rc, expected 2"
echo "bench-smoke: ok (every case completed with and without --rx-csum-offload --frames-cached, figures > 0; hc-bench-memo's compaction exact; --control real took the batch cases; hc-bench-mem's two modes)"

