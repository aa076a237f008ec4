#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_shard.sh - pools spread over two appliances, and one pool moved
# (docs/scaling-shards.md): appliances A (198.18.0.1) and B (198.18.0.4)
# in namespaces of their own on the gateways' segment; two hc-shardgw
# gateways (libheadcount's shard layer) place users of pools 1 and 2
# (on A) and 3 (on B) by shard map version 1, with churn rounds; pool 2
# moves to B by map version 2, which each gateway applies in a different
# round while the other keeps placing, joining and leaving.  Step 1 of
# the procedure (the pool configured on its new appliance) is B's policy
# from its start; step 4 (pool 2 out of A's policy) is a reload of A
# (SIGHUP) once both gateways moved, after a wrong edit (pool 1 removed,
# which still holds users on A) was refused whole.  A's balancer has
# nothing to move (its pools' min is 1: its MOVEs, which hc-shardgw does
# not follow, would hold reserved seats that keep a pool from being
# removed for reservation_ttl_ms) and ticks every 200 ms (seats leased to
# workers, which also keep a pool, come back within two ticks unused).
# Checks: each gateway settled (every appliance acknowledged everything
# and reports exactly its users and their digest), no user dropped or
# refused, no call unrouted; A's room table equals the gateways' truth for
# A exactly and holds only pool 1's ids (1-9999), all 2 x 400 of its
# users; B's equals the truth for B and holds pool 2's 800 users in its
# ids (10000-19999) and pool 3's 800; step 4, from A with no seat reserved
# or leased and no directive sent: the wrong edit refused
# (config_reload_errors 1, config_reloads 0, A's pools, pool 1's users
# and rooms and its room table unchanged, the reason logged), then pool
# 2's removal accepted (config_reloads 1, A's policy holds pool 1 only,
# A's and B's tables still equal the truth, B reloaded nothing); both
# seat books consistent at exit, the reload counters at exit A 1 and 1,
# B 0 and 0, no sequence lost, no frame dropped but the other appliance's
# traffic.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-shard.XXXXXX)
trap 'hc_lab_appliance2_down; hc_lab_down; rm -rf "$out"' EXIT
per_pool=400 # users per pool per gateway

pool() { # NAME ID FIRST-LAST [MIN]
	printf '[pool.%s]\nid = %s\nmin = %s\nmax = 40\ntarget = 20\nrooms = %s\n' "$1" "$2" \
		"${4:-5}" "$3"
}
# A's pools (min 1) give its balancer nothing to move: hc-shardgw does
# not follow MOVEs, and each MOVE directive keeps a seat reserved for
# reservation_ttl_ms; a pool holding reserved seats is not removed by a
# reload (step 4 below), which would then wait up to a minute for them to
# expire.  Its balance tick is short: the seats it leased to workers
# (lease_seats) also keep a pool, and come back after two ticks unused.
a_control() { printf '[control]\nreservation_ttl_ms = 60000\nbalance_interval_ms = 200\n'; }
{ a_control; pool one 1 1-9999 1; pool two 2 10000-19999 1; } > "$out/a.ini"
{ printf '[control]\nreservation_ttl_ms = 60000\n'; pool two 2 10000-19999; pool three 3 20000-29999; } \
	> "$out/b.ini"
map() { # VERSION APPLIANCE-OF-POOL-2
	printf 'version %s\nappliance a 198.18.0.1\nappliance b 198.18.0.4\n' "$1"
	printf 'pool 1 a 1-9999\npool 2 %s 10000-19999\npool 3 b 20000-29999\n' "$2"
}
map 1 a > "$out/map1"
map 2 b > "$out/map2"

t0=$SECONDS
hc_lab_up $$
hc_lab_appliance2_up
mkdir "$out/a" "$out/b"
hc_appliance_start "$build" "$out/a" 1 --stats-interval 0 --gateway-timeout-ms 0 \
	--max-rooms 32768 --config "$out/a.ini" --dump-rooms "$out/a/rooms.csv" \
	--dump-stats "$out/a/stats.kv"
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer from A"; exit 1; }
hc_use_appliance 2
cp "$out/a/keys" "$out/b/keys"
hc_appliance_start "$build" "$out/b" 1 --stats-interval 0 --gateway-timeout-ms 0 \
	--max-rooms 32768 --config "$out/b.ini" --dump-rooms "$out/b/rooms.csv" \
	--dump-stats "$out/b/stats.kv"
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer from B"; exit 1; }
hc_use_appliance 1
echo "both appliances up after $((SECONDS - t0)) s"

pids=()
for g in 1 2; do
	ip netns exec "$HC_NSG" "$build/tools/hc-shardgw" --map "$out/map1" --map2 "$out/map2" \
		--move-round $((g + 1)) --keys "$HC_KEYS" --gateway-id $g --users $per_pool \
		--rounds 4 --churn 0.3 --seed $((7 * g)) --timeout 100 --max-rooms 32768 \
		--truth "$out/truth.gw$g" --result "$out/gw$g.kv" &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
