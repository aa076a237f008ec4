#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# deploy_unit.sh - the systemd unit (deploy/headcount.service) and the
# readiness protocol it relies on.
#
# 1. systemd-analyze verify passes on the unit, with its ExecStart pointed
#    at this build's binary (the one path verify checks exists): exit 0
#    and not one line of output (verify only warns about a bad setting,
#    so any output fails).  The check can fail: a missing binary, a typo
#    in Type= and a misspelt section each make it fail.  The config file
#    the unit reads (deploy/headcount.conf, the bare-metal example, its
#    keys path pointed at a test keys file) passes --check-config, and
#    with an unknown key makes headcount itself exit 2 before EAL (the
#    unit has no ExecStartPre=: RestartPreventExitStatus=2 is judged on
#    the main process only); CPUAffinity= holds the example's lcores and
#    leaves a CPU for DPDK's own threads.  The
#    HA pair's headcount-state-sync.service verifies as clean, and not
#    with its script missing.
# 2. Readiness, in the namespace lab: headcount started with NOTIFY_SOCKET
#    naming a datagram socket this test reads (hc_notify_listen.py) sends
#    READY=1 with a STATUS= line; when it arrives the appliance already
#    answers telemetry and its log already says the port started and it
#    listens.  Nothing else comes until SIGTERM; then STOPPING=1, and the
#    appliance exits 0.
# 3. The watchdog, in the same run (WATCHDOG_USEC=6 s, as WatchdogSec=
#    passes it: the unit has WatchdogSec=; a check every 3 s, so that a
#    busy host that leaves the worker's lcore unscheduled for a second
#    does not read as a stuck worker while healthy): while healthy, WATCHDOG=1
#    arrives (three awaited); the worker's thread alone is then stopped
#    (ptrace, hc_freeze_thread.py: a stuck worker, the control core runs
#    on): the pings stop and each check says so instead ("STATUS=watchdog:
#    worker 0 made no progress in 3.000 s: WATCHDOG=1 withheld", two
#    awaited, nothing between them); thawed, the pings resume and the
#    status line before comes back.  The whole sequence is checked
#    exactly: READY, WATCHDOG=1 x >= 3, withheld x >= 2, WATCHDOG=1,
#    STATUS=listening..., WATCHDOG=1 x any, STOPPING=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
src=$here/../..
dir=$(mktemp -d /tmp/hc-deploy-unit.XXXXXX)
LISTEN_PID=""
FREEZE_PID=""
cleanup() {
	[ -z "$FREEZE_PID" ] || { touch "$dir/thaw"; wait "$FREEZE_PID" 2>/dev/null || true; }
	[ -z "$LISTEN_PID" ] || kill "$LISTEN_PID" 2>/dev/null || true
	hc_lab_down
	rm -rf "$dir"
}
trap cleanup EXIT

echo "systemd-analyze verify deploy/headcount.service"
command -v systemd-analyze > /dev/null || { echo "FAIL: systemd-analyze missing (package systemd)"; exit 1; }
# verify UNIT_TEXT_FILE [NAME]: 0 only if systemd-analyze exits 0 and says
# nothing (the file verified as NAME, headcount.service by default)
verify() {
	local name=${2:-headcount.service}
	mkdir -p "$dir/unit"
	cp "$1" "$dir/unit/$name"
	local out rc=0
	out=$(systemd-analyze verify "$dir/unit/$name" 2>&1) || rc=$?
	[ -z "$out" ] || echo "$out" | sed 's/^/    /'
	[ "$rc" = 0 ] && [ -z "$out" ]
}
unit=$src/deploy/headcount.service
grep -qx 'ExecStart=/usr/bin/headcount --config /etc/headcount/headcount.conf' "$unit" ||
	{ echo "FAIL: unexpected ExecStart"; exit 1; }
