#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_faults.sh PHASE - the reliability layer under faults, end to end:
# hc-gwsim's gateways (libheadcount, kernel UDP) in one namespace,
# headcount on af_packet in another.  Every phase ends with hc-gwsim's
# exact comparison of the appliance's room table with the gateways' own
# membership (exit 1 on any difference), and checks the counters that
# show the fault was really there and really repaired.
#
#   impair     5 % loss and 2 % duplication in both directions (tc-bpf on
#              the gateway's veth: egress = G->A, ingress = A->G), 10 % of
#              datagrams held 20 ms in both directions (reordering, in the
#              library), users reconnecting through other gateways
#   restart    gateways crash and restart (new incarnations, old users
#              dropped, new snapshots), one crashes for good (its users
#              dropped after the gateway timeout), users reconnecting
#              elsewhere
#   reconnect  half of the leaving users reconnect through another gateway
#              (same room) and the old gateway's LEAVE comes late: each is
#              counted once, where the new gateway says
#   kill-gw    a gateway process killed with SIGKILL: its users leave the
#              counts within the gateway timeout (time reported)
#   kill-app   the appliance killed with SIGKILL and restarted: the state
#              is rebuilt from the gateways' snapshots (time reported)
#   kill-app-load  the same while 8 gateways keep arriving (placements)
#              and leaving: after the restart no seat is handed out that a
#              gateway may still hold, so no room ever goes above max;
#              no gateway is taken for dead
#   gateway-cap  more users than one gateway's --max-users-per-gateway:
#               its JOINs beyond are refused (FULL), the room table exact
#   table-full more users than --max-users: the JOINs beyond are refused
#              (FULL) and the gateways drop those users; nothing is lost
#              or left inconsistent, the appliance keeps running
#   worker-stall  the worker's thread stopped (ptrace) for more than the
#              gateway timeout (11 s, 10 s) while the gateways go on, 2,000 datagrams that are
#              not headcount's queued in its ring ahead of their heartbeats
#              (the gateways paused meanwhile): once it runs again no live
#              gateway is taken for dead (silence is judged on the input
#              read; the first poll after the stall reads only the junk),
#              and a gateway killed then is (exactly one death); at the
#              end the worker is stopped again with 500 more queued, the
#              appliance told to stop, the worker let go: what it did not
#              read is read dry at exit (port_unread_at_exit, at least
#              500 less one burst), every frame read or unread exactly
#   worker-stall-2w  the same with two workers, the second stopped, 8
#              gateways: the other worker's dead scan waits for the
#              stopped one's input too
#   pool-dry   a packet pool of 1023 mbufs run dry by 20 keyed gateways
#              whose datagrams wait for a missing one (63 each, held until
#              the gap is given up: 4 NACK rounds 3 s apart), longer than
#              the 10 s gateway timeout: af_packet answers nothing while a
#              live gateway's heartbeats wait in its ring, and it is not
#              taken for dead (an empty answer from a pool run dry proves
#              nothing: rx_pool_short); the 20 are, once read (exactly 20);
#              the control core's datagrams go out while it is dry (21 or
#              more sent after it ran dry, 900 or more still held after),
#              none wanted an mbuf (ctl_tx_no_mbuf 0, as in every phase):
#              a pool of their own
# In every phase the room table is sampled all along (hc_limit_watch): no
# room may ever be above max, and the appliance must never have let one be.
# Bounded: every process runs under timeout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
phase=${1:?phase}
out=$(mktemp -d /tmp/hc-faults.XXXXXX)
trap 'touch "$out/refilled"; hc_lab_down; [ -n "${HC_KEEP:-}" ] || rm -rf "$out"' EXIT # (refilled: a held hc-gwsim ends at once)
gwsim="$build/tools/hc-gwsim"

