#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_attack.sh PHASE - the appliance and libheadcount on a hostile
# segment.  Three hosts in namespaces: headcount (af_packet, keys), an
# honest hc-gwsim fleet (libheadcount, kernel UDP), and an attacker with
# its own address and MAC and ordinary sockets (tools/hc-attack.py).
#
#   attack     the fleet places and churns users and settles exactly; the
#              attacker, who captured the fleet's traffic, tries every
#              attack class of issue #7 (forged heartbeats, wipes,
#              phantoms, stolen users, snapshot claims, PLACE floods,
#              reflection, malformed and replayed datagrams, forged answers
#              to the gateways).  Every one is dropped and counted (exact
#              counts), nobody answers the attacker, the fleet's final
#              comparison is exact and no room is ever above max (sampled
#              all along).
#   conflict   two gateways started from one copied configuration (same
#              id, same key): detected, counted, logged, and reported to
#              both through libheadcount's state callback.
#   reflection without keys (--no-auth, the one place a test runs so: to
#              check the bound that protects a deployment without keys):
#              500 datagrams full of gaps from the attacker's address draw
#              at most 4 datagrams each (+64) back, not thousands of NACKs.
#   sweeps     a gateway holding a valid key sends 400 datagrams that each
#              make the workers sweep its users (newer incarnations, snapshot
#              ends): --gateway-sweeps 4 lets at most 8 at once and 4 a
#              second through, the rest are counted (sweeps_deferred); an
#              honest gateway afterwards is exact.
#   reload     the keys file is rotated while a gateway runs: slot 1 added
#              (SIGHUP), the gateway restarts on slot 1, slot 0 removed
#              (telemetry keys_reload); a bad file is refused and the keys
#              in use stay.
# Bounded: every process runs under timeout, every wait has a bound.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
phase=${1:?phase}
out=$(mktemp -d /tmp/hc-attack.XXXXXX)
sampler="" pid1="" pid2=""
trap 'for p in $sampler $pid1 $pid2; do kill "$p" 2>/dev/null || true; done; hc_lab_down; [ -n "${HC_KEEP:-}" ] || rm -rf "$out"' EXIT
gwsim="$build/tools/hc-gwsim"
attack="$here/../../tools/hc-attack.py"
res="$out/gwsim.kv"

# max_room_sampler FILE: every 0.2 s (for at most 10 min) the largest room
# in the appliance's live table, the largest so far written to FILE.
max_room_sampler() {
	local file=$1 max=0 m end=$(($(date +%s) + 600))
	echo 0 > "$file"
	while [ "$(date +%s)" -lt "$end" ]; do
		m=$("$HC_TEL" "hclab$HC_TAG" rooms 2>/dev/null |
			awk -F, 'NR > 1 && $2 > m { m = $2 } END { print m + 0 }') || m=0
		if [ "$m" -gt "$max" ]; then max=$m; echo "$max" > "$file"; fi
		sleep 0.2
	done
}
tel() { hc_tel_kv "$1" | kv "$2" /dev/stdin; }

hc_lab_up $$
hc_lab_attacker_up