for g in 1 2; do
	echo "gateway $g: $(tr '\n' ' ' < "$out/gw$g.kv")"
done
[ "$rc" = 0 ] || { echo "FAIL: an hc-shardgw failed"; exit 1; }
echo "gateways done after $((SECONDS - t0)) s"
printf 'checks_passed=1\nagrees=1\nmoved=1\npresent=%s\nsession_users=%s\ndrops=0\nrefusals=0\nsuperseded=0\nunrouted=0\nout_of_range=0\nmove_errors=0\nmap_version=2\nmaps_applied=1\npools_moved=1\nrx_bad=0\n' \
	$((3 * per_pool)) $((3 * per_pool)) > "$out/gw.expect"
for g in 1 2; do
	compare_kv "$out/gw.expect" "$out/gw$g.kv" || { echo "FAIL: hc-shardgw $g's figures"; exit 1; }
	need "gateway $g users_moved" "$(kv users_moved "$out/gw$g.kv")" -gt 0
done

# the truth per appliance: the sum of both gateways' tables
for a in a b; do
	awk -F, 'FNR > 1 { n[$1] += $2 } END { for (r in n) print r "," n[r] }' \
		"$out"/truth.gw*."$a".csv | sort -t, -k1,1n | { echo "room,users"; cat; } \
		> "$out/truth.$a.csv"
done
# users per pool range in a room table: "pool1 pool2 pool3"
ranges() {
	awk -F, 'NR > 1 { if ($1 < 10000) p1 += $2; else if ($1 < 20000) p2 += $2;
		else if ($1 < 30000) p3 += $2; else bad += $2 }
		END { print p1 + 0, p2 + 0, p3 + 0, bad + 0 }' "$1"
}
[ "$(ranges "$out/truth.a.csv")" = "$((2 * per_pool)) 0 0 0" ] ||
	{ echo "FAIL: the gateways' truth for A: $(ranges "$out/truth.a.csv")"; exit 1; }
[ "$(ranges "$out/truth.b.csv")" = "0 $((2 * per_pool)) $((2 * per_pool)) 0" ] ||
	{ echo "FAIL: the gateways' truth for B: $(ranges "$out/truth.b.csv")"; exit 1; }
hc_wait 60 "A's room table equals the gateways' truth for A" hc_rooms_equal "$out/truth.a.csv"
hc_use_appliance 2
hc_wait 60 "B's room table equals the gateways' truth for B" hc_rooms_equal "$out/truth.b.csv"
echo "tables checked after $((SECONDS - t0)) s"
t4=$SECONDS

# step 4 of the procedure: pool 2 out of A's policy by a reload (SIGHUP).
# state NAME:PREFIX:TRUTH...: each appliance's figures as NAME.KEY=VALUE
# lines, all read in one process (a Python start costs seconds on a
# loaded host): users and reload counters, live reservations, leased
# seats and directives sent, the running policy's pool ids, each pool's
# users and rooms, and whether the live room table equals TRUTH.  The
# interpreter is looked up once: python3 may be a wrapper costing seconds
# a start (pyenv's shim)
py=$(python3 -c 'import sys; print(sys.executable)')
state() {
	"$py" - "$HC_TEL" "$@" <<-'PY'
	import importlib.util, sys
	spec = importlib.util.spec_from_file_location("hctel", sys.argv[1])
	tel = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(tel)
	for arg in sys.argv[2:]:
	    name, pre, truth = arg.split(":", 2)
	    st = tel.command(pre, "/headcount/stats")
	    ctl = tel.command(pre, "/headcount/control")
	    pools = tel.command(pre, "/headcount/pools")
	    ids = sorted(int(k) for k in pools if k.isdigit())
	    out = ["%s=%s" % (k, st[k]) for k in ("users", "config_reloads", "config_reload_errors")]
	    out += ["%s=%s" % (k, ctl[k]) for k in ("reservations_outstanding", "leases_outstanding",
	                                              "directives_sent")]
	    out.append("pools=" + " ".join(map(str, ids)))
	    out += ["pool%d=%d/%d" % (i, pools[str(i)]["users"], pools[str(i)]["rooms"]) for i in ids]
	    table = "room,users\n" + "".join("%d,%d\n" % r for r in tel.rooms(pre))
	    out.append("rooms_equal=%d" % (table == open(truth).read()))
	    print("\n".join("%s.%s" % (name, o) for o in out))
	PY
}
# has NAME:PREFIX:TRUTH... -- NAME.KEY=VALUE...: the state holds every one
has() {
	local specs=() kv got
	while [ "$1" != -- ]; do specs+=("$1"); shift; done
	shift
	got=$(state "${specs[@]}") || return 1
	for kv in "$@"; do
		grep -qx "$kv" <<< "$got" || return 1
	done
}
logged() { grep -qF "$1" "$out/a/headcount.log"; }
B=b:hclab$HC_TAG:$out/truth.b.csv # (B is the current appliance here)
hc_use_appliance 1
A=a:hclab$HC_TAG:$out/truth.a.csv
u=$((2 * per_pool)) a_rooms=$(($(wc -l < "$out/truth.a.csv") - 1))
b_rooms2=$(awk -F, 'NR > 1 && $1 >= 10000 && $1 < 20000' "$out/truth.b.csv" | wc -l)
hc_wait 60 "before step 4: A holds pools 1 ($u users in $a_rooms rooms) and 2 (empty), no seat reserved or leased; no reload yet" \
	has "$A" "$B" -- a.users=$u a.config_reloads=0 a.config_reload_errors=0 \
	a.reservations_outstanding=0 a.leases_outstanding=0 a.directives_sent=0 "a.pools=1 2" \
	a.pool1=$u/$a_rooms a.pool2=0/0 a.rooms_equal=1 b.config_reloads=0 b.config_reload_errors=0
