#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# hc-lab.sh - the embedded lab: headcount on af_packet in one network
# namespace, gateway traffic through kernel UDP sockets from another.
#
#   ns hclab-app-PID : veth hcaPID (no IP; the appliance answers ARP for
#                      198.18.0.1 itself), headcount polling it via af_packet
#   ns hclab-gw-PID  : veth hcgPID 198.18.0.2/24, the gateways: by default
#                      hc-gwsim, a fleet of libheadcount gateways whose
#                      users arrive through placement, leave, obey MOVE
#                      directives, reconnect elsewhere; with --replay,
#                      hc-send replaying a hc-scenario pcap instead
#
# Shows the appliance's stats line and the fleet's live view (users,
# rooms, events/s, directives/s) while traffic flows, then compares the
# appliance's room table with the gateways' ground truth (exactly), stops
# it, and checks its seat book.  At the end it shows the room-size
# distribution of the final room table (tools/hc-hist.sh): a text
# histogram (also in OUT/room-sizes.txt) and a PNG (OUT/room-sizes.png or
# --png FILE); after a fleet run, also how many users sit above the
# pool's target and what put them there (the control core's counters).
# All along it samples the appliance's counters four times a second
# (tools/hc-rate.sh: OUT/rates.csv) and at the end draws events/s over
# time (OUT/events-per-second.png or --rate-png FILE).
# Exit 0 only if everything matches and the histogram was drawn.
# Namespaces are removed on any exit.
# Addresses are RFC 2544 benchmarking addresses inside our own namespaces.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${HC_BUILD:-$here/../build}
users=200000 rooms=5000 gateways=16 events=2000000 batch=59 rate=10000
malformed=0.01 duplicate=0.01 reorder=0.02 seed=1 workers=1 out=""
replay=0 fleet_users=100000 fleet_gw=8 duration=20 arrival=50000 leave=5000
restart_every=0 reconnect=0.02 png="" rate_png=""

usage() {
	cat <<EOT
usage: hc-lab.sh [options]
 fleet (the default): hc-gwsim's gateways against the appliance
  --fleet-users N  --fleet-gateways N                      [$fleet_users $fleet_gw]
  --duration S     --arrival-rate N  --leave-rate N        [$duration $arrival $leave]
  --restart-every S  crash and restart a gateway every S s [$restart_every = never]
  --reconnect F      leaving users who reconnect elsewhere [$reconnect]
 replay (--replay): a hc-scenario pcap sent by hc-send
  --users N --rooms N --gateways N --events N --batch N   scenario size [$users $rooms $gateways $events $batch]
  --malformed F --duplicate F --reorder F --seed N         impairments   [$malformed $duplicate $reorder $seed]
  --rate N       datagrams per second from the gateways    [$rate]
  --workers N    worker lcores (af_packet qpairs), 1..4    [$workers]
  --out DIR      keep scenario, logs, dumps in DIR         [a temporary directory]
  --png FILE     the room-size picture                     [DIR/room-sizes.png]
  --rate-png FILE  events/s over time                      [DIR/events-per-second.png]
  --build DIR    meson build directory                     [$build]
EOT
}
while [ $# -gt 0 ]; do
	case $1 in
	--users) users=$2; shift ;; --rooms) rooms=$2; shift ;;
	--gateways) gateways=$2; shift ;; --events) events=$2; shift ;;
	--batch) batch=$2; shift ;; --rate) rate=$2; shift ;;
	--malformed) malformed=$2; shift ;; --duplicate) duplicate=$2; shift ;;
	--reorder) reorder=$2; shift ;; --seed) seed=$2; shift ;;
	--out) out=$2; shift ;; --build) build=$2; shift ;;
	--workers) workers=$2; shift ;;
	--replay) replay=1 ;;
	--fleet-users) fleet_users=$2; shift ;; --fleet-gateways) fleet_gw=$2; shift ;;
	--duration) duration=$2; shift ;; --arrival-rate) arrival=$2; shift ;;
	--leave-rate) leave=$2; shift ;; --restart-every) restart_every=$2; shift ;;
	--reconnect) reconnect=$2; shift ;;
	--png) png=$2; shift ;;
	--rate-png) rate_png=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "hc-lab: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
case $workers in 1|2|3|4) ;; *) echo "hc-lab: --workers 1..4" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "hc-lab: must run as root (network namespaces)" >&2; exit 2; }
for b in headcount pktgen-scenarios/hc-scenario tools/hc-send tools/hc-gwsim; do
	[ -x "$build/$b" ] || { echo "hc-lab: $build/$b missing: build first" >&2; exit 2; }
