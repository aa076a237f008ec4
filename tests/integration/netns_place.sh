#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_place.sh - placement end to end: gateways in one namespace enter
# their users through PLACE -> ASSIGN -> JOIN against headcount on
# af_packet in another, with churn rounds (LEAVE, then placed again).
# Checks: every user got an ASSIGN, no room above max, no more rooms than
# ceil(users / max) per gateway (fullest room with a free seat first), and
# the appliance's room table equals the gateways' own truth exactly.
# hc-gateway's figures are read from its --result file (key=value); the
# appliance runs without a dead-gateway timeout, because hc-gateway exits
# without SHUTDOWN and its users must stay counted until the dumps, however
# long a busy machine takes to read telemetry.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-place.XXXXXX)
trap 'hc_lab_down; rm -rf "$out"' EXIT

# reservations never expire here: the fewest-rooms check must not depend on
# how long a busy machine takes between a PLACE and its JOIN (expiry has
# unit tests of its own); the pool fills rooms to max (fill = max: the
# fewest rooms; the default, fill = target, is the lab's, netns_lab.sh);
# no balancing tick comes during the test: the fewest rooms are
# placement's promise, the fewest moves the balancer's (netns_balance.sh),
# and filling a small room can take fewer moves than dissolving it
printf '[control]\nreservation_ttl_ms = 3600000\nbalance_interval_ms = 3600000\n[pool.default]\nid = 0\nmin = 15\nmax = 100\ntarget = 50\nfill = max\n' \
	> "$out/policy.ini"
hc_lab_up $$
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 0 \
	--config "$out/policy.ini" --dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv"
hc_limit_watch_start "$out"
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }

# one gateway first, alone: its rooms must be exactly the fewest possible;
# then 70 users join its full room directly: all refused, sent elsewhere
gw_rc=0
ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --appliance $HC_APP_IP --keys "$HC_KEYS" --gateway-id 1 \
	--users 2345 --rounds 3 --churn 0.3 --seed 11 --direct 70 --truth "$out/truth.csv" \
	--result "$out/gateway.kv" --timeout 120 || gw_rc=$?
if [ "$gw_rc" != 0 ]; then # what the control core did, to tell why
	echo "FAIL: hc-gateway exited $gw_rc; the control core's counters:"
	hc_tel_kv /headcount/control | tr '\n' ' '
	echo
	exit 1
fi
# its own checks passed; no room above max and the fewest rooms (never
# fewer: no room is above max); all 70 direct joins refused and followed
printf 'checks_passed=1\nusers=2345\nrooms_above_max=0\ndirect_joins=70\ndirect_refused=70\ndirect_followed=70\n' \
	> "$out/gateway.expect"
compare_kv "$out/gateway.expect" "$out/gateway.kv" || { echo "FAIL: hc-gateway's figures"; exit 1; }
rooms=$(grep '^rooms=' "$out/gateway.kv" | cut -d= -f2)
fewest=$(grep '^fewest_rooms=' "$out/gateway.kv" | cut -d= -f2)
echo "gateway 1: $rooms rooms, fewest possible $fewest"
[ "$rooms" -le "$fewest" ] || { echo "FAIL: more rooms than ceil(users / max)"; exit 1; }
hc_wait 60 "the room table equals the gateway's truth" hc_rooms_equal "$out/truth.csv"
hc_limit_watch_check || exit 1
hc_appliance_stop
compare_rooms "$out/truth.csv" "$out/rooms.csv"
need seat_book_mismatches "$(kv seat_book_mismatches "$out/stats.kv")" -eq 0
refused=$(grep '^refused=' "$out/stats.kv" | cut -d= -f2)
echo "JOINs refused by admission: $refused"
[ "$refused" = 70 ] || { echo "FAIL: expected 70 refusals"; exit 1; }
awk -F, 'NR > 1 && $2 > 100 { bad = 1 } END { exit bad }' "$out/rooms.csv" ||
	{ echo "FAIL: a room above max"; exit 1; }
places=$(grep '^places=' "$out/stats.kv" | cut -d= -f2)
dropped=$(grep '^places_dropped=' "$out/stats.kv" | cut -d= -f2)
echo "PLACE requests: $places passed to the control core, $dropped dropped"
[ "$places" -ge 2345 ] && [ "$dropped" = 0 ] || { echo "FAIL: PLACE counts"; exit 1; }

# three gateways at once, sharing rooms: the table is the sum of their truths
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 0 \
	--config "$out/policy.ini" --dump-rooms "$out/rooms3.csv" --dump-stats "$out/stats3.kv"
hc_limit_watch_start "$out"
pids=()
for g in 1 2 3; do
	ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --appliance $HC_APP_IP --keys "$HC_KEYS" --gateway-id $g \
		--users $((700 + 150 * g)) --rounds 2 --churn 0.25 --seed $g --shared \
		--truth "$out/truth3.$g.csv" --result "$out/gateway3.$g.kv" --timeout 120 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
printf 'checks_passed=1\nrooms_above_max=0\n' > "$out/gateway3.expect"
for g in 1 2 3; do
	compare_kv "$out/gateway3.expect" "$out/gateway3.$g.kv" ||
		{ echo "FAIL: hc-gateway $g's figures"; exit 1; }
done
awk -F, 'FNR > 1 { n[$1] += $2 } END { for (r in n) print r "," n[r] }' \
	"$out"/truth3.*.csv | sort -t, -k1,1n | { echo "room,users"; cat; } > "$out/truth3.csv"
hc_wait 60 "the room table equals the gateways' truth" hc_rooms_equal "$out/truth3.csv"
hc_limit_watch_check || exit 1
hc_appliance_stop
compare_rooms "$out/truth3.csv" "$out/rooms3.csv"
awk -F, 'NR > 1 && $2 > 100 { bad = 1 } END { exit bad }' "$out/rooms3.csv" ||
	{ echo "FAIL: a room above max"; exit 1; }
need seat_book_mismatches "$(kv seat_book_mismatches "$out/stats3.kv")" -eq 0
echo "PASS: placement end to end, room tables equal the gateways' truth"
