#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_deploy.sh MODE - the deploy kit's dataplane and start-up checks in
# the namespace lab (tools/hc-netns.sh).
#
# icmp: ICMP echo answered by the dataplane (dataplane/hc_icmp.c).
#   - ping -c 5 from the gateway namespace: 5 replies exactly, and
#     icmp_echo_replies = 5; 3 pings of 1,472 bytes of data (a 1,500-byte
#     packet, DF set): 3 replies (ping checks the echoed data), 8 in all;
#   - 7 echo requests with a wrong ICMP checksum: drop_icmp_bad_csum = 7,
#     no reply comes back, icmp_echo_replies still 8; 4 timestamp requests:
#     drop_icmp_ignored = 4, no reply;
#   - a flood of 6,000 echo requests, 500 at a time, each chunk accounted
#     for before the next: every request is a reply or a counted drop
#     (replies + drop_icmp_rate_limited = 6,000 exactly), replies never
#     exceed what the token bucket allows over the measured time
#     (HC_ICMP_BURST + HC_ICMP_RATE x seconds, per worker), and when that
#     bound is below 6,000 some were rate-limited.
# lock: one appliance per port, per file prefix and per state file
# (app/hc_lock.c).
#   - appliance A runs, a hc-gwsim fleet against it throughout;
#   - B on the same interface (--no-shconf, another prefix) exits 2 saying
#     the port is in use by A's pid; C with A's file prefix (--no-shconf,
#     a net_null port) exits 2 saying the prefix is in use by A's pid;
#     so does C2, A's prefix spelt "--file-pre" (an abbreviation EAL's
#     getopt_long takes: the lock sees the prefix EAL will use); F with
#     another prefix and a net_null port but A's state file, spelt
#     otherwise, exits 2 saying the state file is in use by A's pid;
#   - the fleet saw no appliance restart (appliance_restarts = 0: a
#     second appliance answering would be a new incarnation) and its
#     room table equals the appliance's (hc-gwsim exits 0); A held
#     exactly three lock files (port, prefix, state file) with its pid,
#     exits 0, and
#     they are gone;
#   - B's own prefix lock, taken before it was refused, is gone at its exit;
#   - the lock dies with its holder: D on the same interface, then killed
#     with SIGKILL (no clean exit), and E starts after it; once E stops,
#     no lock file of this test is left;
#   - E runs without --ip on its af_packet port (a virtual device): the
#     lab's default address 198.18.0.1 holds (ARP and ping answered); and
#     with RUNTIME_DIRECTORY set, as systemd's RuntimeDirectory= sets it
#     (DPDK would put its runtime files there): its telemetry is where
#     the tools look, /var/run/dpdk/PREFIX.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
mode=${1:?icmp or lock}
dir=$(mktemp -d /tmp/hc-deploy.XXXXXX)
lockdir=${HEADCOUNT_LOCK_DIR:-/run/headcount}
trap 'hc_lab_down; rm -rf "$dir"' EXIT
hc_lab_up "dp$$"

# stat_of KEY: KEY of /headcount/stats now
stat_of() { hc_tel_kv /headcount/stats | sed -n "s/^$1=//p"; }

