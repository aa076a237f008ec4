#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pktgen_lua.sh - the Pktgen scenario scripts (pktgen-scenarios/*.lua), run
# by lua5.3 against a stand-in for Pktgen-DPDK's Lua API
# (pktgen-scenarios/test/pktgen_stub.lua, which prints every call): each
# transcript must equal, line for line, the calls and result lines worked
# out here from the stub's model (a port sending floor(14,880,952 * rate /
# 100 / 1000) frames per simulated millisecond until its count).
# Checked: one pass by count (the count is the pcap's frame count, equal
# to the scenario's rx_frames; with two ports each port's pcap's), a
# fractional rate passed on as given, the
# order screen/stop/clr/pcap/set/start/.../stop/quit, the bounded wait
# giving up on a stalled port, bad settings refused before anything is
# sent, a truncated pcap refused, and hc-soak's result line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${HC_BUILD:?}
lua=$(command -v lua5.3) || { echo "SKIP: lua5.3 is not installed (tools/install-deps.sh)"; exit 77; }
sc=$top/pktgen-scenarios
dir=$(mktemp -d /tmp/hc-pglua.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0

# run SCRIPT [VAR=VALUE...]: the script's transcript under the stub
run() {
	local script=$1
	shift
	env -i PATH="$PATH" LUA_PATH="$sc/test/?.lua;;" "$@" "$lua" -l pktgen_stub "$sc/$script"
}
# check NAME EXPECTED ACTUAL: identical transcripts
check() {
	if cmp -s "$2" "$3"; then
		echo "ok: $1 ($(wc -l < "$3") lines)"
	else
		echo "FAIL: $1 (expected < > got):"
		diff "$2" "$3" | head -30
		fail=1
	fi
}
per_ms() { echo $((14880952 * $1 / 100000000)); } # RATE in thousandths of a percent

"$build/pktgen-scenarios/hc-scenario" --out "$dir/s" --no-auth --users 5000 --rooms 50 \
	--gateways 4 --events 20000 --batch 8 --malformed 0.01 --duplicate 0.02 > /dev/null
frames=$(sed -n 's/^rx_frames=//p' "$dir/s.expect")
echo "scenario: $frames frames"

# 1. one pass of the pcap at 0.05 %: 7 frames/ms, 1,750 per 250 ms step
step=$(( $(per_ms 50) * 250 ))
[ "$step" = 1750 ] || { echo "FAIL: stub model step $step"; exit 1; }
{
	printf 'CALL %s\n' 'screen(off)' 'stop(0)' 'clr()' 'pcap(0,on)' "set(0,count,$frames)" \
		'set(0,rate,0.05)'
	echo "hc-apply: count=$frames rate=0.05"
	echo 'CALL start(0)'
	sent=0 waited=0
	while [ "$sent" -lt "$frames" ]; do
		printf 'CALL %s\n' 'delay(250)' 'portStats(0,port)'
		sent=$((sent + step)); [ "$sent" -le "$frames" ] || sent=$frames
		waited=$((waited + 250))
	done
	echo 'CALL stop(0)'
	echo "hc-apply: sent=$frames complete=1 waited_ms=$waited"
	echo 'CALL quit()'
} > "$dir/want"
run hc-apply.lua HC_PCAP="$dir/s.pcap" HC_RATE=0.05 > "$dir/got"
check "hc-apply: one pass by count at a fractional rate" "$dir/want" "$dir/got"

# 1b. two ports, one pcap each (hc-scenario --split 2): each port's count
# is its own pcap's frames, together the scenario's
"$build/pktgen-scenarios/hc-scenario" --out "$dir/t" --no-auth --users 5000 --rooms 50 \
	--gateways 4 --events 20000 --batch 8 --split 2 > /dev/null
n0=$(run hc-apply.lua HC_PCAP="$dir/t.0.pcap" | sed -n 's/^hc-apply: count=\([0-9]*\) .*/\1/p')
n1=$(run hc-apply.lua HC_PCAP="$dir/t.1.pcap" | sed -n 's/^hc-apply: count=\([0-9]*\) .*/\1/p')
tframes=$(sed -n 's/^rx_frames=//p' "$dir/t.expect")
[ $((n0 + n1)) = "$tframes" ] && [ "$n0" -gt 0 ] && [ "$n1" -gt 0 ] ||
	{ echo "FAIL: split pcaps hold $n0 + $n1 frames, the scenario $tframes"; fail=1; }
{
	printf 'CALL %s\n' 'screen(off)' 'stop(0)' 'stop(1)' 'clr()' \
		'pcap(0,on)' "set(0,count,$n0)" 'set(0,rate,0.05)' \
		'pcap(1,on)' "set(1,count,$n1)" 'set(1,rate,0.05)'
	echo "hc-apply: count=$tframes rate=0.05"
	echo "hc-apply: port=0 count=$n0"
	echo "hc-apply: port=1 count=$n1"
	printf 'CALL %s\n' 'start(0)' 'start(1)'
	s0=0 s1=0 waited=0
	while [ "$s0" -lt "$n0" ] || [ "$s1" -lt "$n1" ]; do
		printf 'CALL %s\n' 'delay(250)' 'portStats(0,port)' 'portStats(1,port)'
		s0=$((s0 + step)); [ "$s0" -le "$n0" ] || s0=$n0
		s1=$((s1 + step)); [ "$s1" -le "$n1" ] || s1=$n1
		waited=$((waited + 250))
	done
	printf 'CALL %s\n' 'stop(0)' 'stop(1)'
	echo "hc-apply: sent=$tframes complete=1 waited_ms=$waited"
	echo 'CALL quit()'
} > "$dir/want"
run hc-apply.lua HC_PCAP="$dir/t.0.pcap,$dir/t.1.pcap" HC_RATE=0.05 PKTGEN_STUB_PORTS=2 > "$dir/got"
check "hc-apply: two ports, one pcap each" "$dir/want" "$dir/got"

# 2. a stalled port: the wait gives up after HC_TIMEOUT_S, says so
{
	printf 'CALL %s\n' 'screen(off)' 'stop(0)' 'clr()' 'pcap(0,on)' 'set(0,count,5000)' \
		'set(0,rate,1)'
	echo "hc-apply: count=5000 rate=1"
	echo 'CALL start(0)'
	for _ in 1 2 3 4 5 6 7 8; do printf 'CALL %s\n' 'delay(250)' 'portStats(0,port)'; done
	echo 'CALL stop(0)'
	echo "hc-apply: sent=100 complete=0 waited_ms=2000"
	echo 'CALL quit()'
} > "$dir/want"
run hc-apply.lua HC_COUNT=5000 HC_TIMEOUT_S=2 PKTGEN_STUB_STALL=100 > "$dir/got"
check "hc-apply: a stalled port, a bounded wait" "$dir/want" "$dir/got"

# 3. settings refused before anything is sent
refused() { # NAME ERROR VAR=VALUE...
	local name=$1 msg=$2
	shift 2
	printf 'hc-apply: error=%s\nCALL quit()\n' "$msg" > "$dir/want"
	run hc-apply.lua "$@" > "$dir/got"
	check "hc-apply refuses $name" "$dir/want" "$dir/got"
}
refused "a rate above 100" "HC_RATE=150 is not a number in [0.001, 100]" HC_RATE=150 HC_COUNT=10
refused "a rate that is no number" "HC_RATE=1% is not a number in [0.001, 100]" HC_RATE=1% HC_COUNT=10
refused "a count that is no number" "HC_COUNT=5,x: not a list of whole numbers >= 1" HC_COUNT=5,x
refused "no pcap and no count" "set HC_PCAP (the pcap given to -s 0:FILE) or HC_COUNT"
head -c 50 "$dir/s.pcap" > "$dir/cut.pcap"
refused "a truncated pcap" "$dir/cut.pcap: truncated frame" HC_PCAP="$dir/cut.pcap"
printf 'this text is not a pcap file, nor a pcapng one' > "$dir/bad.pcap"
refused "a file that is no pcap" "$dir/bad.pcap: not a pcap file (pcapng is not read)" \
	HC_PCAP="$dir/bad.pcap"

# 4. hc-soak: loops for HC_SECONDS at a fractional rate, prints its result
pm=$(per_ms 2500)
sent=$((pm * 1000 * 3))
{
	printf 'CALL %s\n' 'screen(off)' 'stop(0)' 'clr()' 'pcap(0,on)' 'set(0,count,0)' \
		'set(0,rate,2.5)'
	echo "hc-soak: rate=2.5 seconds=3"
	printf 'CALL %s\n' 'start(0)' 'delay(1000)' 'delay(1000)' 'delay(1000)' 'stop(0)' \
		'delay(1500)' 'portStats(0,port)'
	echo "hc-soak: sent=$sent pps=$((sent / 3)) oerrors=0 passes=$(awk -v s="$sent" -v f="$frames" \
		'BEGIN { printf "%.2f", s / f }')"
	echo 'CALL quit()'
} > "$dir/want"
run hc-soak.lua HC_PCAP="$dir/s.pcap" HC_RATE=2.5 HC_SECONDS=3 > "$dir/got"
check "hc-soak: loops, then prints its result" "$dir/want" "$dir/got"

# 5. rx-rate.py (run.sh's receive-rate reader): a counter file a writer
# raises 50 times while it reads; its summary agrees with the readings it
# wrote (the frames and time between the first and last that moved), and
# a counter that never moves gives rx_fps=0.  (Its rate depends on the
# writer's pace, so only the agreement is checked.)
rr=$here/../../pktgen-scenarios/rx-rate.py
echo 0 > "$dir/counter"
python3 "$rr" "$dir/counter" "$dir/rx.txt" "$dir/rx.stop" 0.001 &
rrpid=$!
# (the writer starts once the reader's first reading is written)
for i in $(seq 1 3000); do [ -s "$dir/rx.txt" ] && break; sleep 0.01; done
for i in $(seq 1 50); do echo $((i * 100)) > "$dir/counter.new"; mv "$dir/counter.new" "$dir/counter"; sleep 0.01; done
sleep 0.05
touch "$dir/rx.stop"
wait "$rrpid" || { echo "FAIL: rx-rate.py exited $?"; fail=1; }
python3 - "$dir/rx.txt" <<'PY' || fail=1
import sys
lines = open(sys.argv[1]).read().split("\n")
rows = [tuple(map(int, l.split())) for l in lines if l and not l.startswith("rx_")]
summary = dict(kv.split("=") for kv in lines[-2].split())
moved = rows[1:]
frames, ns = moved[-1][1] - moved[0][1], moved[-1][0] - moved[0][0]
ok = (rows[0][1] == 0 and moved[-1][1] == 5000 and len(moved) >= 2 and
      all(b[1] > a[1] for a, b in zip(moved, moved[1:])) and
      int(summary["rx_moved_frames"]) == frames and
      abs(float(summary["rx_moved_ms"]) - ns / 1e6) <= 0.05 and
      abs(int(summary["rx_fps"]) - frames * 1e9 / ns) <= 1)
print(("  ok" if ok else "FAIL") + ": rx-rate.py: %d readings moved, %s" % (len(moved), lines[-2]))
sys.exit(0 if ok else 1)
PY
echo 7 > "$dir/still"
rm -f "$dir/rx.stop"
python3 "$rr" "$dir/still" "$dir/rx2.txt" "$dir/rx.stop" 0.001 &
rrpid=$!
sleep 0.05
touch "$dir/rx.stop"
wait "$rrpid"
if [ "$(tail -1 "$dir/rx2.txt")" = "rx_moved_frames=0 rx_moved_ms=0.0 rx_fps=0" ]; then
	echo "  ok: rx-rate.py: a counter that never moves: rx_fps=0"
else
	echo "FAIL: rx-rate.py on a still counter: $(tail -1 "$dir/rx2.txt")"; fail=1
fi
python3 "$rr" "$dir/no-such-counter" "$dir/rx3.txt" "$dir/rx.stop" 2> /dev/null && rc=0 || rc=$?
[ "$rc" = 2 ] && echo "  ok: rx-rate.py: an unreadable counter: exit 2" ||
	{ echo "FAIL: rx-rate.py on no counter: exit $rc"; fail=1; }

[ "$fail" = 0 ] && echo "PASS: the Pktgen scripts make exactly the expected calls"
exit $fail
