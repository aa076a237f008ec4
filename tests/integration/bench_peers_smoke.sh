#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench_peers_smoke.sh - the bench-peers-smoke test: headcount beside Redis
# (bench/peers/run.sh) works, at tiny sizes.  It asserts what is true at
# any speed, never a speed:
#   1. run.sh (1,000 users, 1,000 rooms, one turn, small windows) exits 0,
#      every Redis run's state check passed (redis_check=ok, one per case),
#      and each case line has headcount (events/s, cycles per event),
#      Redis, ratio and TSC frequency figures > 0;
#      the same events for both (run.sh fails a turn whose applied mixes
#      differ); headcount ran with the appliance's own control core
#      (headcount_control=real, its busy share > 0), and with
#      --control stand-in with hc-bench's (no busy share; 50 rooms); a
#      bad --control and, with the real one, more than 60 users a room
#      exit 2 saying so; with --max 22 at 50 rooms, where Redis refuses
#      JOINs that hc-bench's stand-in admits, run.sh fails instead of
#      printing a ratio;
#   2. the clamp: hc-bench-redis with --max 22 (rooms fill up) refuses
#      JOINs (refused > 0), its state still equals the model exactly, and
#      no room is above 22;
#   3. the check can fail: with --tamper (one room's count changed before
#      the check) hc-bench-redis prints redis_check=FAIL and exits 1.
# HC_BUILD: the build directory (meson sets it).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${HC_BUILD:-$top/build}
rdb=$build/bench/peers/hc-bench-redis
fail() { echo "bench-peers-smoke: FAIL: $*" >&2; exit 1; }
[ -x "$rdb" ] || fail "$rdb not built: libhiredis-dev missing (tools/install-deps.sh)"
command -v redis-server > /dev/null || fail "no redis-server (tools/install-deps.sh)"

# positive NAME LINE: NAME=value in LINE is a number > 0
positive() {
	local v
	v=$(sed -n "s/.* $1=\([0-9.e+]*\)\( .*\)\{0,1\}$/\1/p" <<< " $2")
	awk -v v="$v" 'BEGIN {exit !(v != "" && v + 0 > 0)}' || fail "$1=$v, not > 0: $2"
}

# 1. the one command
# (--control real at 1,000 rooms, not 50: at a few users a room the
# book's movers, counted in both rooms for a round trip, reach max on a
# slow host: hc_bench.c, where --control real is checked)
# (two turns: headcount first in the first, Redis in the second)
out=$("$top/bench/peers/run.sh" --build "$build" --users 1000 --rooms 1000 --reps 2 \
	--hc-chunks 1 2>&1) || { echo "$out"; fail "run.sh exited non-zero"; }
echo "$out"
oks=$(grep -c '^redis_check=ok ' <<< "$out" || true)
[ "$oks" = 4 ] || fail "$oks Redis state checks passed, expected 4"
for c in batch64 batch1; do
	grep -q "^run.sh: turn 1 $c: .*; headcount first)" <<< "$out" || fail "turn 1 $c: not headcount first"
	grep -q "^run.sh: turn 2 $c: .*; Redis first)" <<< "$out" || fail "turn 2 $c: not Redis first"
	line=$(grep "^case=$c " <<< "$out") || fail "no case=$c line"
	for f in headcount_events_per_s redis_events_per_s ratio headcount_cycles_per_event redis_cycles_per_event \
		redis_busy_cycles_per_event headcount_xcore_rtt_ns tsc_hz redis_busy ratio_per_busy_core; do
		positive "$f" "$line"
	done
	grep -Eq ' headcount_frames=(memory|cache) ' <<< "$line" || fail "no headcount_frames: $line"
	grep -q ' headcount_control=real ' <<< "$line" || fail "not the real control core: $line"
	positive headcount_control_busy "$line"
done
out=$("$top/bench/peers/run.sh" --build "$build" --users 1000 --rooms 50 --reps 1 \
	--hc-chunks 1 --control stand-in 2>&1) || { echo "$out"; fail "run.sh --control stand-in exited non-zero"; }
for c in batch64 batch1; do
	line=$(grep "^case=$c " <<< "$out") || { echo "$out"; fail "--control stand-in: no case=$c line"; }
	grep -q ' headcount_control=stand-in ' <<< "$line" || fail "not the stand-in: $line"
	! grep -q 'headcount_control_busy=' <<< "$line" || fail "a stand-in's busy share: $line"
	positive ratio "$line"
