#!/usr/bin/env bash
# netns_balance.sh - the balancer end to end: a gateway puts users directly
# into rooms of 4, 6, 7, 10, 40 and 70 (the seed example; min 15, max 100,
# target 50); the control core plans, the workers pick the users, the
# gateway gets MOVE directives and obeys them (ignoring the first two,
# which the appliance must send again).  Checks the fewest moves
# (13), the final sizes 15, 15, 40, 67, and that the appliance's room table
# equals the gateway's own truth.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../../tools/hc-netns.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-balance.XXXXXX)
trap 'hc_lab_down; rm -rf "$out"' EXIT

printf '[control]\nbalance_interval_ms = 300\ncooldown_ms = 30000\ndirective_timeout_ms = 300\n' \
	> "$out/policy.ini"
hc_lab_up $$
# hc-gateway sends no heartbeats while it works and has exited when the
# table is read: no gateway timeout (a busy machine may take longer)
hc_appliance_start "$build" "$out" 1 --gateway-timeout-ms 0 --stats-interval 0 --config "$out/policy.ini" \
	--dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv"
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }

# the gateway obeys MOVEs until the appliance has seen 13 of them done
# (--settle 120 only bounds a broken build)
ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --dst $HC_APP_IP --gateway-id 1 \
	--users 137 --seed-rooms 4,6,7,10,40,70 --settle 120 --settle-until "$out/done" \
	--ignore-moves 2 --truth "$out/truth.csv" --timeout 180 > "$out/gateway.log" &
gateway=$!
hc_wait 150 "the appliance counts 13 directives done" \
	hc_tel_has /headcount/control directives_done=13
touch "$out/done"
wait "$gateway" || { cat "$out/gateway.log"; echo "FAIL: hc-gateway"; exit 1; }
cat "$out/gateway.log"
hc_wait 60 "the room table equals the gateway's truth" hc_rooms_equal "$out/truth.csv"
# the control core's counters over telemetry (as an operator reads them), while it runs
printf '/headcount/control\n' | timeout 10 dpdk-telemetry.py -f "hclab$HC_TAG" > "$out/control.json"
grep -q '"directives_done": 13,' "$out/control.json" ||
	{ echo "FAIL: telemetry /headcount/control"; cat "$out/control.json"; exit 1; }
echo "telemetry: $(grep -o '"moves_planned": [0-9]*' "$out/control.json"), \
$(grep -o '"directives_done": [0-9]*' "$out/control.json")"
hc_appliance_stop
compare_rooms "$out/truth.csv" "$out/rooms.csv"
sizes=$(tail -n +2 "$out/rooms.csv" | cut -d, -f2 | sort -n | tr '\n' ' ')
echo "final room sizes: $sizes"
[ "$sizes" = "15 15 40 67 " ] || { echo "FAIL: expected 15 15 40 67"; exit 1; }
grep -q " 13 moves obeyed (0 stale, 2 ignored)" "$out/gateway.log" ||
	{ echo "FAIL: expected 13 moves"; exit 1; }
# the two ignored directives were sent again and then done
grep -qE "balancer: .* 13 directives sent, [2-9][0-9]* resent, 13 done, 0 given up" \
	"$out/headcount.log" || { echo "FAIL: directive resends"; exit 1; }
grep -q "equal to the room table" "$out/headcount.log" || { echo "FAIL: seat book"; exit 1; }
echo "PASS: the seed example converged with 13 moves, room table equals the truth"
