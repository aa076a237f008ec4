#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pcap_bigdgram.sh WORKERS - the largest datagrams through a net_pcap port:
# 4 gateways' snapshots in chunks of 371 members and EVENTS datagrams of
# 372 events (8,960 and 8,968 bytes; small ones between them), one byte and one
# record too long (udp_too_big), frames longer than any allowed datagram
# needs (frame_too_long), all sealed.  net_pcap chains every frame longer
# than 2 KiB; the appliance gathers each into one mbuf.  The room table and
# every counter must equal hc-bigdgram's truth exactly, and every chain
# must have been gathered.  With 2 workers the datagrams of odd gateways
# go to the other worker (hand-off of gathered mbufs), and the gather pool
# is as small as allowed (64), so the reading worker may wait for one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
workers=${1:-1}
dir=$(mktemp -d /tmp/hc-bigdgram.XXXXXX)
mkdir "$dir/full"
trap 'rm -rf "$dir"; rmdir "/var/run/dpdk/hcbig$$" 2>/dev/null || true' EXIT

hc_make_keys "$dir/keys" 16
"$build/tests/hc-bigdgram" --out "$dir/g" --keys "$dir/keys" --too-long --seed $((3 + workers))

if [ "$workers" = 1 ]; then
	lcores=$(hc_appliance_lcores 1) # the CPUs we may run on (tools/hc-netns.sh)
	extra=()
else
	lcores=$(hc_appliance_lcores 2) # the control lcore keeps a CPU: workers wait for its decisions
	extra=(--gather-mbufs 64)
fi
# a capture cannot answer NACKs or heartbeat (see pcap_replay.sh)
timeout 240 "$build/headcount" --lcores "$lcores" --no-huge -m 1024 --no-pci \
	--no-shconf --file-prefix "hcbig$$" --log-level=lib.eal:warning \
	--vdev "net_pcap0,rx_pcap=$dir/g.pcap" -- \
	--idle-exit 1 --gateway-timeout-ms 0 --gap-nacks 1000000 --stats-interval 0 \
	--keys "$dir/keys" --state-file "$dir/gateways" \
	--dump-rooms "$dir/rooms.csv" --dump-stats "$dir/stats.kv" "${extra[@]}"

fail=0
compare_rooms "$dir/g.truth.csv" "$dir/rooms.csv" || fail=1
compare_kv "$dir/g.expect" "$dir/stats.kv" || fail=1
compare_kv "$dir/g.expect-pcap" "$dir/stats.kv" || fail=1
echo "gathered $(kv rx_gathered "$dir/stats.kv") chains, waited for a gather mbuf" \
	"$(kv gather_waits "$dir/stats.kv") times"
if [ "$workers" -gt 1 ]; then
	need "datagrams handed to the other worker" "$(kv handoff_dgrams "$dir/stats.kv")" -gt 0
fi
if [ "$workers" = 1 ]; then
	# --dump-stats onto a disk with room for its whole 4 KiB buffers only:
	# the last, partial one fails when the file is closed (stdio writes
	# the full ones as they fill), and the exit status says so
	size=$(stat -c %s "$dir/stats.kv")
	# (a margin: the second run's counters may be a few digits longer or
	# shorter, and must end in the same buffer)
	need "--dump-stats's last buffer, bytes" $((size % 4096)) -ge 256
	need "--dump-stats's last buffer, bytes" $((size % 4096)) -le 3840
	need "--dump-stats longer than 4 KiB" "$size" -gt 4096
	rc=0
	timeout 240 unshare -m bash -c 'mount -t tmpfs -o size="$2" hcfull "$1" && shift 2 && exec "$@"' _ \
		"$dir/full" "$((size / 4096 * 4))k" \
		"$build/headcount" --lcores "$lcores" --no-huge -m 1024 --no-pci \
		--no-shconf --file-prefix "hcbig$$" --log-level=lib.eal:warning \
		--vdev "net_pcap0,rx_pcap=$dir/g.pcap" -- \
		--idle-exit 1 --gateway-timeout-ms 0 --gap-nacks 1000000 --stats-interval 0 \
		--keys "$dir/keys" --state-file none --dump-stats "$dir/full/stats.kv" \
		> "$dir/full.log" 2>&1 || rc=$?
	if [ "$rc" != 0 ] && grep -q "cannot write $dir/full/stats.kv: No space left on device" "$dir/full.log"; then
		echo "  --dump-stats onto a full disk: exit $rc, the error logged"
	else
		echo "FAIL: --dump-stats onto a full disk: exit $rc, $(grep -i "stats.kv" "$dir/full.log")"
		fail=1
	fi
fi
[ "$fail" = 0 ] && echo "PASS: $workers worker(s): the largest datagrams applied exactly," \
	"the longer ones dropped and counted"
exit $fail