if [ "$mode" = icmp ]; then
	hc_appliance_start "$build" "$dir" 1
	hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }
	echo "ping -c 5"
	out=$(ip netns exec "$HC_NSG" ping -n -c 5 -i 0.2 -W 10 $HC_APP_IP) || true
	echo "$out" | tail -2 | sed 's/^/  /'
	need ping_received "$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<< "$out")" -eq 5
	hc_wait 30 "5 replies counted" hc_tel_has /headcount/stats icmp_echo_replies=5
	need icmp_echo_replies "$(stat_of icmp_echo_replies)" -eq 5
	echo "ping -c 3 -s 1472 -M do (a 1,500-byte packet, echoed whole)"
	out=$(ip netns exec "$HC_NSG" ping -n -c 3 -i 0.2 -W 10 -s 1472 -M do $HC_APP_IP) || true
	echo "$out" | tail -2 | sed 's/^/  /'
	need ping_big_received "$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<< "$out")" -eq 3
	grep -q "wrong data" <<< "$out" && { echo "FAIL: ping saw wrong data echoed"; exit 1; }
	hc_wait 30 "8 replies counted" hc_tel_has /headcount/stats icmp_echo_replies=8
	echo "7 echo requests with a wrong ICMP checksum, 4 timestamp requests"
	ip netns exec "$HC_NSG" "$here/hc_icmp_send.py" bad $HC_APP_IP 7 > "$dir/bad.kv"
	hc_wait 30 "7 bad checksums counted" hc_tel_has /headcount/stats drop_icmp_bad_csum=7
	need bad_csum_replies_received "$(kv received "$dir/bad.kv")" -eq 0
	ip netns exec "$HC_NSG" "$here/hc_icmp_send.py" ignored $HC_APP_IP 4 > "$dir/ign.kv"
	hc_wait 30 "4 ignored counted" hc_tel_has /headcount/stats drop_icmp_ignored=4
	need ignored_replies_received "$(kv received "$dir/ign.kv")" -eq 0
	need icmp_echo_replies "$(stat_of icmp_echo_replies)" -eq 8
	need drop_icmp_rate_limited "$(stat_of drop_icmp_rate_limited)" -eq 0
	echo "a flood: 6,000 echo requests, 500 at a time"
	ip netns exec "$HC_NSG" "$here/hc_icmp_send.py" flood $HC_APP_IP 6000 500 "hclab$HC_TAG" \
		> "$dir/flood.kv"
	sed 's/^/  /' "$dir/flood.kv"
	sent=$(kv sent "$dir/flood.kv") replies=$(kv replies "$dir/flood.kv")
	limited=$(kv rate_limited "$dir/flood.kv") elapsed=$(kv elapsed_s "$dir/flood.kv")
	need flood_accounted "$((replies + limited))" -eq "$sent"
	rate=$(sed -n 's/^#define HC_ICMP_RATE \([0-9]*\)$/\1/p' "$here/../../dataplane/hc_icmp.h")
	burst=$(sed -n 's/^#define HC_ICMP_BURST \([0-9]*\)$/\1/p' "$here/../../dataplane/hc_icmp.h")
	bound=$(awk -v b="$burst" -v r="$rate" -v t="$elapsed" 'BEGIN { printf "%d", b + r * t + 1 }')
	need flood_replies_within_bucket "$replies" -le "$bound"
	if [ "$bound" -lt "$sent" ]; then
		need flood_rate_limited "$limited" -gt 0
	else
		echo "  (the machine took ${elapsed} s: the bucket allowed every request)"
	fi
	need flood_replies_came_back "$(kv received "$dir/flood.kv")" -le "$replies"
	hc_appliance_stop || { echo "FAIL: headcount exited with an error"; exit 1; }
	echo "PASS: echo answered exactly, bad checksums and other types counted, floods bounded"
	exit 0
fi

[ "$mode" = lock ] || { echo "usage: netns_deploy.sh icmp|lock" >&2; exit 2; }
# second NAME PREFIX VDEV [OPTIONS]: another appliance in the app namespace,
# in the foreground; its exit status and output in $dir/NAME.{rc,log}
second() {
	local name=$1 prefix=$2 vdev=$3 rc=0
	shift 3
	timeout 120 ip netns exec "$HC_NSA" "$build/headcount" --lcores "$(hc_appliance_lcores 1)" --no-huge \
		-m 512 --no-pci --no-shconf "${PREFIX_OPT:---file-prefix}" "$prefix" \
		--log-level=lib.eal:warning \
		--vdev "$vdev" -- --ip $HC_APP_IP --no-auth --state-file none "$@" \
		> "$dir/$name.log" 2>&1 || rc=$?
	echo "$rc" > "$dir/$name.rc"
	sed 's/^/    /' "$dir/$name.log" | grep -i "in use\|refus" || true
}

hc_appliance_start "$build" "$dir" 1
a_pid=$HC_PID
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }
echo "appliance A: pid $a_pid; a fleet against it"
ip netns exec "$HC_NSG" "$build/tools/hc-gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" \
	--prefix "hclab$HC_TAG" --gateways 4 --users 4000 --duration 8 \
	--arrival-rate 2000 --leave-rate 200 --settle 120 --seed 3 \
	--result "$dir/gwsim.kv" > "$dir/gwsim.log" 2>&1 &
gw_pid=$!
hc_wait 60 "the fleet's gateways are heard" hc_tel_has /headcount/stats gateways=4 || true

echo "B: the same interface, another file prefix, --no-shconf"
second B "hclabB$HC_TAG" "net_af_packet0,iface=$HC_VA"
need B_exit "$(cat "$dir/B.rc")" -eq 2
# B had taken its own prefix's lock before it was refused: removed at exit
need B_lock_files_left "$(find "$lockdir" -name "*hclabB$HC_TAG*" | wc -l)" -eq 0
grep -q "port 0 (net_af_packet0: net[0-9]*-if-$HC_VA) is in use by another appliance, pid $a_pid " \
	"$dir/B.log" || { echo "FAIL: B's message does not name the port and pid $a_pid"; exit 1; }
echo "C: A's file prefix, --no-shconf, a port of its own (net_null)"
second C "hclab$HC_TAG" "net_null0"
need C_exit "$(cat "$dir/C.rc")" -eq 2
grep -q "EAL file prefix 'hclab$HC_TAG' is in use by another appliance, pid $a_pid " \
	"$dir/C.log" || { echo "FAIL: C's message does not name the prefix and pid $a_pid"; exit 1; }
