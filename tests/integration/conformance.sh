#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# conformance.sh CLIENT - one client library through the conformance
# suite (docs/conformance.md): the language-neutral driver
# tests/conformance/hc_conform.py runs CLIENT's agent (one session per
# gateway, the agent contract) in the lab's gateway namespace against
# headcount on af_packet, through its own impairing relays, scenarios
# a (loss, duplication, reordering), e (reconnects), b (gateway
# restarts), c (a gateway SIGKILLed), d (the appliance SIGKILLed and
# restarted: this script does it when the driver asks) and f (forged
# traffic both ways).  Each ends with the driver's exact comparison of
# the appliance with the agents' dumps; here: the room table sampled all
# along (no room ever above max) and the appliance's own final checks.
# Bounded: the driver runs under timeout, every wait has a bound.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
client=${1:?client}

# CLIENT -> its agent's command line (the driver adds the contract's
# options: --appliance, --gateway-id, --key/--key-slot, --incarnation)
case "$client" in
c) agent="$build/tools/hc-agent" ;;
elixir) agent="$root/clients/elixir/agent" ;;
node) agent="node $root/clients/node/agent.js" ;;
*) echo "unknown client $client"; exit 2 ;;
esac
command -v "${agent%% *}" > /dev/null || { echo "FAIL: no agent $agent"; exit 1; }

out=$(mktemp -d /tmp/hc-conform.XXXXXX)
driver=""
trap '[ -z "$driver" ] || kill "$driver" 2>/dev/null || true; hc_lab_down;
	[ -n "${HC_KEEP:-}" ] || rm -rf "$out"' EXIT

hc_lab_up $$
# a gateway is dead after 3 s without a datagram: scenario c's killed
# agent goes within its settle, and a live agent (a BEAM, node) paused
# for a second by a busy host is not taken for dead
app_args=(--stats-interval 0 --gateway-timeout-ms 3000 --gap-nacks 1000000
	--dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv")
hc_appliance_start "$build" "$out" 1 "${app_args[@]}" > /dev/null
hc_limit_watch_start "$out"

timeout 600 ip netns exec "$HC_NSG" python3 "$root/tests/conformance/hc_conform.py" \
	--agent "$agent" --appliance "$HC_APP_IP:7100" --keys "$HC_KEYS" \
	--prefix "hclab$HC_TAG" --restart-request "$out/restart-appliance" \
	--logdir "$out" --result "$out/conform.kv" ${HC_CONFORM_ARGS:-} &
driver=$!
# scenario d: the driver asks for an appliance restart by creating the
# file; SIGKILL, start again, remove the file (the driver then compares)
while kill -0 "$driver" 2>/dev/null; do
	if [ -e "$out/restart-appliance" ]; then
		kill -9 "$HC_PID"
		wait "$HC_PID" 2>/dev/null || true
		mv "$out/headcount.log" "$out/headcount-killed.log"
		echo "appliance killed with SIGKILL; restarting"
		hc_appliance_start "$build" "$out" 1 "${app_args[@]}" > /dev/null
		rm -f "$out/restart-appliance"
	fi
	sleep 0.1
done
rc=0
wait "$driver" || rc=$?
driver=""
hc_limit_watch_check || rc=1
hc_appliance_stop || { echo "FAIL: appliance exit status"; rc=1; }
[ "$rc" = 0 ] || { echo "FAIL: conformance of client $client (driver exit $rc; logs: HC_KEEP=1 keeps $out)"; exit 1; }
need seat_book_mismatches "$(kv seat_book_mismatches "$out/stats.kv")" -eq 0
need ctl_joins_over_max "$(kv ctl_joins_over_max "$out/stats.kv")" -eq 0
need "driver passed" "$(kv pass "$out/conform.kv")" -eq 1
echo "PASS: conformance of client $client"
