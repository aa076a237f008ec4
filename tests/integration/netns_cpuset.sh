#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_cpuset.sh - the lab's CPU choice (tools/hc-netns.sh:
# hc_appliance_lcores, used by hc_appliance_start: the lab, the netns tests
# that start the appliance through it, pktgen-scenarios/run.sh) follows
# the CPUs the caller may run on, not CPU numbers 0..n-1.  Under
# `taskset -c 1` the old choice (0@0,1@1) put the appliance's threads on
# CPU 0 anyway, beside what the caller kept it from; under a cgroup cpuset
# without CPU 0, EAL could not pin them there and the appliance did not
# start.  (Other tests still name CPUs 0 and 1 themselves.)
#   - the lcores string worked out from this shell's affinity, for 1 and 2
#     workers, and with HC_APPLIANCE_CPUS=1, equals the rule's;
#   - under the last CPU alone (taskset -c L): 0@L,1@L,2@L;
#   - the appliance started by hc_appliance_start from a shell bound to the
#     last CPU alone runs there: it answers ARP, a gateway fleet's rooms
#     equal its (hc-gwsim exits 0), its threads are all on CPU L, and it
#     exits 0 on SIGINT.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
unset HC_APPLIANCE_CPUS
dir=$(mktemp -d /tmp/hc-cpuset.XXXXXX)
trap 'hc_lab_down; rm -rf "$dir"' EXIT
fail=0
same() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then
		echo "  $1: $2"
	else
		echo "FAIL: $1: $2, expected $3"
		fail=1
	fi
}

read -r -a cpu <<< "$(hc_cpu_list)"
n=${#cpu[@]}
[ "$n" -ge 2 ] || { echo "SKIP: one CPU: nothing to leave out"; exit 77; }
last=${cpu[n - 1]}
echo "CPUs this test may run on: ${cpu[*]}"
same "2 workers" "$(hc_appliance_lcores 2)" "0@${cpu[0]},1@${cpu[1]},2@${cpu[$((1 % (n - 1) + 1))]}"
same "1 worker, HC_APPLIANCE_CPUS=1" "$(HC_APPLIANCE_CPUS=1 hc_appliance_lcores 1)" \
	"0@${cpu[0]},1@${cpu[0]}"
same "2 workers under taskset -c $last" \
	"$(taskset -c "$last" bash -c ". '$here/../../tools/hc-netns.sh'; hc_appliance_lcores 2")" \
	"0@$last,1@$last,2@$last"
[ "$fail" = 0 ] || exit 1

# the appliance, from a shell bound to the last CPU alone
taskset -pc "$last" $$ > /dev/null
same "this shell's CPUs now" "$(hc_cpu_list)" "$last"
hc_lab_up "cs$$"
hc_appliance_start "$build" "$dir" 1 --stats-interval 0 > "$dir/start.log" 2>&1 ||
	{ cat "$dir/start.log" "$dir/headcount.log"; echo "FAIL: the appliance did not start"; exit 1; }
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }
ip netns exec "$HC_NSG" "$build/tools/hc-gwsim" --appliance $HC_APP_IP --keys "$HC_KEYS" \
	--prefix "hclab$HC_TAG" --gateways 2 --users 2000 --duration 3 \
	--arrival-rate 1000 --leave-rate 100 --settle 120 --seed 5 \
	--result "$dir/gwsim.kv" > "$dir/gwsim.log" 2>&1 || { cat "$dir/gwsim.log"; fail=1; }
same "hc-gwsim's comparison of the rooms with the appliance's" "$(kv compare "$dir/gwsim.kv")" exact
# every thread of the appliance may run on CPU L only
bad=0
for t in /proc/"$HC_PID"/task/*; do
	c=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status" 2> /dev/null) ||
		continue # (a thread that ended meanwhile)
	[ "$c" = "$last" ] || { echo "  thread $(cat "$t/comm" 2> /dev/null): CPUs $c"; bad=$((bad + 1)); }
done
same "appliance threads allowed elsewhere than CPU $last" "$bad" 0
rc=0
hc_appliance_stop || rc=$?
same "appliance exit status" "$rc" 0
[ "$fail" = 0 ] || exit 1
echo "PASS: netns-cpuset"