echo "C2: A's file prefix spelt as an abbreviation EAL's getopt_long accepts (--file-pre)"
PREFIX_OPT=--file-pre second C2 "hclab$HC_TAG" "net_null0"
need C2_exit "$(cat "$dir/C2.rc")" -eq 2
grep -q "EAL file prefix 'hclab$HC_TAG' is in use by another appliance, pid $a_pid " \
	"$dir/C2.log" || { echo "FAIL: C2's message does not name the prefix and pid $a_pid"; exit 1; }

echo "F: another prefix and port (net_null), A's state file under another spelling"
second F "hclabF$HC_TAG" "net_null0" --state-file "$dir/../$(basename "$dir")/./gateways"
need F_exit "$(cat "$dir/F.rc")" -eq 2
grep -q "the state file $dir/gateways is in use by another appliance, pid $a_pid " "$dir/F.log" ||
	{ echo "FAIL: F's message does not name the state file and pid $a_pid"; exit 1; }
need F_lock_files_left "$(find "$lockdir" -name "*hclabF$HC_TAG*" | wc -l)" -eq 0

rc=0
wait "$gw_pid" || rc=$?
tail -3 "$dir/gwsim.log" | sed 's/^/  /'
need gwsim_exit "$rc" -eq 0
need appliance_restarts "$(kv appliance_restarts "$dir/gwsim.kv")" -eq 0
kill -0 "$a_pid" || { echo "FAIL: A died"; exit 1; }
locks=$(grep -lx "$a_pid" "$lockdir"/*.lock 2>/dev/null | wc -l)
need A_lock_files "$locks" -eq 3 # the prefix, the port, the state file
hc_appliance_stop || { echo "FAIL: A exited with an error"; exit 1; }
need A_lock_files_after_exit "$(grep -lx "$a_pid" "$lockdir"/*.lock 2>/dev/null | wc -l)" -eq 0

echo "D on the same interface, killed with SIGKILL"
ip netns exec "$HC_NSA" "$build/headcount" --lcores "$(hc_appliance_lcores 1)" --no-huge -m 512 --no-pci \
	--no-shconf --file-prefix "hclab$HC_TAG" --log-level=lib.eal:warning \
	--vdev "net_af_packet0,iface=$HC_VA" -- --ip $HC_APP_IP --no-auth --state-file none \
	> "$dir/D.log" 2>&1 &
HC_PID=$!
hc_wait 120 "D answers telemetry" hc_started && kill -0 "$HC_PID" ||
	{ echo "FAIL: D did not start"; cat "$dir/D.log"; exit 1; }
kill -KILL "$HC_PID"
wait "$HC_PID" 2>/dev/null || true
echo "E on the same interface and prefix, without --ip (a virtual device: the lab's default)"
mkdir "$dir/rt"
ip netns exec "$HC_NSA" env RUNTIME_DIRECTORY="$dir/rt" "$build/headcount" \
	--lcores "$(hc_appliance_lcores 1)" --no-huge -m 512 --no-pci \
	--no-shconf --file-prefix "hclab$HC_TAG" --log-level=lib.eal:warning \
	--vdev "net_af_packet0,iface=$HC_VA" -- --no-auth --state-file none > "$dir/E.log" 2>&1 &
HC_PID=$!
hc_wait 120 "E answers telemetry" hc_started && kill -0 "$HC_PID" ||
	{ echo "FAIL: E did not start"; cat "$dir/E.log"; ls -la /var/run/dpdk/hclab$HC_TAG; exit 1; }
grep -q "listening on 198.18.0.1 udp" "$dir/E.log" || { echo "FAIL: E not on the default address"; exit 1; }
need E_runtime_files_in_RUNTIME_DIRECTORY "$(find "$dir/rt" -mindepth 1 | wc -l)" -eq 0
[ -S "/var/run/dpdk/hclab$HC_TAG/dpdk_telemetry.v2" ] ||
	{ echo "FAIL: E's telemetry socket is not under /var/run/dpdk"; exit 1; }
ip -n "$HC_NSG" neigh flush dev "$HC_VG"
hc_arp_check > /dev/null || { echo "FAIL: E does not answer ARP for 198.18.0.1"; exit 1; }
out=$(ip netns exec "$HC_NSG" ping -n -c 2 -i 0.2 -W 10 $HC_APP_IP) || true
need E_ping_received "$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<< "$out")" -eq 2
hc_appliance_stop || { echo "FAIL: E exited with an error"; exit 1; }
# D's files (SIGKILL: left behind, unlocked) were taken over by E, which
# removed them at its exit: nothing of this test is left
need lock_files_left "$(find "$lockdir" -name "*$HC_TAG*" | wc -l)" -eq 0
echo "PASS: a second appliance on the port or the prefix exits 2 naming the holder; the first is undisturbed"
