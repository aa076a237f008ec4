#!/usr/bin/env bash
# hc-lab.sh - the embedded lab: headcount on af_packet in one network
# namespace, gateway traffic through kernel UDP sockets from another.
#
#   ns hclab-app-PID : veth hcaPID (no IP; the appliance answers ARP for
#                      198.18.0.1 itself), headcount polling it via af_packet
#   ns hclab-gw-PID  : veth hcgPID 198.18.0.2/24, hc-send replaying a
#                      hc-scenario pcap as 16 gateways (one socket each)
#
# Shows the appliance's stats line while traffic flows, stops it, and
# compares its final room table and counters with the scenario's truth.
# Exit 0 only if everything matches. Namespaces are removed on any exit.
# Addresses are RFC 2544 benchmarking addresses inside our own namespaces.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${HC_BUILD:-$here/../build}
users=200000 rooms=5000 gateways=16 events=2000000 batch=64 rate=10000
malformed=0.01 duplicate=0.01 reorder=0.02 seed=1 workers=1 out="" linger=1

usage() {
	cat <<EOT
usage: hc-lab.sh [options]
  --users N --rooms N --gateways N --events N --batch N   scenario size [$users $rooms $gateways $events $batch]
  --malformed F --duplicate F --reorder F --seed N         impairments   [$malformed $duplicate $reorder $seed]
  --rate N       datagrams per second from the gateways    [$rate]
  --workers N    worker lcores (af_packet qpairs), 1..4    [$workers]
  --out DIR      keep scenario, logs, dumps in DIR         [a temporary directory]
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
	-h|--help) usage; exit 0 ;;
	*) echo "hc-lab: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
case $workers in 1|2|3|4) ;; *) echo "hc-lab: --workers 1..4" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "hc-lab: must run as root (network namespaces)" >&2; exit 2; }
for b in headcount pktgen-scenarios/hc-scenario tools/hc-send; do
	[ -x "$build/$b" ] || { echo "hc-lab: $build/$b missing: build first" >&2; exit 2; }
done

tag=$$
nsa=hclab-app-$tag nsg=hclab-gw-$tag va=hca$tag vg=hcg$tag
app_ip=198.18.0.1 gw_ip=198.18.0.2
if [ -z "$out" ]; then out=$(mktemp -d /tmp/hclab.XXXXXX); fi
mkdir -p "$out"
hc_pid=""

cleanup() {
	if [ -n "$hc_pid" ] && kill -0 "$hc_pid" 2>/dev/null; then
		kill -INT "$hc_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$hc_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$hc_pid" 2>/dev/null || true
	fi
	ip netns del "$nsa" 2>/dev/null || true
	ip netns del "$nsg" 2>/dev/null || true
	rmdir "/var/run/dpdk/hclab$tag" 2>/dev/null || true # left empty (--no-shconf)
}
trap cleanup EXIT
trap 'echo "hc-lab: interrupted"; exit 130' INT TERM

echo "hc-lab: scenario: $users users, $rooms rooms, $gateways gateways, $events events (seed $seed)"
"$build/pktgen-scenarios/hc-scenario" --out "$out/lab" --seed "$seed" --users "$users" \
	--rooms "$rooms" --gateways "$gateways" --events "$events" --batch "$batch" \
	--malformed "$malformed" --duplicate "$duplicate" --reorder "$reorder" \
	--dst-ip $app_ip --src-ip $gw_ip

ip netns add "$nsa"
ip netns add "$nsg"
ip link add "$va" type veth peer name "$vg"
ip link set "$va" netns "$nsa"
ip link set "$vg" netns "$nsg"
for ns in "$nsa" "$nsg"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$nsa" link set "$va" up
ip -n "$nsg" addr add $gw_ip/24 dev "$vg"
ip -n "$nsg" link set "$vg" up
# A veth hands frames over with the UDP checksum left to offload (never
# filled in); a physical NIC would fill it in.  Make the kernel compute it.
ip netns exec "$nsg" ethtool -K "$vg" tx off >/dev/null

echo "hc-lab: starting headcount on af_packet:$va in $nsa (Ctrl-C stops it)"
# lcore 0 (control) sleeps between checks; workers 1..N go round the CPUs
lcores="0@0"
for i in $(seq 1 "$workers"); do lcores="$lcores,$i@$((i % $(nproc)))"; done
ip netns exec "$nsa" "$build/headcount" --lcores "$lcores" --no-huge -m 1024 --no-pci \
	--no-shconf --file-prefix "hclab$tag" --log-level=lib.eal:warning \
	--vdev "net_af_packet0,iface=$va,qpairs=$workers,framecnt=8192" -- \
	--ip $app_ip --max-users $((users + 1024)) --stats-interval 1 \
	--dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv" \
	> >(tee "$out/headcount.log") 2>&1 &
hc_pid=$!
for _ in $(seq 200); do
	grep -q "listening on" "$out/headcount.log" 2>/dev/null && break
	kill -0 "$hc_pid" 2>/dev/null || { echo "hc-lab: headcount exited early" >&2; exit 1; }
	sleep 0.1
done
grep -q "listening on" "$out/headcount.log" || { echo "hc-lab: headcount did not start" >&2; exit 1; }

# The gateway host resolves the appliance's address: only headcount answers.
# A probe to the discard port makes the kernel ask; headcount counts the
# probe itself as wrong_port.
mac=""
for _ in $(seq 30); do
	ip netns exec "$nsg" bash -c "echo probe > /dev/udp/$app_ip/9" 2>/dev/null || true
	sleep 0.1
	mac=$(ip -n "$nsg" neigh show $app_ip | awk '/lladdr/ {print $5}')
	[ -n "$mac" ] && break
done
if [ -z "$mac" ]; then echo "hc-lab: FAIL: no ARP answer from the appliance" >&2; exit 1; fi
echo "hc-lab: $app_ip is at $mac (ARP answered by headcount)"

echo "hc-lab: gateways sending at $rate datagrams/s"
ip netns exec "$nsg" "$build/tools/hc-send" --dst $app_ip --rate "$rate" --timeout 300 \
	--expect "$out/send.expect" "$out/lab.pcap"
sleep "$linger"
kill -INT "$hc_pid"
wait "$hc_pid" || { echo "hc-lab: headcount exited with an error" >&2; exit 1; }
hc_pid=""

fail=0
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
[ "$fail" = 0 ] && echo "hc-lab: PASS: counts equal the ground truth exactly (files in $out)"
exit $fail