# a) the wrong pool removed: pool 1 still holds users on A -> refused whole
{ a_control; pool two 2 10000-19999 1; } > "$out/a.ini"
kill -HUP "$HC_PID"
# (the log line first: a grep costs nothing, a telemetry read a Python start)
hc_wait 30 "A logged why" logged "config reload refused, the running config stays: pool 1 (one) is gone from the file but holds $u users and 0 reserved seats in $a_rooms rooms: a pool is removed only once it is empty"
hc_wait 60 "A refused the removal of pool 1 and is unchanged" \
	has "$A" -- a.users=$u a.config_reloads=0 a.config_reload_errors=1 "a.pools=1 2" \
	a.pool1=$u/$a_rooms a.pool2=0/0 a.rooms_equal=1
echo "  step 4 with the wrong pool (pool 1, $u users): refused, A unchanged"
# b) step 4 itself: pool 2 (empty on A since every gateway moved) removed
{ a_control; pool one 1 1-9999 1; } > "$out/a.ini"
kill -HUP "$HC_PID"
hc_wait 30 "A logged the reload" logged "config reloaded: 1 pools"
hc_wait 60 "A reloaded without pool 2, its users and rooms unchanged; B unchanged, no reload on B" \
	has "$A" "$B" -- a.users=$u a.config_reloads=1 a.config_reload_errors=1 a.pools=1 \
	a.pool1=$u/$a_rooms a.rooms_equal=1 b.users=$((4 * per_pool)) b.config_reloads=0 \
	b.config_reload_errors=0 "b.pools=2 3" b.pool2=$u/$b_rooms2 b.rooms_equal=1
echo "  step 4: pool 2 removed from A by SIGHUP; A holds pool 1's $u users, B unchanged"
echo "step 4 done after $((SECONDS - t0)) s (it took $((SECONDS - t4)) s)"
hc_appliance_stop
hc_use_appliance 2
hc_appliance_stop
for a in a b; do
	echo "appliance $a (pool users: $(ranges "$out/$a/rooms.csv") in ranges 1, 2, 3, none):"
	compare_rooms "$out/truth.$a.csv" "$out/$a/rooms.csv"
	need "$a seat_book_mismatches" "$(kv seat_book_mismatches "$out/$a/stats.kv")" -eq 0
	echo "  $a admission refusals (answered NEW_TOPIC): $(kv refused "$out/$a/stats.kv")"
	need "$a sequences lost" "$(kv seq_lost "$out/$a/stats.kv")" -eq 0
	need "$a control messages lost" "$(kv ctl_lost "$out/$a/stats.kv")" -eq 0
	need "$a config reloads" "$(kv ctl_config_reloads "$out/$a/stats.kv")" -eq "$([ $a = a ] && echo 1 || echo 0)"
	need "$a config reload errors" "$(kv ctl_config_reload_errors "$out/$a/stats.kv")" -eq "$([ $a = a ] && echo 1 || echo 0)"
	# frames dropped other than the segment's traffic for the other
	# appliance (its ARP, its address), the ARP checks' probes and the
	# ICMP port-unreachables (drop_icmp_ignored since the ICMP responder)
	# answering heartbeats sent to the gateways
	# after they exited
	st=$out/$a/stats.kv
	echo "  $a drops by reason: $(grep '^drop_.*=[1-9]' "$st" | tr '\n' ' ')"
	need "$a other drops" $(($(kv drops "$st") - $(kv drop_arp_ignored "$st") -
		$(kv drop_ip_not_for_us "$st") - $(kv drop_wrong_port "$st") -
		$(kv drop_not_ipv4 "$st") - $(kv drop_not_udp "$st") -
		$(kv drop_icmp_ignored "$st"))) -eq 0
done
echo "PASS: pools over two appliances; pool 2 moved from A to B exactly, nothing lost"