case "$phase" in
attack)
	hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 3000 \
		--dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv" > /dev/null
	max_room_sampler "$out/max_room" &
	sampler=$!
	# what a sniffing attacker learns: the fleet's traffic on the segment
	timeout 120 ip netns exec "$HC_NSG" python3 "$attack" capture --iface hcbr \
		--out "$out/capture" --count 3000 --seconds 60 > "$out/capture.log" &
	cap=$!
	timeout 400 ip netns exec "$HC_NSG" "$gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" \
		--prefix "hclab$HC_TAG" --result "$res" --gateways 4 --users 8000 \
		--arrival-rate 8000 --leave-rate 300 --duration 3 --settle 60 --hold 300 \
		--hold-until "$out/attack.done" --seed 5 > "$out/gwsim.log" 2>&1 &
	fleet=$!
	hc_wait 120 "the fleet settled exactly (phase=hold)" grep -qx phase=hold "$res" ||
		{ cat "$out/gwsim.log"; exit 1; }
	wait "$cap" || true
	need "captured datagrams" "$(wc -l < "$out/capture")" -gt 100
	hc_tel_kv /headcount/stats > "$out/before.kv"
	timeout 120 ip netns exec "$HC_NSX" python3 "$attack" attack --capture "$out/capture" \
		--appliance $HC_APP_IP --result "$out/attack.kv" > "$out/attack.log"
	a() { kv "$1" "$out/attack.kv"; }
	echo "attacker sent $(a sent_total) datagrams:"
	grep '^sent_' "$out/attack.kv" | sed 's/^/  /'
	# every forged datagram counted under its reason, exactly
	# (the fleet sends nothing malformed: before the attack these were 0)
	want=()
	for why in auth_missing auth_bad_tag auth_no_key truncated bad_magic bad_version bad_length; do
		need "drop_$why before the attack" "$(kv drop_$why "$out/before.kv")" -eq 0
		want+=("drop_$why=$(a expect_$why)")
	done
	hc_wait 120 "the appliance counted every attack datagram under its reason" \
		hc_tel_has /headcount/stats "${want[@]}" ||
		{ echo "want ${want[*]}"; hc_tel_kv /headcount/stats | grep drop_; exit 1; }
	echo "  every forged or malformed datagram counted: ${want[*]}"
	# replays carry good tags: the sequencer and the replay windows refuse
	# them (duplicates, replayed counters, stale incarnations), and none
	# moves a gateway's address (nobody answers the attacker)
	hc_tel_kv /headcount/stats > "$out/after.kv"
	old=$(( $(kv seq_duplicates "$out/after.kv") - $(kv seq_duplicates "$out/before.kv") +
		$(kv seq_replayed "$out/after.kv") - $(kv seq_replayed "$out/before.kv") +
		$(kv seq_stale "$out/after.kv") - $(kv seq_stale "$out/before.kv") ))
	need "replayed genuine datagrams refused (duplicates + replayed + stale)" "$old" -ge "$(a sent_replay)"
	need "datagrams sent back to the attacker" "$(a replies_received)" -eq 0
	need "users the appliance counts for unused gateway ids" \
		"$(hc_tel_kv /headcount/gateways | grep -c '^\(200\|900\)=' || true)" -eq 0
	touch "$out/attack.done"
	rc=0
	wait "$fleet" || rc=$?
	cat "$out/gwsim.log" | tail -5
	[ "$rc" = 0 ] || { echo "FAIL: the fleet's final comparison (hc-gwsim exit $rc)"; exit 1; }
	need "forged answers the gateways refused (rx_wrong_source)" \
		"$(kv rx_wrong_source "$res")" -eq "$(a sent_to_gateways)"
	need "gateways told of an id conflict" "$(kv state_id_conflict "$res")" -eq 0
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	sampler=""
	need "largest room ever sampled" "$(cat "$out/max_room")" -le 100
	need "largest room ever sampled" "$(cat "$out/max_room")" -gt 0
	hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
	need seat_book_mismatches "$(kv seat_book_mismatches "$out/stats.kv")" -eq 0
	need "rooms above max at the end" \
		"$(awk -F, 'NR > 1 && $2 > 100' "$out/rooms.csv" | wc -l)" -eq 0
	echo "PASS: every attack dropped and counted, nobody answered the attacker, the fleet's table is exact, no room ever above 100"
	;;
