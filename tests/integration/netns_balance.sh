#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_balance.sh - the balancer end to end: a gateway puts users directly
# into rooms of 4, 6, 7, 10, 40 and 70 (the seed example; min 15, max 100,
# target 50); the control core plans, the workers pick the users, the
# gateway gets MOVE directives and obeys them (ignoring the first two,
# which the appliance must send again).  Checks the fewest moves
# (13), the final sizes 15, 15, 40, 67, and that the appliance's room table
# equals the gateway's own truth.  hc-gateway's figures are read from its
# --result file (key=value); the appliance runs without a dead-gateway
# timeout, because hc-gateway exits without SHUTDOWN and its users must
# stay counted until the dumps.  The balancer starts only once every
# seeded user is in the seat book (the policy's interval is an hour until a
# reload sets 300 ms): a tick between the gateway's datagrams would plan,
# rightly, from the rooms as they were then.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-balance.XXXXXX)
trap 'hc_lab_down; rm -rf "$out"' EXIT

# directives resent after 3 s: a gateway (or a worker) slowed by a busy
# host for a few hundred ms must not make a resend, or give one up.  (A
# plan in the moment between a moved user's admission and the worker's
# report that it moved them once counted that user twice and asked for
# two picks more: that room now sits the plan out, hc_rooms_settled)
policy() {
	printf '[control]\nbalance_interval_ms = %s\ncooldown_ms = 30000\ndirective_timeout_ms = 3000\n' \
		"$1" > "$out/policy.ini"
}
policy 3600000
hc_lab_up $$
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 0 \
	--config "$out/policy.ini" \
	--dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv"
hc_limit_watch_start "$out"
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }

# the gateway obeys MOVEs until the appliance has seen 13 of them done
# (--settle 120 only bounds a broken build)
ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --appliance $HC_APP_IP --keys "$HC_KEYS" --gateway-id 1 \
	--users 137 --seed-rooms 4,6,7,10,40,70 --settle 120 --settle-until "$out/done" \
	--ignore-moves 2 --truth "$out/truth.csv" --result "$out/gateway.kv" --timeout 180 \
	> "$out/gateway.log" &
gateway=$!
hc_wait 60 "the appliance counts the 137 seeded users" hc_tel_has /headcount/stats users=137
policy 300
kill -HUP "$HC_PID"
hc_wait 30 "SIGHUP set the balancer's interval" hc_tel_has /headcount/control config_reloads=1
hc_wait 150 "the appliance counts 13 directives done" \
	hc_tel_has /headcount/control directives_done=13
touch "$out/done"
wait "$gateway" || { cat "$out/gateway.log"; echo "FAIL: hc-gateway"; exit 1; }
cat "$out/gateway.log"
hc_wait 60 "the room table equals the gateway's truth" hc_rooms_equal "$out/truth.csv"
# the control core's counters over telemetry (as an operator reads them),
# while it runs (a read again if the socket was busy: the room watcher
# connects 10 times a second, and DPDK's socket listens with a backlog of 1)
dpdk_tel_control() {
	printf '/headcount/control\n' | timeout 10 dpdk-telemetry.py -f "hclab$HC_TAG" \
		> "$out/control.json" 2>&1 && grep -q '"directives_done": ' "$out/control.json"
}
hc_wait 30 "dpdk-telemetry.py reads /headcount/control" dpdk_tel_control ||
	{ cat "$out/control.json"; exit 1; }
grep -q '"directives_done": 13,' "$out/control.json" ||
	{ echo "FAIL: telemetry /headcount/control"; cat "$out/control.json"; exit 1; }
echo "telemetry: $(grep -o '"moves_planned": [0-9]*' "$out/control.json"), \
$(grep -o '"directives_done": [0-9]*' "$out/control.json")"
hc_limit_watch_check || exit 1
hc_appliance_stop
compare_rooms "$out/truth.csv" "$out/rooms.csv"
sizes=$(tail -n +2 "$out/rooms.csv" | cut -d, -f2 | sort -n | tr '\n' ' ')
echo "final room sizes: $sizes"
[ "$sizes" = "15 15 40 67 " ] || { echo "FAIL: expected 15 15 40 67"; exit 1; }
printf 'moves_obeyed=13\nmoves_stale=0\nmoves_ignored=2\n' > "$out/gateway.expect"
compare_kv "$out/gateway.expect" "$out/gateway.kv" || { echo "FAIL: expected 13 moves"; exit 1; }
# the two ignored directives were sent again and then done
need directives_sent "$(kv ctl_directives_sent "$out/stats.kv")" -eq 13
need directives_resent "$(kv ctl_directives_resent "$out/stats.kv")" -ge 2
need directives_done "$(kv ctl_directives_done "$out/stats.kv")" -eq 13
need directives_given_up "$(kv ctl_directives_given_up "$out/stats.kv")" -eq 0
need seat_book_mismatches "$(kv seat_book_mismatches "$out/stats.kv")" -eq 0
# planned once: no tick planned moves for picks or directives in flight
need moves_planned "$(kv ctl_moves_planned "$out/stats.kv")" -eq 13
# each moved user's JOIN marked the room it left until the worker said
# so, each mark ended by its report, none taken for lost (sync periods,
# control/hc_ctlsync.h: no clock)
need sync_periods "$(kv ctl_sync_periods "$out/stats.kv")" -ge 1
need vacate_stale "$(kv ctl_vacate_stale "$out/stats.kv")" -eq 0
echo "PASS: the seed example converged with 13 moves, room table equals the truth"
