#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run-load.sh - the chat under load (docs/chat.md): the namespace lab,
# headcount, the chat gateway, and load.js with thousands of simulated
# WebSocket users joining, chatting and leaving, in the gateway's
# namespace (no proxy in the way).  Prints load.js's figures (key=value)
# and the appliance's room count.  Needs root and a build (tools/build.sh).
#   run-load.sh [load.js options: --clients N --seconds S ...]
# The pool: min 4, target 8, max 10 (fill = target), balancing every
# second, so leaving users shrink rooms and the balancer moves others.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/lib.sh"
. "$here/chat-lab.sh"
build=${HC_BUILD:-$root/build}
out=$(mktemp -d /tmp/hc-chat-load.XXXXXX)
cleanup() {
	[ -z "${HC_CHAT_PID:-}" ] || kill -TERM "$HC_CHAT_PID" 2>/dev/null || true
	[ -z "${HC_CHAT_PID:-}" ] || wait "$HC_CHAT_PID" 2>/dev/null || true
	hc_lab_down
	[ -n "${HC_KEEP:-}" ] || rm -rf "$out"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" # thousands of sockets on each side: as many as allowed
chat_npm_ci
printf '[control]\nbalance_interval_ms = 1000\ncooldown_ms = 10000\n[pool.default]\nid = 0\nmin = 4\nmax = 10\ntarget = 8\n' \
	> "$out/policy.ini"
hc_lab_up $$
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --config "$out/policy.ini" > /dev/null
hc_arp_check > /dev/null || { echo "run-load: no ARP answer" >&2; exit 1; }
chat_gateway_start "$out" 1
ip netns exec "$HC_NSG" node "$here/load.js" --url "http://$HC_GW_IP:8080/" "$@"
echo "appliance_rooms_after_all_left=$(($("$HC_TEL" "hclab$HC_TAG" rooms | wc -l) - 1))"
