#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# elixir_client.sh - the Elixir client (clients/elixir) against the real
# appliance on af_packet in the namespace lab:
#   1. its ExUnit unit tests (codec, vectors read from docs/protocol.md,
#      the session against a stand-in appliance);
#   2. its lab tests (`mix test --only lab`, test/lab_test.exs) inside the
#      gateway namespace: the appliance's room table equals the client's
#      membership after joins, moves and leaves; placement; admission
#      refusals followed; MOVEs delivered to the owning process; an owner's
#      exit; the guide's channel calls (docs/elixir.md);
#   3. the conformance agent (clients/elixir/agent) driven from here: users
#      joined, one placed (assign) and joined, a bad join refused (error),
#      the table equal to its dump, the appliance killed and
#      restarted: the agent reports appliance_restarted, restates its users
#      in a snapshot and the new appliance's table equals its dump again;
#      a clean close empties the table at once.
# Mix runs offline with its home under the test's temp dir (a fresh clone,
# as root); it builds into clients/elixir/_build (gitignored).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
src=$(cd "$here/../.." && pwd)
client=$src/clients/elixir
out=$(mktemp -d /tmp/hc-elixir.XXXXXX)
AG_PID=""
cleanup() {
	[ -n "$AG_PID" ] && kill "$AG_PID" 2>/dev/null || true
	hc_lab_down
	rm -rf "$out"
}
trap cleanup EXIT
export MIX_HOME=$out/mix HEX_OFFLINE=1 MIX_ENV=test
command -v mix > /dev/null || { echo "FAIL: mix not found (tools/install-deps.sh installs elixir)"; exit 1; }

echo "== unit tests (mix test)"
(cd "$client" && mix test < /dev/null) || { echo "FAIL: the Elixir client's unit tests"; exit 1; }

# the balancer acts within 300 ms and resends a directive after 300 ms (the
# MOVE test); the default pool: min 15, target 50, max 100
printf '[control]\nbalance_interval_ms = 300\ndirective_timeout_ms = 300\n' > "$out/policy.ini"
hc_lab_up $$
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --config "$out/policy.ini" \
	--dump-stats "$out/stats.kv" > /dev/null
hc_limit_watch_start "$out"
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }

echo "== lab tests (mix test --only lab, in the gateway namespace)"
(cd "$client" && ip netns exec "$HC_NSG" env HC_APPLIANCE=$HC_APP_IP:7100 HC_KEYS="$HC_KEYS" \
	HC_TEL="$HC_TEL" HC_TEL_PREFIX="hclab$HC_TAG" mix test --only lab < /dev/null) ||
	{ echo "FAIL: the Elixir client's lab tests"; exit 1; }

echo "== the conformance agent: an appliance restart"
key=$(awk '$1 == 20 && $2 == 0 { print $3 }' "$HC_KEYS")
# the agent under test (MIX_ENV=dev: its own build, compiled by the script)
coproc AG { MIX_ENV=dev exec ip netns exec "$HC_NSG" "$client/agent" --appliance $HC_APP_IP:7100 \
	--gateway-id 20 --key "$key" 2>> "$out/agent.err"; }
AG_PID=$AG_PID
exec 3<&"${AG[0]}" 4>&"${AG[1]}"

# agent_read REGEX: read the agent's lines until one matches (60 s each at
# most: only a broken build waits that long); every line goes to agent.log
agent_read() {
	local line
	while IFS= read -r -t 60 line <&3; do
		echo "$line" >> "$out/agent.log"
		if [[ $line =~ $1 ]]; then
			REPLY=$line
			return 0
		fi
	done
	echo "FAIL: the agent never said /$1/ (its stderr:)"; cat "$out/agent.err"
	return 1
}
# agent_saw REGEX: the agent said it already (a line agent_read passed
# over while it looked for another: events come whenever they come), or
# says it next
agent_saw() {
	if grep -Eq "$1" "$out/agent.log" 2> /dev/null; then
		REPLY=$(grep -E "$1" "$out/agent.log" | head -1)
		return 0
	fi
	agent_read "$1"
}
# agent_truth FILE: `dump`, the members counted per room as the CSV of
# hc-tel.py rooms
agent_truth() {
	: > "$out/members"
	echo dump >&4
	local line
	while IFS= read -r -t 60 line <&3; do
		echo "$line" >> "$out/agent.log"
		case $line in
		member\ *) echo "$line" >> "$out/members" ;;
		dumped\ *) break ;;
		esac
	done
	[[ $line == dumped\ * ]] || { echo "FAIL: no dump"; return 1; }
	DUMPED=$line
	awk '{ n[$3]++ } END { for (r in n) print r "," n[r] }' "$out/members" | sort -t, -k1,1n |
		{ echo "room,users"; cat; } > "$1"
}
agent_status() { echo status >&4; agent_read '^status ' > /dev/null; echo "$REPLY"; }
status_kv() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p"; }

