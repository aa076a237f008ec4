#!/usr/bin/env bash
# netns_place.sh - placement end to end: gateways in one namespace enter
# their users through PLACE -> ASSIGN -> JOIN against headcount on
# af_packet in another, with churn rounds (LEAVE, then placed again).
# Checks: every user got an ASSIGN, no room above max, no more rooms than
# ceil(users / max) per gateway (fullest room with a free seat first), and
# the appliance's room table equals the gateways' own truth exactly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../../tools/hc-netns.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-place.XXXXXX)
trap 'hc_lab_down; rm -rf "$out"' EXIT

hc_lab_up $$
# hc-gateway sends no heartbeats while it works and has exited when the
# table is read: no gateway timeout (a busy machine may take longer)
hc_appliance_start "$build" "$out" 1 --gateway-timeout-ms 0 --stats-interval 0 \
	--dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv"
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }

# one gateway first, alone: its rooms must be exactly the fewest possible;
# then 70 users join its full room directly: all refused, sent elsewhere
ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --dst $HC_APP_IP --gateway-id 1 \
	--users 2345 --rounds 3 --churn 0.3 --seed 11 --direct 70 --truth "$out/truth.csv" \
	--timeout 120
hc_wait 60 "the room table equals the gateway's truth" hc_rooms_equal "$out/truth.csv"
hc_appliance_stop
compare_rooms "$out/truth.csv" "$out/rooms.csv"
grep -q "equal to the room table" "$out/headcount.log" || { echo "FAIL: seat book"; exit 1; }
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
hc_appliance_start "$build" "$out" 1 --gateway-timeout-ms 0 --stats-interval 0 \
	--dump-rooms "$out/rooms3.csv" --dump-stats "$out/stats3.kv"
pids=()
for g in 1 2 3; do
	ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --dst $HC_APP_IP --gateway-id $g \
		--users $((700 + 150 * g)) --rounds 2 --churn 0.25 --seed $g --shared \
		--truth "$out/truth3.$g.csv" --timeout 120 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
awk -F, 'FNR > 1 { n[$1] += $2 } END { for (r in n) print r "," n[r] }' \
	"$out"/truth3.*.csv | sort -t, -k1,1n | { echo "room,users"; cat; } > "$out/truth3.csv"
hc_wait 60 "the room table equals the gateways' truth" hc_rooms_equal "$out/truth3.csv"
hc_appliance_stop
compare_rooms "$out/truth3.csv" "$out/rooms3.csv"
awk -F, 'NR > 1 && $2 > 100 { bad = 1 } END { exit bad }' "$out/rooms3.csv" ||
	{ echo "FAIL: a room above max"; exit 1; }
grep -q "equal to the room table" "$out/headcount.log" || { echo "FAIL: seat book"; exit 1; }
echo "PASS: placement end to end, room tables equal the gateways' truth"