done
rc=0
err=$("$top/bench/peers/run.sh" --build "$build" --control bogus 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "run.sh --control bogus: exit $rc, expected 2"
grep -q -- '--control real|stand-in' <<< "$err" || fail "run.sh --control bogus: not said: $err"
rc=0
err=$("$top/bench/peers/run.sh" --build "$build" --users 1000 --rooms 16 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "run.sh --users 1000 --rooms 16: exit $rc, expected 2"
grep -q 'at most 60 users a room: --users 1000 needs --rooms 17 or more' <<< "$err" ||
	fail "run.sh --users 1000 --rooms 16: not said: $err"

rc=0
out=$("$top/bench/peers/run.sh" --build "$build" --users 1000 --rooms 50 --reps 1 --max 22 \
	--hc-chunks 1 --control stand-in 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "run.sh --max 22: exit $rc, expected 1"; }
grep -q '^run.sh: Redis refused [1-9][0-9]* JOINs into full rooms (--max 22)' <<< "$out" ||
	{ echo "$out"; fail "run.sh --max 22: the refusals not named"; }
! grep -q ' ratio=' <<< "$out" || { echo "$out"; fail "run.sh --max 22 printed a ratio"; }

# the end states compared: an hc-bench whose end state differs in who is
# where only (its state line's members digest changed on the way, the
# rooms' counts as they were) fails the run, naming both
skew=$(mktemp -d /tmp/hc-peers-skew.XXXXXX)
mkdir -p "$skew/bench/peers"
ln -s "$rdb" "$skew/bench/peers/hc-bench-redis"
cat > "$skew/bench/hc-bench" <<EOS
#!/usr/bin/env bash
"$build/bench/hc-bench" "\$@" | awk '/^state case=/ { sub(/members=[0-9a-f]+/, "members=0000000000000001") } { print }'
exit "\${PIPESTATUS[0]}"
EOS
chmod +x "$skew/bench/hc-bench"
rc=0
out=$("$top/bench/peers/run.sh" --build "$skew" --users 1000 --rooms 50 --reps 1 --hc-chunks 1 \
	--control stand-in 2>&1) || rc=$?
rm -rf "$skew"
[ "$rc" = 1 ] || { echo "$out"; fail "an end state that differs: exit $rc, expected 1"; }
grep -q '^run.sh: the end states differ: headcount (state case=batch64 users=[0-9]* digest=[0-9a-f]* members=0000000000000001), Redis (state case=batch64 users=[0-9]* digest=[0-9a-f]* members=[0-9a-f]*)' <<< "$out" ||
	{ echo "$out"; fail "an end state that differs: the difference not named"; }
! grep -q ' ratio=' <<< "$out" || { echo "$out"; fail "end states differ, and a ratio printed"; }

# 2. and 3.: hc-bench-redis against a redis-server of our own
tmp=$(mktemp -d /tmp/hc-peers-smoke.XXXXXX)
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
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save "" --appendonly no \
	--dir "$tmp" --logfile "$tmp/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 1 600); do # 60 s at the most (a busy host)
	kill -0 "$redis_pid" 2> /dev/null || break
	redis-cli -s "$sock" ping 2> /dev/null | grep -q PONG && break
	sleep 0.1
done
redis-cli -s "$sock" ping 2> /dev/null | grep -q PONG || fail "redis-server did not start"

out=$("$rdb" --socket "$sock" --users 1000 --rooms 50 --max 22 --reps 1 --events 4096 2>&1) ||
	{ echo "$out"; fail "hc-bench-redis --max 22 exited non-zero"; }
echo "$out"
check=$(grep '^redis_check=ok ' <<< "$out") || fail "--max 22: the state check did not pass"
top_room=$(sed -n 's/.* largest_room=\([0-9]*\).*/\1/p' <<< "$check")
[ -n "$top_room" ] && [ "$top_room" -le 22 ] || fail "a room of $top_room members, max 22"
refused=$(sed -n 's/.* refused \([0-9]*\)).*/\1/p' <<< "$out" | awk '{s += $1} END {print s + 0}')
[ "$refused" -gt 0 ] || fail "--max 22 refused no JOIN: the clamp was not exercised"

rc=0
out=$("$rdb" --socket "$sock" --users 1000 --rooms 50 --reps 1 --events 1024 --case batch64 \
	--tamper 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ] || fail "--tamper: exit $rc, expected 1"
grep -q '^redis_check=FAIL ' <<< "$out" || fail "--tamper: no redis_check=FAIL"
echo "bench-peers-smoke: ok (state checks passed, figures > 0, clamp refused $refused," \
	"a tampered state fails the check)"
