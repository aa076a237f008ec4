#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# config.sh - the one config file end to end (docs/configuration.md):
#  1. --check-config: the example etc/headcount.conf passes (exit 0,
#     "config OK: FILE"); bad files fail with exit 2 and their exact
#     "file:line: [section] key: reason" (unknown key, JSON, no pool 0,
#     a state-key file open to group or not 64 hex digits), before EAL
#     (no telemetry socket, no port);
#  2. the appliance starts in the lab from the file alone (`headcount
#     --config FILE`, EAL from [eal]); gateway 1 seeds rooms of 30, 30, 12
#     users (pool 0: min 5, target 30, max 40: nothing to balance);
#  3. a good edit + SIGHUP: pool 0's max 40 -> 25 (target 20), a pool 7
#     added, gateway 2's key added in a keys file at a new path,
#     max-users changed (restart only):
#     config_reloads=1; the users stay; the control core balances the two
#     rooms above the new max down to it with the fewest moves (10): rooms
#     exactly 25, 25, 22; gateway 2, refused before, now places 20 users in
#     pool 7 (fill max: two rooms of 10); the log says max-users needs a
#     restart; the state key rotated in the same reload, in a file at a
#     new path too (a new key first, the old one after it): the state
#     file, written under the old key before, is written under the new one
#     at once; both new paths followed, neither a restart's;
#  4. a bad edit (pool 0 with 2 * min > max) + SIGHUP: config_reload_errors=1,
#     config_reloads still 1, the room table and pool 0's policy unchanged;
#     then a valid file without pool 7, which holds users: refused too
#     (config_reload_errors=2), pool 7 and the rooms kept; then a good
#     policy edit beside a state key open to the group: refused whole
#     (config_reload_errors=3, --check-config refuses it too), pool 0's
#     max kept;
#  5. stop: the final tables are consistent, the seat book equals them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
top=$(cd "$here/../.." && pwd)
out=$(mktemp -d /tmp/hc-config.XXXXXX)
trap 'hc_lab_down; rm -rf "$out"' EXIT

# --- 1. --check-config -------------------------------------------------------
check() { # check WANT_RC WANT_LINE FILE: exit status and the one line printed
	local rc=0 got
	got=$("$build/headcount" --config "$3" --check-config 2>&1) || rc=$?
	[ "$rc" = "$1" ] || { echo "FAIL: --check-config $3: exit $rc, expected $1: $got"; exit 1; }
	[ "$got" = "$2" ] || { echo "FAIL: --check-config $3 said '$got', expected '$2'"; exit 1; }
	echo "  --check-config $(basename "$3"): exit $rc: $got"
}
check 0 "config OK: $top/etc/headcount.conf" "$top/etc/headcount.conf"
printf '[appliance]\nno-auth = yes\nmax-user = 5000\n' > "$out/typo.conf"
check 2 "$out/typo.conf:3: [appliance] max-user: unknown key (see docs/configuration.md)" \
	"$out/typo.conf"
printf '{ "appliance": { "no-auth": true } }\n' > "$out/json.conf"
check 2 "$out/json.conf:1: this looks like JSON; the config file is INI: [section] and key = value lines (docs/configuration.md)" \
	"$out/json.conf"
printf '[appliance]\nno-auth = yes\n\n[pool.lobby]\nid = 3\nmin = 5\nmax = 20\n' > "$out/nopool0.conf"
check 2 "$out/nopool0.conf:4: [pool.lobby] id: no pool has id 0, the default pool (PLACEs naming no pool go there)" \
	"$out/nopool0.conf"