victim_counted() { # gateway 3 is known to the appliance with users
	grep -q '^3=.* users=[1-9]' <<< "$(hc_tel_kv /headcount/gateways)"
}
res="$out/gwsim.kv" # hc-gwsim's --result: what the checks below read
gw_run() { # gw_run LOG ARGS...: hc-gwsim in the gateway namespace
	local log=$1
	shift
	timeout 400 ip netns exec "$HC_NSG" "$gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" \
		--prefix "hclab$HC_TAG" --result "$res" "$@" > "$log" 2>&1
}
now_ms() { date +%s%3N; }
crowd() { # the crowd phases' load: 4 gateways, more than 3000 users at once
	hc_limit_watch_start "$out"
	local rc=0
	gw_run "$out/gwsim.log" --gateways 4 --users 6000 --arrival-rate 20000 \
		--leave-rate 1000 --duration 4 --settle 120 --seed 13 || rc=$?
	finish "$rc" "room table differs from the gateways' truth"
}
finish() { # finish RC WHAT: show hc-gwsim's log, stop the appliance, judge
	cat "$out/gwsim.log"
	[ "${watch_checked:-0}" = 1 ] || hc_limit_watch_check || exit 1
	hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
	[ "$1" = 0 ] || { echo "FAIL: $2"; exit 1; }
}

hc_lab_up $$
# every gap is repaired by its gateway, however long a busy machine makes
# it wait: never give one up (--gap-nacks), so seq_lost = 0 means exactly
# that nothing was lost
app_args=(--stats-interval 0 --gateway-timeout-ms 1000 --gap-nacks 1000000
	--dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv")
# phases in which no gateway dies: a timeout that only a broken gateway
# reaches, not one a second's pause of hc-gwsim on a busy host does (a
# live gateway taken for dead loses its users, and its digest then asks
# for a snapshot: digest_snapshots, not_owner, takeovers would differ)
alive_args=(--gateway-timeout-ms 10000)

case "$phase" in
impair)
	clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu \
		-c "$here/hc_impair_bpf.c" -o "$out/impair.o"
	ip netns exec "$HC_NSG" tc qdisc add dev "$HC_VG" clsact
	ip netns exec "$HC_NSG" tc filter add dev "$HC_VG" egress bpf da obj "$out/impair.o" sec tc
	ip netns exec "$HC_NSG" tc filter add dev "$HC_VG" ingress bpf da obj "$out/impair.o" sec tc_in
	hc_appliance_start "$build" "$out" 1 "${app_args[@]}" "${alive_args[@]}" > /dev/null
	hc_limit_watch_start "$out"
	rc=0
	gw_run "$out/gwsim.log" --gateways 4 --users 20000 --arrival-rate 20000 \
		--leave-rate 3000 --duration 5 --reconnect-fraction "${HC_FAULT_RECONNECT:-0.05}" \
		--impair-fraction "${HC_FAULT_REORDER:-0.1}" --impair-delay-ms 20 --settle 120 --seed 7 || rc=$?
	finish "$rc" "room table differs from the gateways' truth"
	echo "impairment seen and repaired:"
	need seq_nacks "$(kv seq_nacks "$out/stats.kv")" -gt 0
	need seq_duplicates "$(kv seq_duplicates "$out/stats.kv")" -gt 0
	need seq_lost "$(kv seq_lost "$out/stats.kv")" -eq 0
	need not_owner "$(kv not_owner "$out/stats.kv")" -gt 0
	need takeovers "$(kv takeovers "$out/stats.kv")" -gt 0
	need gateway_retransmits "$(kv retransmits "$res")" -gt 0
	;;
restart)
	hc_appliance_start "$build" "$out" 2 "${app_args[@]}" > /dev/null
	hc_limit_watch_start "$out"
	rc=0
	gw_run "$out/gwsim.log" --gateways 4 --users 20000 --arrival-rate 20000 \
		--leave-rate 2000 --duration 5 --restart-every 0.7 --reconnect-fraction 0.05 \
		--kill-after 2.5 --settle 120 --seed 8 || rc=$?
	finish "$rc" "room table differs from the gateways' truth"
	restarts=$(kv restarts "$res")
	echo "gateway restarts: $restarts"
	need user_drops "$(kv user_drops "$out/stats.kv")" -ge "$restarts"
	need snap_swept "$(kv snap_swept "$out/stats.kv")" -gt 0
	need snapshots "$(kv snapshots "$out/stats.kv")" -ge $((4 + restarts))
	need gateways_killed "$(kv killed "$res")" -eq 1
	need gateway_deaths "$(kv gateway_deaths "$out/stats.kv")" -ge 1
	;;
