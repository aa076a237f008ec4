# SPDX-License-Identifier: BSD-3-Clause
# hc-netns.sh - sourced by the lab and the namespace tests: two network
# namespaces joined by a veth pair, headcount on af_packet in one of them.
#
#   ns hclab-app-TAG : veth hcaTAG, no IP (headcount answers ARP for
#                      HC_APP_IP itself)
#   ns hclab-gw-TAG  : veth hcgTAG, HC_GW_IP/24, gateways' kernel sockets
#   ns hclab-atk-TAG : (hc_lab_attacker_up) a third host on the same
#                      segment, HC_ATK_IP/24, its own MAC: the gateway
#                      namespace's veth and the attacker's hang off a
#                      bridge there, so the attacker reaches the appliance
#                      and the gateways with ordinary sockets
#
# Addresses are RFC 2544 benchmarking addresses inside our own namespaces.
# Callers set a trap that calls hc_lab_down.

HC_APP_IP=198.18.0.1
HC_GW_IP=198.18.0.2
HC_ATK_IP=198.18.0.3
HC_TEL="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/hc-tel.py"

# Every wait below is on a condition, bounded by a time that only a broken
# build reaches (a busy machine is slow, not wrong).

# hc_wait BOUND_S WHAT CMD...: run CMD every 0.1 s until it succeeds; after
# BOUND_S seconds say that WHAT never happened and return 1.
hc_wait() {
	local bound=$1 what=$2 end
	shift 2
	end=$(($(date +%s) + bound))
	until "$@" > /dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "FAIL: within ${bound} s: $what" >&2
			return 1
		fi
		sleep 0.1
	done
}

# hc_tel_kv CMD: the appliance's telemetry reply to CMD as key=value lines.
hc_tel_kv() {
	"$HC_TEL" "hclab$HC_TAG" kv "$1"
}

# hc_tel_val CMD KEY: KEY's value in the reply to CMD (empty if absent).
hc_tel_val() {
	hc_tel_kv "$1" | sed -n "s/^$2=//p"
}

# hc_tel_has CMD KEY=VALUE...: the reply to CMD holds every KEY=VALUE.
hc_tel_has() {
	local cmd=$1 kv reply
	shift
	reply=$(hc_tel_kv "$cmd") || return 1
	for kv in "$@"; do
		grep -qx "$kv" <<< "$reply" || return 1
	done
}

# hc_rooms_equal TRUTH: the appliance's live room table (telemetry) equals
# the CSV TRUTH (the --dump-rooms format).
hc_rooms_equal() {
	cmp -s "$1" <("$HC_TEL" "hclab$HC_TAG" rooms)
}

# hc_lab_up TAG: create the namespaces and the veth pair.
hc_lab_up() {
	HC_TAG=$1
	HC_NSA=hclab-app-$1 HC_NSG=hclab-gw-$1 HC_VA=hca$1 HC_VG=hcg$1
	ip netns add "$HC_NSA"
	ip netns add "$HC_NSG"
	ip link add "$HC_VA" type veth peer name "$HC_VG"
	ip link set "$HC_VA" netns "$HC_NSA"
	ip link set "$HC_VG" netns "$HC_NSG"
	for ns in "$HC_NSA" "$HC_NSG"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip -n "$HC_NSA" link set "$HC_VA" up
	ip -n "$HC_NSG" addr add $HC_GW_IP/24 dev "$HC_VG"
	ip -n "$HC_NSG" link set "$HC_VG" up
	# A veth hands frames over with the UDP checksum left to offload
	# (never filled in); a physical NIC would fill it in: make the kernel
	# compute it.
	ip netns exec "$HC_NSG" ethtool -K "$HC_VG" tx off >/dev/null
}

# hc_make_keys FILE [GATEWAYS]: a keys file (protocol v2) with a fresh
# random key in slot 0 for gateway ids 1..GATEWAYS (256), mode 600.
hc_make_keys() {
	local file=$1 n=${2:-256}
	( umask 077; od -An -v -tx1 -N $((16 * n)) /dev/urandom | tr -d ' \n' | fold -w 32 |
		awk '{ printf "%d 0 %s\n", NR, $0 }' > "$file" )
	[ "$(wc -l < "$file")" = "$n" ] || { echo "hc_make_keys: short $file" >&2; return 1; }
}

