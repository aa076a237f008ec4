#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pcap_replay.sh WORKERS [HEADCOUNT OPTIONS] - replay a generated scenario through net_pcap and
# check the appliance's final room table and counters against the ground
# truth exactly.  200k users, 5k rooms, 2M events with 2 % duplicates, 5 %
# reordered datagrams and 1 % malformed frames of every kind.  With 2
# workers the traffic is split over two pcap ports by gateway pairs, so
# both datagram and event hand-off between workers are exercised.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
workers=${1:-1}
shift || true
dir=$(mktemp -d /tmp/hc-pcap.XXXXXX)
trap 'rm -rf "$dir"; rmdir "/var/run/dpdk/hcpcap$$" 2>/dev/null || true' EXIT

# every datagram sealed under its gateway's key (protocol v2)
hc_make_keys "$dir/keys" 16
"$build/pktgen-scenarios/hc-scenario" --out "$dir/s" --seed $((41 + workers)) --keys "$dir/keys" \
	--users 200000 --rooms 5000 --gateways 16 --events 2000000 --batch 59 \
	--duplicate 0.02 --reorder 0.05 --malformed 0.01 --split "$workers"

if [ "$workers" = 1 ]; then
	vdevs=(--vdev "net_pcap0,rx_pcap=$dir/s.pcap")
	lcores=$(hc_appliance_lcores 1) # the CPUs we may run on (tools/hc-netns.sh)
else
	vdevs=(--vdev "net_pcap0,rx_pcap=$dir/s.0.pcap" --vdev "net_pcap1,rx_pcap=$dir/s.1.pcap")
	lcores=$(hc_appliance_lcores 2) # the control lcore keeps a CPU: workers wait for its decisions
fi
# A capture cannot answer NACKs or send heartbeats in time: however long a
# busy machine takes to read it, no gateway may be declared dead
# (--gateway-timeout-ms 0) and no reordering gap given up while the
# datagram that fills it is still to be read (--gap-nacks 1000000).
# --idle-exit stops only once every port has been read to its end.
timeout 240 "$build/headcount" --lcores "$lcores" --no-huge -m 1024 --no-pci \
	--no-shconf --file-prefix "hcpcap$$" --log-level=lib.eal:warning "${vdevs[@]}" -- \
	--idle-exit 1 --gateway-timeout-ms 0 --gap-nacks 1000000 --stats-interval 0 --keys "$dir/keys" \
	--state-file "$dir/gateways" \
	--dump-rooms "$dir/rooms.csv" --dump-stats "$dir/stats.kv" "$@"

fail=0
compare_rooms "$dir/s.truth.csv" "$dir/rooms.csv" || fail=1
compare_kv "$dir/s.expect" "$dir/stats.kv" || fail=1
grep -q '^table_full=0$' "$dir/stats.kv" || { echo "MISMATCH table_full"; fail=1; }
if [ "$workers" -gt 1 ]; then
	handed=$(grep '^handoff_dgrams=' "$dir/stats.kv" | cut -d= -f2)
	ops=$(grep '^handoff_ops=' "$dir/stats.kv" | cut -d= -f2)
	echo "hand-off: $handed datagrams, $ops ops"
	[ "$handed" -gt 0 ] && [ "$ops" -gt 0 ] || { echo "hand-off not exercised"; fail=1; }
fi
[ "$fail" = 0 ] && echo "PASS: $workers worker(s), every counter equals the ground truth"
exit $fail