reconnect)
	hc_appliance_start "$build" "$out" 2 "${app_args[@]}" "${alive_args[@]}" > /dev/null
	hc_limit_watch_start "$out"
	rc=0
	gw_run "$out/gwsim.log" --gateways 3 --users 10000 --arrival-rate 20000 \
		--leave-rate 2000 --duration 4 --reconnect-fraction 0.5 --settle 120 --seed 12 || rc=$?
	finish "$rc" "room table differs from the gateways' truth"
	reconnects=$(kv reconnects "$res")
	echo "reconnects through another gateway: $reconnects"
	# (a reconnect whose late LEAVE overtakes its JOIN is a plain join)
	need takeovers "$(kv takeovers "$out/stats.kv")" -ge $((reconnects * 9 / 10))
	need not_owner "$(kv not_owner "$out/stats.kv")" -gt 0
	users=$(kv users "$out/stats.kv")
	truth=$(kv truth_users "$res")
	need users_counted_once "$users" -eq "$truth"
	# no loss here: sessions settle every race between two gateways, so
	# no gateway's digest ever differs long enough to need a snapshot
	need digest_snapshots "$(kv digest_snapshots "$res")" -eq 0
	echo "late JOINs of an older session ignored: $(kv superseded "$out/stats.kv")"
	;;
kill-gw)
	hc_appliance_start "$build" "$out" 1 "${app_args[@]}" > /dev/null
	hc_limit_watch_start "$out"
	# the victim: gateway 3, its own process and users
	# (not under timeout: SIGKILL must hit hc-gwsim itself; --duration bounds it)
	ip netns exec "$HC_NSG" "$gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" --gateways 1 \
		--first-id 3 --users 5000 --user-base 1000000000 --leave-rate 100 \
		--duration 300 --seed 9 > "$out/victim.log" 2>&1 &
	victim=$!
	hc_wait 120 "the victim gateway's users are counted" victim_counted
	# the survivors: gateways 1 and 2; they hold on and watch the table
	# until it is exact after the kill (the victim's users gone)
	gw_run "$out/gwsim.log" --gateways 2 --users 8000 --leave-rate 500 --duration 2 \
		--settle 1 --hold 300 --hold-until "$out/killed" --seed 10 &
	survivors=$!
	hc_wait 120 "the survivors hold" grep -qx phase=hold "$res"
	kill -9 "$victim"
	killed=$(now_ms)
	touch "$out/killed"
	echo "gateway 3 killed with SIGKILL at wall_ms=$killed"
	rc=0
	wait "$survivors" || rc=$?
	finish "$rc" "final room table differs"
	exact=$(kv exact_wall_ms "$res")
	[ "$exact" -ge "$killed" ] || { echo "FAIL: never exact after the kill"; exit 1; }
	# reported, not judged: how fast depends on the machine's load
	echo "convergence after SIGKILL of a gateway: $((exact - killed)) ms" \
		"(gateway timeout 1000 ms, comparisons every 100 ms)"
	need deaths "$(kv gateway_deaths "$out/stats.kv")" -ge 1
	;;
kill-app)
	users=${HC_FAULT_USERS:-50000} # (HC_FAULT_USERS, HC_FAULT_DURATION: for measuring)
	hc_appliance_start "$build" "$out" 1 "${app_args[@]}" > /dev/null
	hc_limit_watch_start "$out"
	gw_run "$out/gwsim.log" --gateways 4 --users "$users" --arrival-rate "${HC_FAULT_RATE:-100000}" \
		--leave-rate 500 --duration "${HC_FAULT_DURATION:-3}" --settle 120 \
		--hold 300 --hold-until "$out/restarted" --seed 11 &
	sim=$!
	hc_wait 200 "hc-gwsim compares before the kill" grep -qx phase=hold "$res"
	grep -qx compare=exact "$res" || { cat "$out/gwsim.log"; echo "FAIL: not exact before"; exit 1; }
	kill -9 "$HC_PID"
	wait "$HC_PID" 2>/dev/null || true
	mv "$out/headcount.log" "$out/headcount-killed.log" 
	echo "appliance killed with SIGKILL at wall_ms=$(now_ms); restarting"
	start=$(now_ms)
	hc_appliance_start "$build" "$out" 1 "${app_args[@]}" > /dev/null
	echo "appliance listening again after $(($(now_ms) - start)) ms"
	touch "$out/restarted" # hc-gwsim ends its hold once exact again
	rc=0
	wait "$sim" || rc=$?
	finish "$rc" "room table differs after the restart"
	need rebuilds "$(kv rebuilds "$res")" -ge 1
	echo "rebuild: $(kv truth_users "$res") users exact $(kv rebuild_ms "$res") ms after" \
		"the new incarnation was heard"
	need snapshot_members "$(kv snapshot_members "$out/stats.kv")" -ge 1
	;;