sed -e "s|^\(ExecStart[A-Za-z]*\)=/usr/bin/headcount |\1=$build/headcount |" \
	-e "s|^ExecReload=/usr/bin/headcountctl |ExecReload=$build/tools/headcountctl |" "$unit" > "$dir/good"
verify "$dir/good" || { echo "FAIL: systemd-analyze verify rejects the unit"; exit 1; }
echo "  verify: clean"
for broken in "s|^ExecStart=[^ ]*|ExecStart=$dir/no-such-headcount|" \
	"s|^Type=notify|Type=notfy|" "s|^\[Service\]|[Servce]|"; do
	sed "$broken" "$dir/good" > "$dir/broken"
	if verify "$dir/broken" > /dev/null; then
		echo "FAIL: verify accepted a broken unit ($broken)"
		exit 1
	fi
	echo "  verify refuses a broken unit ($broken)"
done
for key in "Type=notify" "Restart=on-failure" "LimitMEMLOCK=infinity" \
	"After=dpdk.service network-online.target" "Wants=dpdk.service network-online.target" \
	"RestartPreventExitStatus=2" \
	'ExecReload=/usr/bin/headcountctl --prefix headcount reload --pid $MAINPID' \
	"RuntimeDirectory=headcount" "RuntimeDirectoryPreserve=yes" "WatchdogSec=30s"; do
	grep -qx "$key" "$unit" || { echo "FAIL: the unit lacks $key"; exit 1; }
done
# a bad file must end the start with exit status 2 from the main process
# (RestartPreventExitStatus= is judged on it alone: an ExecStartPre=
# failing with 2 would be restarted until the start limit)
if grep -q '^ExecStartPre=' "$unit"; then
	echo "FAIL: the unit has an ExecStartPre= (its exit 2 would be restarted)"; exit 1
fi
# the CPUs: every lcore of the example file among the unit's, and at least
# one of them left for DPDK's own threads (EAL gives them the unit's CPUs
# no lcore has, else the control core's)
cpus=$(sed -n 's/^CPUAffinity=//p' "$unit")
lcores=$(sed -n 's/^lcores *= *\([^ ;]*\).*/\1/p' "$src/deploy/headcount.conf")
python3 - "$cpus" "$lcores" <<'PY' || exit 1
import sys
def cpus(text):
    out = set()
    for part in text.replace(",", " ").split():
        a, _, b = part.partition("-")
        out |= set(range(int(a), int(b or a) + 1))
    return out
unit = cpus(sys.argv[1])
lcore_cpus = {int(x.split("@")[1]) for x in sys.argv[2].split(",")}
if not unit:
    sys.exit("FAIL: the unit has no CPUAffinity")
if not lcore_cpus <= unit:
    sys.exit(f"FAIL: lcores on CPUs {sorted(lcore_cpus - unit)} outside CPUAffinity={sys.argv[1]}")
if not unit - lcore_cpus:
    sys.exit(f"FAIL: CPUAffinity={sys.argv[1]} leaves no CPU for DPDK's threads")
print(f"  CPUAffinity={sys.argv[1]}: lcores on {sorted(lcore_cpus)}, DPDK's threads on {sorted(unit - lcore_cpus)}")
PY
# the HA pair's state-file sender (deploy/headcount-state-sync.service),
# its script pointed at the source tree's
sunit=$src/deploy/headcount-state-sync.service
ss=headcount-state-sync.service
grep -q '^ExecStart=/usr/share/headcount/hc-state-sync.py /var/lib/headcount/gateways ${HC_STATE_SYNC_DEST} ' "$sunit" ||
	{ echo "FAIL: $ss: unexpected ExecStart"; exit 1; }
sed "s|^ExecStart=/usr/share/headcount/hc-state-sync.py |ExecStart=$src/deploy/keepalived/hc-state-sync.py |" \
	"$sunit" > "$dir/sgood"