done

. "$here/hc-netns.sh"
if [ -z "$out" ]; then out=$(mktemp -d /tmp/hclab.XXXXXX); fi
mkdir -p "$out"
[ -n "$png" ] || png=$out/room-sizes.png
[ -n "$rate_png" ] || rate_png=$out/events-per-second.png
# protocol v2: every datagram is authenticated; fresh keys for this run,
# gateways 1..256, in a root-only file the appliance and the gateways read
hc_make_keys "$out/keys"
HC_KEYS=$out/keys
trap 'touch "$out/rates.stop"; hc_lab_down' EXIT
trap 'echo "hc-lab: interrupted"; exit 130' INT TERM

# start_lab MAX_USERS STATS_INTERVAL [headcount options]: namespaces up,
# headcount listening, ARP answered by it
start_lab() {
	local max_users=$1 stats=$2
	shift 2
	hc_lab_up $$
	echo "hc-lab: starting headcount on af_packet:$HC_VA in $HC_NSA (Ctrl-C stops it)"
	hc_appliance_start "$build" "$out" "$workers" --max-users $((max_users + 1024)) \
		--stats-interval "$stats" --dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv" "$@"
	if ! mac=$(hc_arp_check); then
		echo "hc-lab: FAIL: no ARP answer from the appliance" >&2
		exit 1
	fi
	echo "hc-lab: $HC_APP_IP is at $mac (ARP answered by headcount)"
	# the whole room table, sampled all along: no room may ever be above max
	hc_limit_watch_start "$out" 100
	# the counters four times a second, for the events/s picture
	rm -f "$out/rates.stop"
	"$here/hc-rate.sh" sample "hclab$HC_TAG" "$out/rates.csv" "$out/rates.stop" &
	rate_pid=$!
}

# rates_stop: the sampler takes a last sample and stops (nothing waits for it
# here: the appliance stops before the gateways' timeout, 30 s in the
# fleet run, so that the dump still holds the users of gateways that have
# ended, however slowly a busy host stops it)
rates_stop() {
	touch "$out/rates.stop"
}

# rates_picture TITLE: after rates_stop, wait for the sampler and draw
# events/s over time ($rate_png); 1 if it could not be drawn
rates_picture() {
	wait "$rate_pid" || true
	if ! "$here/hc-rate.sh" plot "$out/rates.csv" "$rate_png" "$1"; then
		echo "hc-lab: FAIL: no events/s picture" >&2
		return 1
	fi
	echo "hc-lab: events/s picture: $rate_png ($(($(wc -l < "$out/rates.csv") - 1)) samples in $out/rates.csv)"
}

# watch_done: the room-limit watch's verdict (hc_limit_watch_check: in
# this shell, whose child the watch is)
watch_done() {
	echo -n "hc-lab: "
	hc_limit_watch_check
}

# pictures: name the PNGs this run drew
pictures() {
	local f shown=""
	for f in "$png" "$rate_png"; do
		[ ! -s "$f" ] || shown="$shown $f"
	done
	echo "hc-lab: pictures:${shown:- none}"
}

# room_sizes TITLE: the final room table's size distribution, as text (shown
# and kept in $out/room-sizes.txt) and as a picture ($png); 1 if either
# could not be made
room_sizes() {
	echo "hc-lab: room sizes in the final room table (min 15, target 50, max 100):"
	if ! "$here/hc-hist.sh" --min 15 --target 50 --max 100 --png "$png" --title "$1" \
		"$out/rooms.csv" > "$out/room-sizes.txt"; then
		echo "hc-lab: FAIL: no room-size histogram" >&2
		return 1
	fi
	sed 's/^/  /' "$out/room-sizes.txt"
	echo "hc-lab: room-size picture: $png"
}