kill-app-load)
	# the hold's bound is the gateway timeout: generous here, so that
	# however slow the machine, every gateway restates within it
	app_args+=(--gateway-timeout-ms 20000)
	hc_appliance_start "$build" "$out" 1 "${app_args[@]}" > /dev/null
	hc_limit_watch_start "$out"
	gw_run "$out/gwsim.log" --gateways 8 --users 60000 --arrival-rate 20000 \
		--leave-rate 2000 --duration 10 --settle 120 --seed 14 &
	sim=$!
	appliance_has_users() { [ "$(hc_tel_val /headcount/stats users)" -ge 20000 ]; }
	hc_wait 200 "the appliance counts 20000 users" appliance_has_users
	# the restart reads who held users from the state file, which a tick
	# rewrites: kill only once it lists all 8 (under ASan a kill before
	# that tick left restart_gateways_listed = 0)
	state_lists_8() { [ "$(grep -cv '^#' "$out/gateways" 2>/dev/null)" -ge 8 ]; }
	hc_wait 60 "the state file lists the 8 gateways" state_lists_8
	kill -9 "$HC_PID"
	wait "$HC_PID" 2>/dev/null || true
	mv "$out/headcount.log" "$out/headcount-killed.log"
	echo "appliance killed with SIGKILL under load at wall_ms=$(now_ms); restarting"
	hc_appliance_start "$build" "$out" 1 "${app_args[@]}" > /dev/null
	rc=0
	wait "$sim" || rc=$?
	finish "$rc" "room table differs after the restart under load"
	need appliance_restarts_seen "$(kv appliance_restarts "$res")" -ge 8
	# no seat given away that a gateway held: no restated user refused
	# (JOINs may be: seats the killed incarnation reserved are gone)
	need ctl_restatements "$(kv ctl_restatements "$out/stats.kv")" -gt 0
	need ctl_restatements_refused "$(kv ctl_restatements_refused "$out/stats.kv")" -eq 0
	echo "JOINs refused after the restart (reservations of the killed incarnation):" \
		"$(kv ctl_refused "$out/stats.kv")"
	need restart_gateways_listed "$(kv ctl_restart_gateways_listed "$out/stats.kv")" -eq 8
	# every gateway restated: within the hold, or after it ended early,
	# which a slow machine may cause (a worker blocked 100 ms on held
	# seat requests ends it: ctl_restart_hold_overflow), never by the
	# timeout
	restated=$(kv ctl_restart_gateways_restated "$out/stats.kv")
	late=$(kv ctl_restart_gateways_restated_late "$out/stats.kv")
	need restart_gateways_restated_in_all "$((restated + late))" -eq 8
	if [ "$late" -gt 0 ]; then
		need restart_hold_overflow "$(kv ctl_restart_hold_overflow "$out/stats.kv")" -ge 1
		echo "the hold ended early (a busy machine): $restated gateways restated within it," \
			"$late after"
	fi
	need restart_hold_expired "$(kv ctl_restart_hold_expired "$out/stats.kv")" -eq 0
	# every gateway kept sending: none was taken for dead (a gateway's
	# first datagram after the restart, far ahead of sequence 1, is a
	# sign of life; were it not, its death's sweep would count as its
	# restatement and end the hold for it early)
	need gateway_deaths "$(kv gateway_deaths "$out/stats.kv")" -eq 0
	echo "placements held after the restart: $(kv ctl_restart_hold_ms "$out/stats.kv") ms"
	need gateway_new_topics "$(kv new_topics "$res")" -eq 0
	;;
table-full)
	hc_appliance_start "$build" "$out" 1 "${app_args[@]}" "${alive_args[@]}" --max-users 3000 > /dev/null
	crowd
	need table_full "$(kv table_full "$out/stats.kv")" -gt 0
	need ctl_table_full_refusals "$(kv ctl_table_full_refusals "$out/stats.kv")" -eq \
		"$(kv table_full "$out/stats.kv")"
	need gateway_refusals "$(kv refusals "$res")" -gt 0
	need users_at_most_max "$(kv users "$out/stats.kv")" -le 3000
	need digest_snapshots "$(kv digest_snapshots "$res")" -eq 0
	;;