verify "$dir/sgood" $ss || { echo "FAIL: systemd-analyze verify rejects $ss"; exit 1; }
sed "s|^ExecStart=[^ ]*|ExecStart=$dir/no-such-sync|" "$dir/sgood" > "$dir/sbroken"
if verify "$dir/sbroken" $ss > /dev/null; then
	echo "FAIL: verify accepted $ss with a missing script"; exit 1
fi
for key in "Restart=always" "EnvironmentFile=/etc/default/headcount-state-sync"; do
	grep -qx "$key" "$sunit" || { echo "FAIL: $ss lacks $key"; exit 1; }
done
echo "  $ss: verify clean, a missing script refused"
# the bare-metal example the unit reads: accepted by --check-config, with
# an explicit ip (a physical port needs one)
hc_make_keys "$dir/etc.keys"
sed "s|^keys = /etc/headcount/keys|keys = $dir/etc.keys|" "$src/deploy/headcount.conf" > "$dir/headcount.conf"
"$build/headcount" --config "$dir/headcount.conf" --check-config ||
	{ echo "FAIL: deploy/headcount.conf is refused by --check-config"; exit 1; }
grep -q '^ip = ' "$src/deploy/headcount.conf" ||
	{ echo "FAIL: deploy/headcount.conf names no ip"; exit 1; }
# the same file with an unknown key, run as the unit runs it: exit 2, the
# line named, before EAL starts (no EAL line printed)
sed 's/^\[appliance\]$/[appliance]\nno-such-key = 1/' "$dir/headcount.conf" > "$dir/bad.conf"
rc=0
out=$("$build/headcount" --config "$dir/bad.conf" 2>&1) || rc=$?
need bad_file_exit_status "$rc" -eq 2
grep -q "^$dir/bad.conf:[0-9]*: \[appliance\] no-such-key: unknown key" <<< "$out" ||
	{ echo "FAIL: a bad file said: $out"; exit 1; }
if grep -q '^EAL' <<< "$out"; then echo "FAIL: EAL started on a bad file: $out"; exit 1; fi
echo "  a bad file: exit 2 from headcount itself, before EAL: $out"
echo "  unit settings and deploy/headcount.conf (--check-config): present"

echo "readiness: NOTIFY_SOCKET in the namespace lab"
hc_lab_up "du$$"
hc_make_keys "$dir/keys"
sock=$dir/notify.sock
log=$dir/headcount.log
: > "$log"
"$here/hc_notify_listen.py" "$sock" "$dir/notify.out" "hclab$HC_TAG" "$log" &
LISTEN_PID=$!
hc_wait 30 "the notify socket exists" test -S "$sock"
# started directly (no tee): its log is in the file before it says READY
NOTIFY_SOCKET=$sock WATCHDOG_USEC=6000000 ip netns exec "$HC_NSA" "$build/headcount" --lcores "$(hc_appliance_lcores 1)" --no-huge \
	-m 1024 --no-pci --no-shconf --file-prefix "hclab$HC_TAG" --log-level=lib.eal:warning \
	--vdev "net_af_packet0,iface=$HC_VA,framecnt=8192" -- --ip $HC_APP_IP \
	--keys "$dir/keys" --state-file none > "$log" 2>&1 &
HC_PID=$!
hc_wait 120 "READY=1 arrives" grep -q '^READY=1' "$dir/notify.out" ||
	{ cat "$log"; exit 1; }
at=$(grep '^at_ready ' "$dir/notify.out")
echo "  first message: $(head -1 "$dir/notify.out")"
for k in telemetry log_port log_listening; do
	need "$k (at READY=1)" "$(tr ' ' '\n' <<< "$at" | sed -n "s/^$k=//p")" -eq 1
done
grep -q '^READY=1 | STATUS=listening on 198.18.0.1 udp 7100, 1 worker(s)$' "$dir/notify.out" ||
	{ echo "FAIL: READY=1 without the expected STATUS= line"; exit 1; }