conflict)
	hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 3000 \
		> "$out/headcount.out"
	# one copied configuration: gateway id 7, the same key, two hosts'
	# worth of processes; the second starts once the first is counted (a
	# newer incarnation): the second takes the id over, the first keeps
	# sending.  Both run until each has been told and the appliance has
	# told the second source again (not for a set time: a busy host may
	# be slow to start the second), then are stopped (SIGTERM: each
	# writes its result; their tables cannot agree, one id, two
	# memberships, so no comparison could end them)
	for i in 1 2; do
		timeout 120 ip netns exec "$HC_NSG" "$gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" \
			--gateways 1 --first-id 7 --users 2000 --user-base $((i * 100000)) \
			--arrival-rate 200 --leave-rate 10 --duration 100 \
			--result "$out/conflict.$i.kv" --seed $i > "$out/conflict.$i.log" 2>&1 &
		eval "pid$i=\$!"
		[ "$i" = 2 ] || hc_wait 60 "gateway 7 is counted" \
			sh -c "$HC_TEL hclab$HC_TAG kv /headcount/gateways | grep -q '^7='"
	done
	hc_wait 60 "the appliance saw the id conflict" \
		sh -c "[ \"\$($HC_TEL hclab$HC_TAG kv /headcount/control | grep '^id_conflicts=' | cut -d= -f2)\" -gt 0 ]"
	told() { grep -q "another source uses this gateway id" "$out/conflict.$1.log"; }
	hc_wait 60 "the first gateway told of the conflict" told 1
	hc_wait 60 "the second gateway told of the conflict" told 2
	hc_wait 60 "the second source told again" \
		sh -c "[ \"\$($HC_TEL hclab$HC_TAG kv /headcount/control | grep '^conflict_notices=' | cut -d= -f2)\" -gt 1 ]"
	kill -TERM "$pid1" "$pid2" 2>/dev/null || true
	wait "$pid1" || true
	wait "$pid2" || true
	pid1="" pid2=""
	need "first gateway told (its state callback said ID_CONFLICT)" \
		"$(kv state_id_conflict "$out/conflict.1.kv")" -eq 1
	need "second gateway told (its state callback said ID_CONFLICT)" \
		"$(kv state_id_conflict "$out/conflict.2.kv")" -eq 1
	need "id conflicts counted by the appliance (ctl)" "$(tel /headcount/control id_conflicts)" -gt 0
	# the second source is told again every second while it goes on
	need "conflict notices sent" "$(tel /headcount/control conflict_notices)" -gt 1
	grep -q "two live sources use this id" "$out/headcount.log" ||
		{ echo "FAIL: no log line names the conflict"; exit 1; }
	hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
	echo "PASS: one id from two sources is detected, counted, logged and told to both gateways"
	;;
reflection)
	hc_appliance_start "$build" "$out" 1 --stats-interval 0 --no-auth > /dev/null
	timeout 120 ip netns exec "$HC_NSX" python3 "$attack" reflect --appliance $HC_APP_IP \
		--gateway 50 --count 500 --result "$out/reflect.kv" > /dev/null
	got=$(kv replies_received "$out/reflect.kv")
	need "datagrams sent back for 500" "$got" -le $((4 * 500 + 64))
	need "RESYNC/HEARTBEAT held back by the budget" "$(tel /headcount/control tx_budget_held)" -gt 0
	hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
	echo "PASS: without keys the appliance sent $got datagrams back for 500 (bound $((4 * 500 + 64)))"
	;;
sweeps)
	hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-sweeps 4 > /dev/null
	# the attacker's host resolves the appliance first: while ARP is
	# unresolved the kernel queues a burst only up to unres_qlen_bytes
	# (212,992 bytes of buffers) and drops the rest.  One fresh-check run
	# under load saw fewer than 300 deferred (not reproduced here, passed
	# in the next): a first phase partly lost so is the likely cause
	timeout 30 ip netns exec "$HC_NSX" ping -c 1 -W 20 $HC_APP_IP > /dev/null ||
		{ echo "FAIL: the attacker's host cannot reach the appliance (ping)"; exit 1; }
	t0=$(date +%s.%N)
	timeout 120 ip netns exec "$HC_NSX" python3 "$attack" sweeps --appliance $HC_APP_IP \
		--keys "$out/keys" --gateway 60 --count 200 --result "$out/sweeps.kv" > /dev/null
	need "datagrams sent (400 of them sweeping)" "$(kv sent "$out/sweeps.kv")" -eq 600
	# (about 384 wait here; 100 leaves room for datagrams lost on the way,
	# and with no budget none would)
	hc_wait 30 "the appliance deferred the sweeps over the budget" \
		sh -c "[ \"\$($HC_TEL hclab$HC_TAG kv /headcount/stats | grep '^sweeps_deferred=' | cut -d= -f2)\" -ge 100 ]" ||
		{ cat "$out/sweeps.kv"; hc_tel_kv /headcount/stats |
			grep -E '^(sweeps|sweeps_deferred|sweep_scans|user_drops|snapshots|seq_|drop_|port_ipackets|port_imissed|port_ring_drops)'; exit 1; }
	# the attacker's datagrams all read: the counts stand still for 0.5 s
	last="" now=""
	for _ in $(seq 60); do
		now="$(tel /headcount/stats sweeps) $(tel /headcount/stats sweeps_deferred)"
		[ "$now" != "$last" ] || break
		last=$now
		sleep 0.5
	done
	need "the counts stood still" "$now" = "$last"
	sweeps=$(tel /headcount/stats sweeps)
	t1=$(date +%s.%N)
	# GCRA: 8 at once, then one every 0.25 s of the window (counted after it)
	bound=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", 8 + 4 * (b - a) + 1 }')
	need "sweeps at most 8 + 4 a second (window $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)" \
		"$sweeps" -le "$bound"
	need "sweeps taken" "$sweeps" -ge 8
	# the attacker's last users go when it is declared dead (3 s silent)
	hc_wait 30 "the attacking gateway's users are gone" hc_tel_has /headcount/stats users=0
	# an honest gateway meanwhile: exact
	timeout 120 ip netns exec "$HC_NSG" "$gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" \
		--prefix "hclab$HC_TAG" --gateways 1 --first-id 5 --users 300 --arrival-rate 1000 \
		--duration 1 --settle 30 --result "$out/honest.kv" --seed 3 > "$out/honest.log" 2>&1 ||
		{ cat "$out/honest.log"; echo "FAIL: the honest gateway"; exit 1; }
	hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
	echo "PASS: 400 sweeping datagrams (of 600) of a keyed gateway caused $sweeps sweeps (bound $bound), the rest counted; an honest gateway is exact"
	;;