gateway-cap)
	# the same load as table-full (more than 3000 users at once), but
	# room for all: each of the 4 gateways may hold 600 (one worker)
	hc_appliance_start "$build" "$out" 1 "${app_args[@]}" "${alive_args[@]}" --max-users-per-gateway 600 \
		> /dev/null
	crowd
	need gateway_cap_full "$(kv gateway_cap_full "$out/stats.kv")" -gt 0
	need table_full_is_the_cap "$(kv table_full "$out/stats.kv")" -eq \
		"$(kv gateway_cap_full "$out/stats.kv")"
	need ctl_table_full_refusals "$(kv ctl_table_full_refusals "$out/stats.kv")" -eq \
		"$(kv table_full "$out/stats.kv")"
	need gateway_refusals "$(kv refusals "$res")" -gt 0
	need users_at_most_4x600 "$(kv users "$out/stats.kv")" -le 2400
	need digest_snapshots "$(kv digest_snapshots "$res")" -eq 0
	;;
worker-stall|worker-stall-2w)
	# one worker, or two of which the second (lcore 2) stops: the other
	# reads on, and its dead scan must wait for the stopped one's input
	# (the least of the workers' read_up_to; half the gateways are its
	# home, and their heartbeats hash to either queue), and hand the
	# stopped one the datagrams of its gateways
	workers=1 survivors=4 frozen=rte-worker-1
	[ "$phase" = worker-stall ] || workers=2 survivors=8 frozen=rte-worker-2
	# a timeout far above the time it takes to stop the worker's thread
	# once the gateways are paused (seconds, on a busy host: they are
	# silent meanwhile while the worker still reads), and a stall above it
	hc_appliance_start "$build" "$out" "$workers" "${app_args[@]}" --gateway-timeout-ms 10000 > /dev/null
	hc_limit_watch_start "$out"
	# a victim, killed once the worker runs again: deaths are still seen
	ip netns exec "$HC_NSG" "$gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" --gateways 1 \
		--first-id 9 --users 500 --user-base 1000000000 --leave-rate 10 \
		--duration 300 --seed 16 > "$out/victim.log" 2>&1 &
	victim=$!
	gateway9_counted() { grep -q '^9=.* users=[1-9]' <<< "$(hc_tel_kv /headcount/gateways)"; }
	hc_wait 120 "the victim gateway's users are counted" gateway9_counted
	# the survivors, who watch the table until it is exact after the kill
	gw_run "$out/gwsim.log" --gateways "$survivors" --users 4000 --arrival-rate 4000 --leave-rate 100 \
		--duration 2 --settle 1 --hold 120 --hold-until "$out/thawed" --seed 15 &
	sim=$!
	hc_wait 200 "hc-gwsim holds" grep -qx phase=hold "$res"
	deaths0=$(hc_tel_val /headcount/stats gateway_deaths)
	# every gateway paused while the worker stops and the foreign
	# datagrams queue: they are ahead of every heartbeat in its ring
	gateways=$(pgrep -f -- "--seed 1[56]\b" | tr '\n' ' ')
	[ -n "$gateways" ] || { echo "FAIL: no hc-gwsim process found"; exit 1; }
	kill -STOP $gateways
	"$here/hc_freeze_thread.py" "$HC_PID" "$frozen" "$out/thaw" > "$out/freeze.out" 2>&1 &
	freezer=$!
	hc_wait 30 "the worker thread is frozen" grep -q '^frozen ' "$out/freeze.out" ||
		{ kill -CONT $gateways; cat "$out/freeze.out"; exit 1; }
	ip netns exec "$HC_NSG" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(b"not headcount %04d" % i, ("198.18.0.1", 7100))'
	kill -CONT $gateways
	# an operator sees it: how far back the input is read grows
	lag_at_least() { [ "$(hc_tel_val /headcount/stats input_read_lag_ms)" -ge "$1" ]; }
	hc_wait 30 "input_read_lag_ms shows the stall" lag_at_least 2000
	sleep 11 # the fault: more than a gateway timeout without the worker (not a verdict)
	touch "$out/thaw"
	wait "$freezer" || { cat "$out/freeze.out"; echo "FAIL: the worker thread not thawed"; exit 1; }
	echo "worker thread $frozen of $workers stopped for 11 s (gateway timeout 10000 ms), then resumed"
	lag_below() { [ "$(hc_tel_val /headcount/stats input_read_lag_ms)" -lt "$1" ]; }
	hc_wait 60 "input_read_lag_ms falls back once the worker has read its input" lag_below 1000
	kill -9 "$victim"
	touch "$out/thawed" # the survivors' hold ends at an exact table: the victim gone
	rc=0
	wait "$sim" || rc=$?
	unread_floor=0
	if [ "$phase" = worker-stall ] && [ "$rc" = 0 ]; then
		# frames certainly waiting at exit: the worker frozen again, 500
		# datagrams queued in its ring (the interface has counted them),
		# the appliance told to stop, and the worker thawed once it says
		# so: its loop ends after at most one burst (--burst, 128), then
		# no more RX; the rest is read dry at exit and counted unread
		"$here/hc_freeze_thread.py" "$HC_PID" "$frozen" "$out/thaw2" > "$out/freeze2.out" 2>&1 &
		freezer=$!
		hc_wait 30 "the worker thread is frozen again" grep -q '^frozen ' "$out/freeze2.out" ||
			{ cat "$out/freeze2.out"; exit 1; }
		va_rx() { ip -n "$HC_NSA" -s -j link show dev "$HC_VA" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }
		rx0=$(va_rx)
		ip netns exec "$HC_NSG" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(500):
    s.sendto(b"not headcount either %04d" % i, ("198.18.0.1", 7100))'
		rx_grew() { [ $(($(va_rx) - rx0)) -ge 500 ]; }
		hc_wait 30 "the interface received the 500" rx_grew
		hc_limit_watch_check || exit 1
		watch_checked=1 # (finish: not again)
		kill -INT "$HC_PID"
		# (the workers told to drain: a worker let go reads no more;
		# the drain waits 30 s for it, DRAIN_TIMEOUT_S)
		hc_wait 20 "the appliance says it drains" grep -q "^headcount: draining" "$out/headcount.log"
		touch "$out/thaw2"
		wait "$freezer" || { cat "$out/freeze2.out"; echo "FAIL: the worker thread not thawed"; exit 1; }
		unread_floor=$((500 - 128))
	fi
	finish "$rc" "room table differs after the worker's stall"
	need port_unread_at_exit "$(kv port_unread_at_exit "$out/stats.kv")" -ge "$unread_floor"
	need gateway_deaths_before "$deaths0" -eq 0
	need gateway_deaths "$(kv gateway_deaths "$out/stats.kv")" -eq 1
	need digest_snapshots "$(kv digest_snapshots "$res")" -eq 0
	need foreign_frames_read "$(kv port_ring_drops "$out/stats.kv")" -eq 0
	# every frame the PMD read was a worker's, or read dry at exit (what
	# came after the workers' last poll: hc_ports_drain_at_exit), exactly
	need frames_read_or_unread_at_exit \
		"$(( $(kv rx_frames "$out/stats.kv") + $(kv port_unread_at_exit "$out/stats.kv") ))" \
		-eq "$(kv port_ipackets "$out/stats.kv")"
	# the read mark's bound for an af_packet queue: its ring's framecnt
	# (hc_appliance_start's framecnt=8192), as the port setup read it
	grep -q "tx queues, .*, an rx queue holds 8192 frames" "$out/headcount.log" ||
		{ echo "FAIL: the af_packet queue's capacity not read as 8192"; exit 1; }
	;;