if [ "$replay" = 0 ]; then
	start_lab "$fleet_users" 2 --gateway-timeout-ms 30000
	echo "hc-lab: $fleet_gw gateways, $fleet_users users, ${duration}s of arrivals," \
		"departures, directives (hc-gwsim; live view below)"
	fail=0
	ip netns exec "$HC_NSG" "$build/tools/hc-gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" \
		--prefix "hclab$HC_TAG" --gateways "$fleet_gw" --users "$fleet_users" \
		--duration "$duration" --arrival-rate "$arrival" --leave-rate "$leave" \
		--restart-every "$restart_every" --reconnect-fraction "$reconnect" \
		--settle 120 --seed "$seed" --live --result "$out/gwsim.kv" || fail=1
	watch_done || fail=1
	rates_stop
	hc_appliance_stop || { echo "hc-lab: headcount exited with an error" >&2; exit 1; }
	rates_picture "headcount lab: $fleet_users users, $fleet_gw gateways: events/s" || fail=1
	grep -qx seat_book_mismatches=0 "$out/stats.kv" || fail=1
	room_sizes "headcount lab: $fleet_users users, $fleet_gw gateways, ${duration} s" || fail=1
	# placement fills rooms up to target (fill = target); what is above
	# it came from elsewhere, and the control core counted it
	hist() { tail -1 "$out/room-sizes.txt" | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }
	ctl() { grep "^$1=" "$out/stats.kv" | cut -d= -f2; }
	echo "hc-lab: digest-triggered snapshots (gateway and appliance disagreed):" \
		"$(grep '^digest_snapshots=' "$out/gwsim.kv" | cut -d= -f2)"
	echo "hc-lab: placement: $(hist users_above_target) users above target in" \
		"$(hist above_target) rooms; seats past target taken by placement" \
		"$(ctl ctl_placed_beyond_target), by direct or late joins and moves" \
		"$(ctl ctl_seated_beyond_target)"
	pictures
	if [ "$fail" = 0 ]; then
		echo "hc-lab: PASS: the appliance's room table equals the gateways' truth exactly (files in $out)"
	else
		echo "hc-lab: FAIL (files in $out)"
	fi
	exit $fail
fi

echo "hc-lab: scenario: $users users, $rooms rooms, $gateways gateways, $events events (seed $seed)"
"$build/pktgen-scenarios/hc-scenario" --out "$out/lab" --seed "$seed" --users "$users" \
	--rooms "$rooms" --gateways "$gateways" --events "$events" --batch "$batch" \
	--malformed "$malformed" --duplicate "$duplicate" --reorder "$reorder" \
	--appliance $HC_APP_IP --src-ip $HC_GW_IP --keys "$HC_KEYS"

# a replay cannot heartbeat or answer NACKs: no gateway is declared dead
# and no reordering gap given up however slowly the machine runs it
start_lab "$users" 1 --gateway-timeout-ms 0 --gap-nacks 1000000

echo "hc-lab: gateways sending at $rate datagrams/s"
# (flow control: never more frames in flight than the appliance's af_packet
# ring holds, however slowly a busy machine lets it read them)
ip netns exec "$HC_NSG" "$build/tools/hc-send" --appliance $HC_APP_IP --keys "$HC_KEYS" --rate "$rate" --timeout 300 \
	--prefix "hclab$HC_TAG" --window 1024 --expect "$out/send.expect" "$out/lab.pcap"
# the appliance has taken in everything sent once its counters say so
# (bounded: a frame lost on the way never arrives)
mapfile -t sent_kv < "$out/send.expect"
hc_wait 120 "the appliance counts every datagram sent" hc_tel_has /headcount/stats "${sent_kv[@]}" ||
	echo "hc-lab: the appliance did not count every datagram sent; comparing anyway"
fail=0
watch_done || fail=1
rates_stop
hc_appliance_stop || { echo "hc-lab: headcount exited with an error" >&2; exit 1; }
rates_picture "headcount lab: replay of $users users at $rate datagrams/s: events/s" || fail=1

if cmp -s "$out/rooms.csv" "$out/lab.truth.csv"; then
	echo "hc-lab: room table matches the ground truth ($(($(wc -l < "$out/rooms.csv") - 1)) rooms)"
else
	echo "hc-lab: FAIL: room table differs from the ground truth:"
	diff "$out/lab.truth.csv" "$out/rooms.csv" | head -10
	fail=1
fi
while IFS='=' read -r key want; do
	got=$(grep "^$key=" "$out/stats.kv" | cut -d= -f2)
	if [ "$got" != "$want" ]; then
		echo "hc-lab: FAIL: $key is $got, expected $want"
		fail=1
	fi
done < "$out/send.expect"
for key in users joins moves leaves; do
	want=$(grep "^$key=" "$out/lab.expect" | cut -d= -f2)
	got=$(grep "^$key=" "$out/stats.kv" | cut -d= -f2)
	[ "$got" = "$want" ] || { echo "hc-lab: FAIL: $key is $got, expected $want"; fail=1; }
done
room_sizes "headcount lab: replay of $users users, $rooms rooms (seed $seed)" || fail=1
pictures
[ "$fail" = 0 ] && echo "hc-lab: PASS: counts equal the ground truth exactly (files in $out)"
exit $fail