# hc_lab_attacker_up: after hc_lab_up, put a third host on the segment:
# the gateway namespace's veth moves under a bridge (which takes its
# address), and the attacker namespace's veth joins the bridge.
hc_lab_attacker_up() {
	HC_NSX=hclab-atk-$HC_TAG HC_VX=hcx$HC_TAG HC_VXB=hcy$HC_TAG
	ip netns add "$HC_NSX"
	ip netns exec "$HC_NSX" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$HC_NSX" link set lo up
	ip -n "$HC_NSG" link add hcbr type bridge
	ip -n "$HC_NSG" addr del $HC_GW_IP/24 dev "$HC_VG"
	ip -n "$HC_NSG" link set "$HC_VG" master hcbr
	ip -n "$HC_NSG" addr add $HC_GW_IP/24 dev hcbr
	ip link add "$HC_VX" type veth peer name "$HC_VXB"
	ip link set "$HC_VX" netns "$HC_NSX"
	ip link set "$HC_VXB" netns "$HC_NSG"
	ip -n "$HC_NSG" link set "$HC_VXB" master hcbr
	ip -n "$HC_NSG" link set "$HC_VXB" up
	ip -n "$HC_NSG" link set hcbr up
	ip -n "$HC_NSX" addr add $HC_ATK_IP/24 dev "$HC_VX"
	ip -n "$HC_NSX" link set "$HC_VX" up
	# the kernel fills in UDP checksums itself (see hc_lab_up)
	ip netns exec "$HC_NSG" ethtool -K hcbr tx off >/dev/null
	ip netns exec "$HC_NSX" ethtool -K "$HC_VX" tx off >/dev/null
}

# The CPUs this shell may run on (its affinity: a cpuset or taskset may
# leave out CPU 0 or leave gaps), one line, ascending.
hc_cpu_list() {
	python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))'
}