# the HA pair's state key: checked at start, as the keys file is
( umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$out/state.key" )
printf '[appliance]\nno-auth = yes\nstate-key = %s\n' "$out/state.key" > "$out/statekey.conf"
check 0 "config OK: $out/statekey.conf" "$out/statekey.conf"
chmod 640 "$out/state.key"
check 2 "$out/statekey.conf:3: [appliance] state-key: $out/state.key: mode 0640 lets group or others at the keys; chmod 600 it" \
	"$out/statekey.conf"
rm "$out/state.key"
( umask 077; echo 0011 > "$out/state.key" )
check 2 "$out/statekey.conf:3: [appliance] state-key: $out/state.key:1: want one key of 64 hex digits (e.g. from 'od -An -tx1 -N32 /dev/urandom | tr -d \" \\n\"')" \
	"$out/statekey.conf"

# state_file_mac KEYFILE: the state file ends in its MAC under KEYFILE's
# first key (HMAC-SHA-512 cut to 256 bits: libsodium's crypto_auth)
state_file_mac() {
	python3 - "$out/gateways" "$1" <<'PY'
import hmac, sys
data = open(sys.argv[1], "rb").read()
key = bytes.fromhex(open(sys.argv[2]).read().split()[0])
body, _, last = data.rstrip(b"\n").rpartition(b"\n")
want = b"#mac hmac-sha512-256 " + hmac.new(key, body + b"\n", "sha512").hexdigest()[:64].encode()
sys.exit(0 if last == want else 1)
PY
}

# --- 2. start from the file alone ------------------------------------------
hc_lab_up $$
hc_make_keys "$out/keys" 1              # gateway 1 only, for now
( umask 077; od -An -v -tx1 -N 16 /dev/urandom | tr -d ' \n' |
	awk '{ printf "2 0 %s\n", $0 }' > "$out/gw2.keys" )
( umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$out/state.key" )
lcores=$(hc_appliance_lcores 1) # the CPUs we may run on (tools/hc-netns.sh)
conf=$out/headcount.conf
write_conf() { # write_conf MAX TARGET EXTRA_POOLS MAX_USERS
	cat > "$conf" <<EOF
; the config test's appliance (tests/integration/config.sh)
[eal]
lcores = $lcores
memory = 1024
no-huge = yes
no-pci = yes
no-shconf = yes
file-prefix = hclab$HC_TAG
log-level = lib.eal:warning
vdev = net_af_packet0,iface=$HC_VA,qpairs=1,framecnt=8192

[appliance]
ip = $HC_APP_IP
keys = $keys_file
state-file = $out/gateways
stats-interval = 0
gateway-timeout-ms = 0       ; hc-gateway exits without SHUTDOWN
max-users = $4
dump-rooms = $out/rooms.csv
dump-stats = $out/stats.kv
state-key = $state_key_file

[control]
balance_interval_ms = 300
cooldown_ms = 30000
directive_timeout_ms = 3000 ; (a directive resent only after a busy host's longest pause)

[pool.default]
id = 0
min = 5
max = $1
target = $2
$3
EOF
}
keys_file=$out/keys state_key_file=$out/state.key
write_conf 40 30 "" 1048576
"$build/headcount" --config "$conf" --check-config > /dev/null
ip netns exec "$HC_NSA" "$build/headcount" --config "$conf" > >(tee "$out/headcount.log") 2>&1 &
HC_PID=$!
hc_wait 120 "headcount (started from its config file) answers telemetry" hc_started
kill -0 "$HC_PID" || { echo "FAIL: headcount exited"; exit 1; }
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }

ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --appliance $HC_APP_IP --keys "$out/keys" \
	--gateway-id 1 --users 72 --seed-rooms 30,30,12 --max 40 --settle 600 \
	--settle-until "$out/done" --truth "$out/truth1.csv" --result "$out/gateway1.kv" \
	--timeout 700 > "$out/gateway1.log" 2>&1 &
gateway1=$!
printf 'room,users\n1001,30\n1002,30\n1003,12\n' > "$out/seeded.csv"
hc_wait 120 "the appliance holds the seeded rooms" hc_rooms_equal "$out/seeded.csv"
# (telemetry answers slowly on a busy host: every check below waits for
# its condition, bounded; a wrong value never becomes right by waiting)
hc_wait 60 "users=72, no reload yet" \
	hc_tel_has /headcount/stats users=72 config_reloads=0 config_reload_errors=0
# gateway 2 has no key yet: its datagrams are dropped (and it gives up)
rc=0
ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --appliance $HC_APP_IP --keys "$out/gw2.keys" \
	--gateway-id 2 --pool 7 --users 1 --max 10 --timeout 3 > "$out/gateway2-before.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || { echo "FAIL: gateway 2 was served without a key"; exit 1; }
no_key_drops() {
	local v
	v=$(hc_tel_kv /headcount/stats | sed -n 's/^drop_auth_no_key=//p')
	[ "${v:-0}" -gt 0 ]
}
hc_wait 60 "gateway 2's datagrams dropped for no key" no_key_drops

# --- 3. a good edit + SIGHUP -------------------------------------------------
# gateway 2's key added in a keys file at a new path (the old file stays
# as it was: only the new one can serve gateway 2)
( umask 077; cat "$out/keys" "$out/gw2.keys" > "$out/keys.2" )
# the state key rotated, step 2 of docs/scaling.md's three: a new key
# first (it signs), the old one after it (still believed), at a new path
hc_wait 30 "the state file is written under the first key" state_file_mac "$out/state.key"
( umask 077; { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; echo; cat "$out/state.key"; } \
	> "$out/state2.key" )
keys_file=$out/keys.2 state_key_file=$out/state2.key
write_conf 25 20 $'[pool.duel]\nid = 7\nmin = 2\nmax = 10\nfill = max' 2097152
# headcountctl reload (the unit's ExecReload=): SIGHUP to the holder of
# the prefix's lock, and the outcome waited for: applied, exit 0
ctl="$build/tools/headcountctl"
got=$("$ctl" --prefix "hclab$HC_TAG" reload --wait 60) ||
	{ echo "FAIL: headcountctl reload of a good file exited $?"; exit 1; }
[ "$got" = $'reloaded=1\nconfig_reloads=1\nconfig_reload_errors=0' ] ||
	{ echo "FAIL: headcountctl reload said: $got"; exit 1; }
echo "  headcountctl reload: applied, exit 0 (the appliance's pid from its lock)"
hc_tel_has /headcount/version config_file=1 || { echo "FAIL: /headcount/version config_file"; exit 1; }
hc_wait 30 "SIGHUP reloaded the config" hc_tel_has /headcount/stats config_reloads=1
hc_wait 60 "the users stay, no reload error" \
	hc_tel_has /headcount/stats config_reload_errors=0 users=72
hc_wait 60 "pool 0's new policy" hc_tel_has /headcount/pool,0 min=5 target=20 max=25
hc_wait 60 "pool 7 added" hc_tel_has /headcount/pool,7 min=2 target=5 max=10
# (the log reaches its file through tee, which may lag the counters)
hc_wait 30 "the restart-only change reported" \
	grep -q "$conf:18: \[appliance\] max-users: changed, needs a restart (ignored)" "$out/headcount.log" ||
	{ echo "FAIL: the restart-only change was not reported"; exit 1; }
hc_wait 30 "the state key reloaded" \
	grep -q "state key reloaded from $out/state2.key: 2 keys, while it is rotated (the first signs)" \
	"$out/headcount.log" || { echo "FAIL: the state key was not reloaded from its new path"; exit 1; }
hc_wait 30 "the keys reloaded" grep -q "keys reloaded from $out/keys.2: 2 gateways" "$out/headcount.log" ||
	{ echo "FAIL: the keys were not reloaded from their new path"; exit 1; }
! grep -q "\] \(keys\|state-key\): changed, needs a restart" "$out/headcount.log" ||
	{ echo "FAIL: a key file's new path was taken for a restart's"; exit 1; }
hc_wait 30 "the state file is written under the new key" state_file_mac "$out/state2.key"
echo "  the state key rotated: the state file is written under the new key at once"
echo "  both key files followed to their new paths"
# rooms above the new max balanced down to it: 10 moves, the fewest
hc_wait 120 "the control core counts 10 directives done" \
	hc_tel_has /headcount/control directives_done=10
printf 'room,users\n1001,25\n1002,25\n1003,22\n' > "$out/balanced.csv"
hc_wait 60 "rooms 25, 25, 22" hc_rooms_equal "$out/balanced.csv"
echo "  after the reload: rooms 25, 25, 22 (10 moves), users 72"
# gateway 2 now has a key: its 20 users are placed in the new pool 7
ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --appliance $HC_APP_IP --keys "$out/gw2.keys" \
	--gateway-id 2 --pool 7 --users 20 --max 10 --truth "$out/truth2.csv" \
	--result "$out/gateway2.kv" --timeout 120 > "$out/gateway2.log" 2>&1 ||
	{ cat "$out/gateway2.log"; echo "FAIL: gateway 2 after its key was added"; exit 1; }
need "gateway 2's users placed" "$(kv users "$out/gateway2.kv")" -eq 20
hc_wait 60 "pool 7's 20 users" hc_tel_has /headcount/pool,7 users=20
hc_wait 60 "92 users" hc_tel_has /headcount/stats users=92
{ cat "$out/balanced.csv"; tail -n +2 "$out/truth2.csv"; } | { read -r h; echo "$h"; sort -t, -k1,1n; } \
	> "$out/expect.csv"
hc_wait 30 "the room table holds both gateways' rooms" hc_rooms_equal "$out/expect.csv"

# --- 4. a bad edit + SIGHUP: refused whole ----------------------------------
# reload_refused RC N WHAT MESSAGE: --check-config of the file exits RC, and
# a SIGHUP is refused (config_reload_errors=N) with MESSAGE in the log
reload_refused() {
	local rc=0
	"$build/headcount" --config "$conf" --check-config > /dev/null 2>&1 || rc=$?
	need "--check-config of $3" "$rc" -eq "$1"
	# headcountctl reload: refused, exit 1, the counters said
	rc=0
	"$ctl" --prefix "hclab$HC_TAG" reload --pid "$HC_PID" --wait 60 > "$out/reload.out" \
		2> "$out/reload.err" || rc=$?
	need "headcountctl reload's exit status for $3" "$rc" -eq 1
	grep -qx "reloaded=0" "$out/reload.out" && grep -qx "config_reload_errors=$2" "$out/reload.out" &&
		grep -q "refused the config file, the running config stays" "$out/reload.err" ||
		{ cat "$out/reload.out" "$out/reload.err"; echo "FAIL: headcountctl reload of $3"; exit 1; }
	hc_wait 30 "$3 refused" hc_tel_has /headcount/stats config_reload_errors="$2"
	hc_wait 30 "$3's refusal logged" \
		grep -qF "config reload refused, the running config stays: $4" "$out/headcount.log" ||
		{ echo "FAIL: $3's refusal message"; exit 1; }
}
snap() { "$HC_TEL" "hclab$HC_TAG" rooms > "$out/before-bad.csv"; }
hc_wait 60 "the room table read" snap
write_conf 8 4 $'[pool.duel]\nid = 7\nmin = 2\nmax = 10\nfill = max' 1048576
reload_refused 2 1 "the bad edit" "$conf:32: [pool.default] target: pool 0 (default): need 1 <= min <= target <= max <= 65535 and 2 * min <= max (got min 5, target 4, max 8)"
hc_wait 60 "one reload applied, 92 users" hc_tel_has /headcount/stats config_reloads=1 users=92
hc_wait 60 "pool 0's policy unchanged" hc_tel_has /headcount/pool,0 min=5 target=20 max=25
sleep 1 # a balance tick or three under the running policy: nothing to move
hc_wait 60 "the room table unchanged" hc_rooms_equal "$out/before-bad.csv"
hc_wait 60 "no move after the bad edit" hc_tel_has /headcount/control directives_done=10
echo "  bad edit: refused whole, rooms and policy unchanged"
# a valid file that removes pool 7 while it holds users: --check-config
# accepts it (the file alone is fine), the running appliance refuses it
write_conf 25 20 "" 1048576
reload_refused 0 2 "the pool removal" "pool 7 (duel) is gone from the file but holds 20 users and 0 reserved seats in 2 rooms: a pool is removed only once it is empty"
hc_wait 60 "pool 7 kept" hc_tel_has /headcount/pool,7 users=20 rooms=2 max=10
hc_wait 60 "the room table unchanged" hc_rooms_equal "$out/before-bad.csv"
echo "  pool removal while it holds users: refused, pool 7 kept"
# a good policy edit beside a state key that --check-config refuses (open
# to the group): refused whole, the policy and the key in use kept
cp "$out/state2.key" "$out/state3.key" && chmod 640 "$out/state3.key"
state_key_file=$out/state3.key
write_conf 22 20 $'[pool.duel]\nid = 7\nmin = 2\nmax = 10\nfill = max' 2097152
reload_refused 2 3 "a group-readable state key" "$out/state3.key: mode 0640 lets group or others at the keys; chmod 600 it"
hc_wait 60 "pool 0's policy unchanged, one reload applied" hc_tel_has /headcount/pool,0 min=5 target=20 max=25
hc_wait 30 "one reload applied" hc_tel_has /headcount/stats config_reloads=1
hc_wait 60 "the room table unchanged" hc_rooms_equal "$out/before-bad.csv"
state_key_file=$out/state2.key
echo "  a state key --check-config refuses: the whole reload refused, pool 0's max kept"

# --- 5. stop ------------------------------------------------------------------
touch "$out/done"
wait "$gateway1" || { cat "$out/gateway1.log"; echo "FAIL: hc-gateway 1"; exit 1; }
hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
compare_rooms "$out/expect.csv" "$out/rooms.csv"
printf 'ctl_config_reloads=1\nctl_config_reload_errors=3\nctl_keys_reloads=1\nctl_state_key_reloads=1\nctl_state_key_reload_failures=0\nusers=92\nseat_book_mismatches=0\ntables_consistent=1\n' \
	> "$out/final.expect"
compare_kv "$out/final.expect" "$out/stats.kv" || { echo "FAIL: final counters"; exit 1; }
echo "PASS: one config file: checked, started from, reloaded (policy, pool, key) without losing state, a bad edit refused"
