#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# headcountctl.sh - tools/headcountctl (as meson installs it, from the
# build directory) against a live appliance in the namespace lab, checked
# exactly against the truth:
#   pool 0  110 hc-gwsim gateways (ids 1..110) place 2990 users and stay
#           connected (--hold) while their sockets' ports are read (ss):
#           the gateways' addresses; their room table, compared exactly
#           by hc-gwsim itself, is pool 0's truth (299 rooms of 10: more
#           than a page of /headcount/room_pools)
#   pool 7  one hc-gateway (id 200) seeds rooms of known sizes directly
#           (--seed-rooms; its --truth file), below min, between, above
#           target, at max
# Gateways exit without SHUTDOWN and the appliance has no dead-gateway
# timeout: every gateway and user stays known until the checks end.
# tests/integration/headcountctl_check.py then compares every subcommand's
# --json with the truth (gateways over 5 pages, users per pool, histogram,
# filters, one room, stats, top --count 2) and checks the text outputs and
# the errors.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-ctl.XXXXXX)
trap 'hc_lab_down; [ -n "${HC_KEEP:-}" ] || rm -rf "$out"' EXIT
ctl="$build/tools/headcountctl"
[ -x "$ctl" ] || { echo "FAIL: $ctl not built"; exit 1; }

# two pools; no balancing tick and no reservation expiry during the test
# (the room table must stay what the gateways made it)
printf '%s\n' '[control]' 'balance_interval_ms = 3600000' 'reservation_ttl_ms = 3600000' \
	'[pool.lobby]' 'id = 0' 'min = 5' 'max = 20' 'target = 10' \
	'[pool.duel]' 'id = 7' 'min = 4' 'max = 12' 'target = 8' > "$out/policy.ini"
hc_lab_up $$
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 0 \
	--config "$out/policy.ini" --dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv" > /dev/null
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }

# pool 0: the fleet settles exactly, then holds until we have read it
timeout 400 ip netns exec "$HC_NSG" "$build/tools/hc-gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" \
	--prefix "hclab$HC_TAG" --gateways 110 --first-id 1 --users 2990 --pool 0 \
	--arrival-rate 5000 --leave-rate 0 --duration 2 --settle 120 --hold 300 \
	--hold-until "$out/fleet.done" --result "$out/fleet.kv" --seed 3 > "$out/fleet.log" 2>&1 &
fleet=$!
held() { [ "$(kv phase "$out/fleet.kv" 2>/dev/null)" = hold ]; }
hc_wait 300 "the fleet settles" held || { cat "$out/fleet.log"; exit 1; }
[ "$(kv compare "$out/fleet.kv")" = exact ] || { echo "FAIL: the fleet's table differs"; cat "$out/fleet.log"; exit 1; }
# the fleet's sockets: the local UDP port of each (their address is
# HC_GW_IP, the namespace's only one)
ip netns exec "$HC_NSG" ss -Huanp | awk '/"hc-gwsim"/ { n = split($4, a, ":"); print a[n] }' |
	sort -u > "$out/fleet.ports"
need "fleet sockets" "$(wc -l < "$out/fleet.ports")" -eq 110
"$HC_TEL" "hclab$HC_TAG" rooms > "$out/pool0.csv"
touch "$out/fleet.done"
rc=0
wait "$fleet" || rc=$?
tail -3 "$out/fleet.log"
[ "$rc" = 0 ] || { echo "FAIL: hc-gwsim exit $rc"; cat "$out/fleet.log"; exit 1; }
need "pool 0 users (hc-gwsim truth)" "$(kv truth_users "$out/fleet.kv")" -eq 2990

# pool 7: rooms 1001.. of these sizes
sizes=1,2,3,3,4,5,7,8,8,9,11,12,12
ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --appliance $HC_APP_IP --keys "$HC_KEYS" --gateway-id 200 \
	--users 85 --pool 7 --max 12 --seed-rooms $sizes --rounds 0 --truth "$out/pool7.csv" \
	--result "$out/gw200.kv" --timeout 120 > "$out/gw200.log" 2>&1 ||
	{ echo "FAIL: hc-gateway"; cat "$out/gw200.log"; exit 1; }
{ echo room,users; tail -n +2 -q "$out/pool0.csv" "$out/pool7.csv" | sort -t, -k1,1n; } > "$out/truth.csv"
hc_wait 60 "the room table equals both pools' truth" hc_rooms_equal "$out/truth.csv" ||
	{ diff "$out/truth.csv" <("$HC_TEL" "hclab$HC_TAG" rooms) | head; exit 1; }

python3 "$here/headcountctl_check.py" "$ctl" "hclab$HC_TAG" "$out" "$HC_GW_IP" \
	"$(grep "^project('headcount'" -A1 "$here/../../meson.build" | sed -n "s/.*version : '\([^']*\)'.*/\1/p")"

# hc-tel.py: an unknown command was answered (the application's command
# list, read on a second connection, lacks it): told so, as a refusal is,
# not as no answer; a reader that closed its end before a line came is
# no appliance's error (exit 0, nothing on stderr)
msg=$("$HC_TEL" "hclab$HC_TAG" kv /headcount/nosuch 2>&1) &&
	{ echo "FAIL: hc-tel.py: an unknown command exit 0: $msg"; exit 1; }
want="hc-tel: hclab$HC_TAG: the DPDK application at prefix 'hclab$HC_TAG' has no /headcount/nosuch (not headcount, or an older one; or a headcount still starting: its commands come once its ports are up)"
[ "$msg" = "$want" ] || { echo "FAIL: hc-tel.py, an unknown command: '$msg', not '$want'"; exit 1; }
# (stdout buffered, the default, its output is written at the end; and
# unbuffered, PYTHONUNBUFFERED=1, at each line: both)
closed_pipe() {
	python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
for unbuffered in (False, True):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE, env=env, timeout=60)
    print(p.returncode, repr(p.stderr.decode()))' "$@"
}
for cmd in "$HC_TEL hclab$HC_TAG kv /headcount/stats" "$ctl --prefix hclab$HC_TAG stats"; do
	closed=$(closed_pipe $cmd | tr '\n' ' ')
	[ "$closed" = "0 '' 0 '' " ] || { echo "FAIL: $cmd into a closed pipe: $closed"; exit 1; }
done
echo "hc-tel.py: an unknown command told as such; hc-tel.py and headcountctl, a closed reader: exit 0, quiet"

hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
compare_rooms "$out/truth.csv" "$out/rooms.csv"
echo "PASS: headcountctl"