# still running; nothing but READY and watchdog pings said so far
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }
kill -0 "$HC_PID" || { echo "FAIL: headcount exited"; exit 1; }
# pings_ge N, withheld_ge N: at least N such messages so far (hc_wait
# runs them again and again)
pings_ge() { [ "$(grep -cx 'WATCHDOG=1' "$dir/notify.out" || true)" -ge "$1" ]; }
withheld_ge() {
	[ "$(grep -cx 'STATUS=watchdog: worker 0 made no progress in 3.000 s: WATCHDOG=1 withheld' \
		"$dir/notify.out" || true)" -ge "$1" ]
}
hc_wait 30 "three WATCHDOG=1 while healthy" pings_ge 3 ||
	{ cat "$dir/notify.out"; exit 1; }
need messages_but_pings "$(grep -v '^at_ready ' "$dir/notify.out" | grep -vcx 'WATCHDOG=1')" -eq 1
echo "watchdog: the worker's thread stopped (the control core runs on)"
"$here/hc_freeze_thread.py" "$HC_PID" rte-worker-1 "$dir/thaw" > "$dir/freeze.out" 2>&1 &
FREEZE_PID=$!
hc_wait 30 "the worker thread is frozen" grep -q '^frozen ' "$dir/freeze.out" ||
	{ cat "$dir/freeze.out"; exit 1; }
hc_wait 30 "two pings withheld" withheld_ge 2 || { cat "$dir/notify.out"; exit 1; }
grep -q "systemd watchdog: worker 0 made no progress in 3.000 s: ping withheld" "$log" ||
	{ echo "FAIL: the log does not say the ping was withheld"; exit 1; }
kill -0 "$HC_PID" || { echo "FAIL: headcount exited"; exit 1; }
touch "$dir/thaw"
wait "$FREEZE_PID" || { cat "$dir/freeze.out"; echo "FAIL: the worker thread not thawed"; exit 1; }
FREEZE_PID=""
hc_wait 30 "the status line is back after the pings resume" \
	grep -qx 'STATUS=listening on 198.18.0.1 udp 7100, 1 worker(s)' "$dir/notify.out" ||
	{ cat "$dir/notify.out"; exit 1; }
kill -TERM "$HC_PID"
hc_wait 60 "STOPPING=1 arrives" grep -qx 'STOPPING=1' "$dir/notify.out"
rc=0
wait "$HC_PID" || rc=$?
HC_PID=""
need exit_status "$rc" -eq 0
wait "$LISTEN_PID" || true
LISTEN_PID=""
need last_message_is_stopping "$(tail -1 "$dir/notify.out" | grep -cx 'STOPPING=1')" -eq 1
# the whole sequence, one letter a message: R READY, W WATCHDOG=1,
# H withheld, S the status line back, X STOPPING=1, ? anything else
seq=$(grep -v '^at_ready ' "$dir/notify.out" | while IFS= read -r m; do
	case $m in
	"READY=1 | STATUS=listening on 198.18.0.1 udp 7100, 1 worker(s)") printf R ;;
	WATCHDOG=1) printf W ;;
	"STATUS=watchdog: worker 0 made no progress in 3.000 s: WATCHDOG=1 withheld") printf H ;;
	"STATUS=listening on 198.18.0.1 udp 7100, 1 worker(s)") printf S ;;
	STOPPING=1) printf X ;;
	*) printf '?' ;;
	esac
done)
echo "  messages: $seq"
grep -Eqx 'RW{3,}H{2,}WSW*X' <<< "$seq" ||
	{ echo "FAIL: the messages are not READY, pings, withheld ones, a ping and the status, pings, STOPPING"; cat "$dir/notify.out"; exit 1; }
echo "PASS: the unit verifies; READY=1 after the ports and telemetry; WATCHDOG=1 while every worker runs, withheld while one is stuck, back after; STOPPING=1 on SIGTERM"