pool-dry)
	hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 10000 \
		--gap-timeout-ms 3000 --gap-nacks 4 --mbufs 1023 \
		--dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv" > /dev/null
	hc_limit_watch_start "$out"
	gw_run "$out/gwsim.log" --gateways 1 --users 500 --arrival-rate 500 --leave-rate 20 \
		--duration 2 --settle 1 --hold 300 --hold-until "$out/refilled" --seed 17 &
	sim=$!
	hc_wait 200 "hc-gwsim holds" grep -qx phase=hold "$res"
	need gateway_deaths_before "$(hc_tel_val /headcount/stats gateway_deaths)" -eq 0
	# the live gateway paused first: its last datagram comes 2 s before
	# the holders' (were an empty answer from the dry pool taken as proof,
	# it would be judged dead 2 s before them, while the pool is still
	# dry; the 2 s are that check's margin, not a verdict: this build
	# judges nobody until the pool refills)
	live=$(pgrep -f -- "--seed 17\b" | tr '\n' ' ')
	[ -n "$live" ] || { echo "FAIL: no hc-gwsim process found"; exit 1; }
	kill -STOP $live
	sleep 2
	timeout 120 ip netns exec "$HC_NSG" python3 "$here/../../tools/hc-attack.py" holds \
		--appliance $HC_APP_IP --keys "$HC_KEYS" --first-id 100 --gateways 20 --held 63 \
		--result "$out/holds.kv" > /dev/null
	stat_at_least() { [ "$(hc_tel_val /headcount/stats "$1")" -ge "$2" ]; }
	hc_wait 60 "the packet pool ran dry (rx_pool_short)" stat_at_least rx_pool_short 1 ||
		{ kill -CONT $live; exit 1; }
	kill -CONT $live # its datagrams now wait in the ring, unread
	# the control core keeps sending while the pool is dry (heartbeats to
	# the 21 gateways every 100 ms, the holders' NACK rounds): its frames
	# come from a pool of their own.  Dry all along: the holds (1,260
	# datagrams for a pool of 1,023) still take most of the pool after
	# the sends (they only end when their gaps are given up)
	tx0=$(hc_tel_val /headcount/control tx_datagrams)
	tx_grew() { [ "$(hc_tel_val /headcount/control tx_datagrams)" -ge $((tx0 + 21)) ]; }
	hc_wait 60 "the control core sending while the pool is dry" tx_grew
	need datagrams_held_after_the_sends \
		"$(hc_tel_val /headcount/stats seq_held)" -ge 900
	# the pools' gauges: the packet pool's 1,023, at most 123 of them free
	# with 900 held (a quarter: the worker's bar for short), the control
	# pool's 7,167 (one worker, one port, 1,024 gateway ids) mostly free
	hc_tel_kv /headcount/stats > "$out/dry.kv" # (one reply for the four)
	need pool_mbufs "$(kv pool_mbufs "$out/dry.kv")" -eq 1023
	need pool_mbufs_free_while_dry "$(kv pool_mbufs_free "$out/dry.kv")" -lt 256
	need control_pool_mbufs "$(kv control_pool_mbufs "$out/dry.kv")" -eq 7167
	need control_pool_mbufs_free "$(kv control_pool_mbufs_free "$out/dry.kv")" -gt 7000
	# the holds end when their gaps are given up (or a snapshot is asked
	# for instead), and the 20 holders, silent since, are judged dead once
	# the input is read again
	hc_wait 120 "the 20 holding gateways judged dead" stat_at_least gateway_deaths 20
	touch "$out/refilled" # the live gateway's hold ends at an exact table
	rc=0
	wait "$sim" || rc=$?
	finish "$rc" "room table differs after the pool ran dry"
	# the live gateway was never taken for dead: exactly the 20, and no
	# snapshot asked for by its digest (its users would have gone)
	need gateway_deaths "$(kv gateway_deaths "$out/stats.kv")" -eq 20
	need digest_snapshots "$(kv digest_snapshots "$res")" -eq 0
	need rx_pool_short "$(kv rx_pool_short "$out/stats.kv")" -gt 0
	need datagrams_held_for_the_gaps "$(kv sent "$out/holds.kv")" -eq $((20 * 64))
	;;
*)
	echo "unknown phase $phase"
	exit 2
	;;
esac
need seat_book_mismatches "$(kv seat_book_mismatches "$out/stats.kv")" -eq 0
need ctl_joins_over_max "$(kv ctl_joins_over_max "$out/stats.kv")" -eq 0
# the packet pool never ran short (but where it was made to): every empty
# RX answer could count for the read mark (hc_worker.c, rx_pool_plenty)
[ "$phase" = pool-dry ] || need rx_pool_short "$(kv rx_pool_short "$out/stats.kv")" -eq 0
# the control core's frames never wanted an mbuf: their pool is their
# own, which a packet pool run dry (pool-dry) does not touch
need ctl_tx_no_mbuf "$(kv ctl_tx_no_mbuf "$out/stats.kv")" -eq 0
echo "PASS: $phase"
