#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_two_ports.sh - two af_packet ports of one queue each and two
# workers: port 0's queue goes to worker 0, port 1's to worker 1, and each
# worker answers ARP and ICMP echo on the port it read them from, on its
# own TX queue of that port.  TX queues were dealt from worker 0 on every
# port, so worker 1 had none on port 1: every ARP request for --ip behind
# port 1 was dropped (drop_arp_no_txq) and its hosts never reached the
# appliance (found by a review).  A host behind each port pings the
# appliance (ARP, then ICMP echo); nothing is dropped for want of a TX
# queue, and each port's replies left on the worker that read it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-2ports.XXXXXX)
cleanup() {
	hc_lab_down
	rm -rf "$out"
}
trap cleanup EXIT

hc_lab_up $$
# a second segment: port 1's veth in the appliance's namespace, a host
# behind it in a namespace of its own (HC_NSX: hc_lab_down removes it)
HC_NSX=hclab-gx-$HC_TAG
vx=hcx$HC_TAG vy=hcy$HC_TAG
ip netns add "$HC_NSX"
ip link add "$vx" type veth peer name "$vy"
ip link set "$vx" netns "$HC_NSA"
ip link set "$vy" netns "$HC_NSX"
ip netns exec "$HC_NSX" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1
ip -n "$HC_NSX" link set lo up
ip -n "$HC_NSA" link set "$vx" up
ip -n "$HC_NSX" addr add 198.18.0.4/24 dev "$vy"
ip -n "$HC_NSX" link set "$vy" up

hc_make_keys "$out/keys"
lcores=$(hc_appliance_lcores 2)
ip netns exec "$HC_NSA" "$build/headcount" --lcores "$lcores" --no-huge -m 1024 --no-pci \
	--no-shconf --file-prefix "hclab$HC_TAG" --log-level=lib.eal:warning \
	--vdev "net_af_packet0,iface=$HC_VA,qpairs=1,framecnt=2048" \
	--vdev "net_af_packet1,iface=$vx,qpairs=1,framecnt=2048" -- \
	--ip $HC_APP_IP --state-file none --keys "$out/keys" --stats-interval 0 \
	> "$out/headcount.log" 2>&1 &
HC_PID=$!
hc_wait 120 "headcount answers telemetry" hc_started

for ns in "$HC_NSG" "$HC_NSX"; do
	if ! timeout 60 ip netns exec "$ns" ping -c 3 -i 0.2 -W 20 $HC_APP_IP > "$out/ping.log" 2>&1; then
		cat "$out/ping.log" "$out/headcount.log"
		echo "FAIL: the host in $ns gets no echo reply from the appliance"
		exit 1
	fi
done
stats=$(hc_tel_kv /headcount/stats)
for k in drop_arp_no_txq drop_icmp_no_txq; do
	v=$(sed -n "s/^$k=//p" <<< "$stats")
	need "$k" "${v:-0}" -eq 0
done
replies=$(sed -n 's/^icmp_echo_replies=//p' <<< "$stats")
need "ICMP echo replies (3 a host)" "${replies:-0}" -ge 6
hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
echo "PASS: two one-queue ports, two workers: hosts behind both ports resolve and ping the appliance, nothing dropped for want of a TX queue"