agent_read '^ready [0-9]+$'
echo "agent: $REPLY"
for u in $(seq 1 300); do echo "join $u $((5000 + u % 7)) 0"; done >&4
echo "join 1 0 0" >&4
agent_read '^error join 1 0 0 '
agent_saw '^state connected$'
# a placement: the answer names a room with a seat; the user joins it
echo "place 9001 0" >&4
agent_read '^assign 9001 1 placed [0-9]+ 0 0$'
echo "join 9001 $(cut -d' ' -f5 <<< "$REPLY") 0" >&4
agent_truth "$out/truth1.csv"
need dumped_users "$(cut -d' ' -f2 <<< "$DUMPED")" -eq 301
hc_wait 60 "the room table equals the agent's dump" hc_rooms_equal "$out/truth1.csv"
st=$(agent_status)
for k in users sequence acked appliance_users appliance_incarnation state snapshots retransmits \
	rx_bad_auth rx_dropped; do
	[ -n "$(status_kv "$st" $k)" ] || { echo "FAIL: the agent's status has no $k="; exit 1; }
done
need snapshots "$(status_kv "$st" snapshots)" -eq 1
need rx_dropped "$(status_kv "$st" rx_dropped)" -eq 0

# the appliance dies (SIGKILL) and comes back: a new incarnation; the agent
# restates its users in a snapshot
kill -9 "$HC_PID"
wait "$HC_PID" 2> /dev/null || true
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --config "$out/policy.ini" \
	--dump-stats "$out/stats2.kv" > /dev/null
agent_read '^state appliance_restarted$'
hc_wait 60 "the restarted appliance's table equals the agent's dump" hc_rooms_equal "$out/truth1.csv"
# the agent learns the appliance's count of its users from the next
# heartbeat, which may come after the table matched: waited for
agent_appliance_users_is() { [ "$(status_kv "$(agent_status)" appliance_users)" = "$1" ]; }
hc_wait 60 "the agent hears the restarted appliance holds its 301 users" \
	agent_appliance_users_is 301
st=$(agent_status)
need snapshots "$(status_kv "$st" snapshots)" -ge 2
need appliance_users "$(status_kv "$st" appliance_users)" -eq 301
need state_connected "$(status_kv "$st" state)" = connected
echo "agent after the restart: $st" | cut -c1-200

# 100 leave; a clean close: SHUTDOWN empties the table at once
for u in $(seq 1 100); do echo "leave $u"; done >&4
agent_truth "$out/truth2.csv"
need dumped_users "$(cut -d' ' -f2 <<< "$DUMPED")" -eq 201
hc_wait 60 "the room table equals the agent's 201 users" hc_rooms_equal "$out/truth2.csv"
echo "close clean" >&4
agent_read '^closed$'
wait "$AG_PID" || { echo "FAIL: the agent exited $?"; exit 1; }
AG_PID=""
printf 'room,users\n' > "$out/empty.csv"
hc_wait 60 "an empty table after the agent's SHUTDOWN" hc_rooms_equal "$out/empty.csv"
hc_limit_watch_check || exit 1
hc_appliance_stop
need gateway_deaths "$(kv gateway_deaths "$out/stats2.kv")" -eq 1
echo "PASS: the Elixir client against the appliance (unit, lab, agent and restart)"