reload)
	hc_appliance_start "$build" "$out" 1 --stats-interval 0 > /dev/null
	keys=$out/keys
	k1=$(od -An -v -tx1 -N16 /dev/urandom | tr -d ' \n')
	gw_keys=$out/gw.keys
	# phase 1: gateway 5 on slot 0
	( umask 077; grep '^5 0 ' "$keys" > "$gw_keys" )
	gw_phase() { # gw_phase N SLOT: 300 users through gateway 5, compared exactly
		timeout 120 ip netns exec "$HC_NSG" "$gwsim" --appliance $HC_APP_IP --keys "$gw_keys" \
			--key-slot "$2" --prefix "hclab$HC_TAG" --gateways 1 --first-id 5 --users 300 \
			--user-base $(($1 * 100000)) --arrival-rate 1000 --duration 1 --settle 30 \
			--result "$out/reload.$1.kv" --seed "$1" > "$out/reload.$1.log" 2>&1 ||
			{ cat "$out/reload.$1.log"; echo "FAIL: gateway phase $1 (slot $2)"; exit 1; }
	}
	gw_phase 1 0
	# phase 2: slot 1 added on the appliance (SIGHUP), the gateway moves to it
	echo "5 1 $k1" >> "$keys"
	( umask 077; echo "5 1 $k1" > "$gw_keys" )
	kill -HUP "$HC_PID"
	hc_wait 30 "SIGHUP reloaded the keys" hc_tel_has /headcount/control keys_reloads=1
	gw_phase 2 1
	# phase 3: slot 0 removed (telemetry), slot 1 still works; slot 0 is refused
	grep -v '^5 0 ' "$keys" > "$keys.new"; chmod 600 "$keys.new"; mv "$keys.new" "$keys"
	"$HC_TEL" "hclab$HC_TAG" kv /headcount/keys_reload > /dev/null
	hc_wait 30 "telemetry reloaded the keys" hc_tel_has /headcount/control keys_reloads=2
	gw_phase 3 1
	# a bad file (mode 644) is refused; the keys in use stay
	chmod 644 "$keys"
	kill -HUP "$HC_PID"
	hc_wait 30 "the bad file was refused" hc_tel_has /headcount/control keys_reload_failures=1
	chmod 600 "$keys"
	# a file with no key (truncated, or caught half written) would drop
	# every gateway: refused too, the keys in use stay
	cp "$keys" "$keys.kept"
	: > "$keys"
	kill -HUP "$HC_PID"
	hc_wait 30 "the empty file was refused" hc_tel_has /headcount/control keys_reload_failures=2
	mv "$keys.kept" "$keys"
	gw_phase 4 1
	need "datagrams dropped for a missing key (the old slot)" "$(tel /headcount/stats drop_auth_no_key)" -eq 0
	hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
	echo "PASS: keys rotated without a restart (SIGHUP and telemetry), a bad file and an empty one refused, no datagram lost"
	;;
*) echo "netns_attack: unknown phase $phase" >&2; exit 2 ;;
esac