# hc_appliance_lcores WORKERS: the appliance's --lcores (its threads may
# then run only where the caller may: tests/integration/netns_cpuset.sh).  lcore 0
# (control) keeps the first CPU: workers wait for its seat decisions;
# workers 1..N go round the other CPUs (sharing one if need be).
# HC_APPLIANCE_CPUS=1 keeps them all on the first CPU (a benchmark of a
# client gives the client the other CPUs alone).
hc_appliance_lcores() {
	local workers=$1 cpu n i lcores
	read -r -a cpu <<< "$(hc_cpu_list)" || true
	n=${#cpu[@]}
	[ "$n" -gt 0 ] || { echo "hc_appliance_lcores: no CPU to run on" >&2; return 1; }
	[ "${HC_APPLIANCE_CPUS:-0}" != 1 ] || n=1
	lcores="0@${cpu[0]}"
	for i in $(seq 1 "$workers"); do
		if [ "$n" -gt 1 ]; then
			lcores="$lcores,$i@${cpu[1 + (i - 1) % (n - 1)]}"
		else
			lcores="$lcores,$i@${cpu[0]}"
		fi
	done
	echo "$lcores"
}

# hc_appliance_start BUILD OUT WORKERS [headcount options...]: start
# headcount in the app namespace, logging to OUT/headcount.log (and the
# terminal); wait until its telemetry answers.  Sets HC_PID.  The
# appliance authenticates every datagram under the keys in OUT/keys (made
# here, gateways 1..256; HC_KEYS names the file for the gateways) unless
# the options say --no-auth.  HC_AFP_ARGS, if set, replaces the af_packet
# port's ring devargs (framecnt=8192), e.g. framesz for jumbo frames.
hc_appliance_start() {
	local build=$1 out=$2 workers=$3
	shift 3
	local auth=(--keys "$out/keys")
	case " $* " in *" --no-auth "*) auth=() ;; esac
	if [ ${#auth[@]} -gt 0 ] && [ ! -f "$out/keys" ]; then
		hc_make_keys "$out/keys" || return 1
	fi
	HC_KEYS=$out/keys
	local lcores
	lcores=$(hc_appliance_lcores "$workers") || return 1
	ip netns exec "$HC_NSA" "$build/headcount" --lcores "$lcores" --no-huge -m 1024 \
		--no-pci --no-shconf --file-prefix "hclab$HC_TAG" --log-level=lib.eal:warning \
		--vdev "net_af_packet0,iface=$HC_VA,qpairs=$workers,${HC_AFP_ARGS:-framecnt=8192}" -- \
		--ip $HC_APP_IP --state-file "$out/gateways" "${auth[@]}" "$@" \
		> >(tee "$out/headcount.log") 2>&1 &
	HC_PID=$!
	# listening: its telemetry answers (the socket exists once EAL is up,
	# the commands once the appliance registered them, after port start)
	hc_wait 120 "headcount answers telemetry" hc_started || return 1
	kill -0 "$HC_PID" 2>/dev/null || { echo "headcount exited early" >&2; return 1; }
}

# hc_started: headcount runs and answers telemetry (or has exited: fail).
hc_started() {
	kill -0 "$HC_PID" 2>/dev/null || { echo "headcount exited early" >&2; return 0; }
	hc_tel_kv /headcount/stats > /dev/null
}

# hc_arp_check: the gateway host resolves the appliance; only headcount
# answers.  A probe to the discard port makes the kernel ask (headcount
# counts the probe itself as wrong_port).  Prints the MAC.
hc_arp_check() {
	local mac="" _
	for _ in $(seq 300); do
		ip netns exec "$HC_NSG" bash -c "echo probe > /dev/udp/$HC_APP_IP/9" 2>/dev/null || true
		sleep 0.1
		mac=$(ip -n "$HC_NSG" neigh show $HC_APP_IP | awk '/lladdr/ {print $5}')
		[ -n "$mac" ] && break
	done
	[ -n "$mac" ] || return 1
	echo "$mac"
}

# hc_appliance_stop: SIGINT and wait (at most 120 s, then SIGKILL:
# status 137); returns headcount's exit status.
hc_appliance_stop() {
	local rc=0 _
	kill -INT "$HC_PID"
	for _ in $(seq 1200); do
		kill -0 "$HC_PID" 2> /dev/null || break
		sleep 0.1
	done
	if kill -0 "$HC_PID" 2> /dev/null; then
		echo "headcount did not stop within 120 s of SIGINT: killed" >&2
		kill -KILL "$HC_PID" 2> /dev/null || true
	fi
	wait "$HC_PID" || rc=$?
	HC_PID=""
	return $rc
}

# hc_limit_watch_start OUT [MAX]: sample the appliance's room table in
# the background while the test runs (tools/hc-tel.py watch; restarts of
# the appliance are waited out); MAX (default 100) is the pool's limit.
hc_limit_watch_start() {
	HC_WATCH=$1/limit.kv
	rm -f "$HC_WATCH" "$HC_WATCH.stop"
	"$HC_TEL" "hclab$HC_TAG" watch "${2:-100}" "$HC_WATCH" &
	HC_WATCH_PID=$!
}

# hc_limit_watch_check: stop the watch; fail unless it sampled the table
# and no sample ever held a room above the limit.
hc_limit_watch_check() {
	touch "$HC_WATCH.stop"
	wait "$HC_WATCH_PID" || { echo "FAIL: the room-limit watch failed"; return 1; }
	HC_WATCH_PID=""
	local samples above
	samples=$(sed -n 's/^samples=//p' "$HC_WATCH")
	above=$(sed -n 's/^above_max=//p' "$HC_WATCH")
	echo "room limit watched: $samples samples of the whole table, largest room" \
		"$(sed -n 's/^max_users=//p' "$HC_WATCH"), samples above max: $above"
	[ "${samples:-0}" -gt 0 ] || { echo "FAIL: the room table was never sampled"; return 1; }
	[ "${above:-1}" -eq 0 ] || { echo "FAIL: a room above max:" \
		"$(sed -n 's/^first_above=//p' "$HC_WATCH")"; return 1; }
}

# hc_lab_down: stop headcount if it still runs, remove the namespaces.
hc_lab_down() {
	if [ -n "${HC_WATCH_PID:-}" ]; then
		touch "$HC_WATCH.stop"
		wait "$HC_WATCH_PID" 2>/dev/null || true
	fi
	if [ -n "${HC_PID:-}" ] && kill -0 "$HC_PID" 2>/dev/null; then
		kill -INT "$HC_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$HC_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$HC_PID" 2>/dev/null || true
	fi
	ip netns del "${HC_NSA:-none}" 2>/dev/null || true
	ip netns del "${HC_NSG:-none}" 2>/dev/null || true
	ip netns del "${HC_NSX:-none}" 2>/dev/null || true
	rmdir "/var/run/dpdk/hclab${HC_TAG:-none}" 2>/dev/null || true # empty (--no-shconf)
}

# A second appliance on the gateways' segment (the shard tests):
#   ns hclab-ap2-TAG : veth hcbTAG, headcount answering ARP for HC_APP2_IP;
#                      its peer hcpTAG hangs off the bridge hcbr in the
#                      gateway namespace (made here unless
#                      hc_lab_attacker_up made it), so the gateways reach
#                      both appliances with ordinary sockets.
# Its telemetry prefix is hclab${TAG}b.  hc_use_appliance 1|2 points the
# functions above (hc_appliance_start/stop, hc_tel_kv, hc_rooms_equal,
# hc_arp_check ...) at one appliance or the other; callers' traps call
# hc_lab_appliance2_down before hc_lab_down.
HC_APP2_IP=198.18.0.4

# hc_lab_appliance2_up: after hc_lab_up, the second appliance's namespace.
hc_lab_appliance2_up() {
	HC_TAG1=$HC_TAG HC_NSA1=$HC_NSA HC_VA1=$HC_VA HC_PID1=${HC_PID:-} HC_CUR=1
	HC_NSA2=hclab-ap2-$HC_TAG HC_VA2=hcb$HC_TAG HC_VP2=hcp$HC_TAG HC_PID2=""
	if ! ip -n "$HC_NSG" link show hcbr > /dev/null 2>&1; then
		ip -n "$HC_NSG" link add hcbr type bridge
		ip -n "$HC_NSG" addr del $HC_GW_IP/24 dev "$HC_VG"
		ip -n "$HC_NSG" link set "$HC_VG" master hcbr
		ip -n "$HC_NSG" addr add $HC_GW_IP/24 dev hcbr
		ip -n "$HC_NSG" link set hcbr up
		ip netns exec "$HC_NSG" ethtool -K hcbr tx off >/dev/null
	fi
	ip netns add "$HC_NSA2"
	ip netns exec "$HC_NSA2" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$HC_NSA2" link set lo up
	ip link add "$HC_VA2" type veth peer name "$HC_VP2"
	ip link set "$HC_VA2" netns "$HC_NSA2"
	ip link set "$HC_VP2" netns "$HC_NSG"
	ip -n "$HC_NSG" link set "$HC_VP2" master hcbr
	ip -n "$HC_NSG" link set "$HC_VP2" up
	ip -n "$HC_NSA2" link set "$HC_VA2" up
}

# hc_use_appliance 1|2: the functions above now mean that appliance
# (HC_TAG, HC_NSA, HC_VA, HC_APP_IP, HC_PID); the other's PID is kept.
hc_use_appliance() {
	if [ "${HC_CUR:-1}" = 1 ]; then HC_PID1=${HC_PID:-}; else HC_PID2=${HC_PID:-}; fi
	if [ "$1" = 1 ]; then
		HC_TAG=$HC_TAG1 HC_NSA=$HC_NSA1 HC_VA=$HC_VA1 HC_APP_IP=198.18.0.1 HC_PID=$HC_PID1
	else
		HC_TAG=${HC_TAG1}b HC_NSA=$HC_NSA2 HC_VA=$HC_VA2 HC_APP_IP=$HC_APP2_IP HC_PID=$HC_PID2
	fi
	HC_CUR=$1
}

# hc_lab_appliance2_down: stop the second appliance if it runs, remove its
# namespace; leaves appliance 1 current (for hc_lab_down).
hc_lab_appliance2_down() {
	[ -n "${HC_NSA2:-}" ] || return 0
	hc_use_appliance 2
	if [ -n "${HC_PID:-}" ] && kill -0 "$HC_PID" 2>/dev/null; then
		kill -INT "$HC_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$HC_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$HC_PID" 2>/dev/null || true
	fi
	ip netns del "$HC_NSA2" 2>/dev/null || true
	rmdir "/var/run/dpdk/hclab$HC_TAG" 2>/dev/null || true
	hc_use_appliance 1
}

# ---- an active/standby pair (tests/integration/netns_ha.sh) ----
#
#   ns hclab-app-TAG  : appliance A, data veth hcaTAG (DPDK af_packet),
#                       management veth hcmTAG 198.18.1.1/24
#   ns hclab-apb-TAG  : appliance B, data veth hcbTAG, management veth
#                       hcnTAG 198.18.1.2/24
#   ns hclab-gw-TAG   : the gateways, bridge hcbr (HC_GW_IP/24) joining
#                       both data veths' peers (hcgTAG, hchTAG)
# Both appliances serve --ip HC_APP_IP (the service address) and only the
# master answers ARP for it; keepalived runs in A's and B's namespaces
# over the management pair.
HC_MGMT_A=198.18.1.1
HC_MGMT_B=198.18.1.2

# hc_lab_ha_up TAG: the three namespaces and their links.
hc_lab_ha_up() {
	HC_TAG=$1
	HC_NSA=hclab-app-$1 HC_NSB=hclab-apb-$1 HC_NSG=hclab-gw-$1
	HC_VA=hca$1 HC_VB=hcb$1 HC_VG=hcg$1 HC_VH=hch$1 HC_VM=hcm$1 HC_VN=hcn$1
	local ns
	for ns in "$HC_NSA" "$HC_NSB" "$HC_NSG"; do
		ip netns add "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip -n "$HC_NSG" link add hcbr type bridge
	ip link add "$HC_VA" type veth peer name "$HC_VG"
	ip link add "$HC_VB" type veth peer name "$HC_VH"
	ip link set "$HC_VA" netns "$HC_NSA"
	ip link set "$HC_VB" netns "$HC_NSB"
	ip link set "$HC_VG" netns "$HC_NSG"
	ip link set "$HC_VH" netns "$HC_NSG"
	ip -n "$HC_NSA" link set "$HC_VA" up
	ip -n "$HC_NSB" link set "$HC_VB" up
	ip -n "$HC_NSG" link set "$HC_VG" master hcbr
	ip -n "$HC_NSG" link set "$HC_VH" master hcbr
	ip -n "$HC_NSG" link set "$HC_VG" up
	ip -n "$HC_NSG" link set "$HC_VH" up
	ip -n "$HC_NSG" addr add $HC_GW_IP/24 dev hcbr
	ip -n "$HC_NSG" link set hcbr up
	# the kernel fills in UDP checksums itself (see hc_lab_up)
	ip netns exec "$HC_NSG" ethtool -K hcbr tx off >/dev/null
	ip link add "$HC_VM" type veth peer name "$HC_VN"
	ip link set "$HC_VM" netns "$HC_NSA"
	ip link set "$HC_VN" netns "$HC_NSB"
	ip -n "$HC_NSA" addr add $HC_MGMT_A/24 dev "$HC_VM"
	ip -n "$HC_NSB" addr add $HC_MGMT_B/24 dev "$HC_VN"
	ip -n "$HC_NSA" link set "$HC_VM" up
	ip -n "$HC_NSB" link set "$HC_VN" up
}

# hc_lab_ha_down: remove what hc_lab_ha_up made beyond hc_lab_down's
# (call hc_lab_down too).
hc_lab_ha_down() {
	ip netns del "${HC_NSB:-none}" 2>/dev/null || true
	# an appliance killed with SIGKILL leaves its telemetry socket
	local p
	for p in "hclab${HC_TAG:-none}" "hclab${HC_TAG:-none}b"; do
		rm -f "/var/run/dpdk/$p/dpdk_telemetry.v2"
		rmdir "/var/run/dpdk/$p" 2>/dev/null || true
	done
}
