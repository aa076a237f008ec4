#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_ringdrops.sh - frames lost in the af_packet ring are counted.
# net_af_packet (DPDK 22.11) leaves imissed at 0 whatever its ring drops;
# the appliance counts them itself (port_ring_drops: the kernel
# interface's rx_packets minus the frames the PMD read).  The appliance
# runs on a ring of 64 frames and is stopped (SIGSTOP) while the gateway
# host sends 500 datagrams: the kernel keeps 64 in the ring and drops
# the rest.  After SIGCONT: port_if_rx_packets +500, and every one of
# them either read or counted lost, exactly: port_ipackets +
# port_ring_drops = 500, with at least 64 read and some lost (64 and 436
# when the kernel delivers every frame before SIGCONT; on a busy host it
# may defer some to ksoftirqd, which the resumed appliance then reads),
# port_imissed 0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-ringdrops.XXXXXX)
trap 'hc_lab_down; rm -rf "$out"' EXIT
hc_lab_up "rd$$"
HC_AFP_ARGS=framecnt=64 hc_appliance_start "$build" "$out" 1 --no-auth --stats-interval 0 \
	--dump-stats "$out/stats.kv" > /dev/null
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }
# counters settle: the ARP probe and its datagram read
snap() { hc_tel_kv /headcount/stats | grep -E '^port_(if_rx_packets|ipackets|ring_drops|imissed)=' | sort; }
prev="" cur=$(snap)
for _ in $(seq 50); do
	sleep 0.2
	prev=$cur cur=$(snap)
	[ "$cur" = "$prev" ] && break
done
[ "$cur" = "$prev" ] || { echo "FAIL: the port counters never settled"; exit 1; }
echo "$cur" > "$out/before.kv"

kill -STOP "$HC_PID"
ip netns exec "$HC_NSG" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(500):
    s.sendto(b"not headcount %03d" % i, ("198.18.0.1", 7100))'
kill -CONT "$HC_PID"
want_if=$(( $(kv port_if_rx_packets "$out/before.kv") + 500 ))
want_ipk=$(( $(kv port_ipackets "$out/before.kv") + 64 ))
after_ok() {
	snap > "$out/after.kv"
	[ "$(kv port_ipackets "$out/after.kv")" -ge "$want_ipk" ] &&
		[ "$(kv port_if_rx_packets "$out/after.kv")" -ge "$want_if" ]
}
hc_wait 60 "the appliance reads the ring" after_ok
sleep 1 # nothing more may come: read them again
snap > "$out/after.kv"
hc_appliance_stop
d() { echo $(( $(kv "$1" "$out/after.kv") - $(kv "$1" "$out/before.kv") )); }
need "interface rx (delta)" "$(d port_if_rx_packets)" -eq 500
need "PMD ipackets (delta)" "$(d port_ipackets)" -ge 64
need "port_ring_drops (delta)" "$(d port_ring_drops)" -ge 1
need "read + lost (delta)" "$(( $(d port_ipackets) + $(d port_ring_drops) ))" -eq 500
need "port_imissed" "$(kv port_imissed "$out/after.kv")" -eq 0
need "port_ring_drops at exit" "$(kv port_ring_drops "$out/stats.kv")" -eq "$(kv port_ring_drops "$out/after.kv")"
echo "PASS: $(d port_ring_drops) of 500 frames lost in a 64-frame af_packet ring, counted as port_ring_drops"
