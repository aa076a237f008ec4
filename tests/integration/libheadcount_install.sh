#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libheadcount_install.sh - the gateway library as a user gets it: installed
# (meson install into a staging root), found by pkg-config, the documented
# example compiled and linked against the installed header and library
# alone (no DPDK), then run against a real appliance in the namespace lab:
# ten users placed, joined, and left cleanly (SHUTDOWN), so the appliance
# ends with exactly 10 joins, 10 leaves and no users.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${HC_BUILD:?}
top=$(cd "$here/../.." && pwd)
. "$top/tests/common/lib.sh"
out=$(mktemp -d /tmp/hc-lib.XXXXXX)
trap 'hc_lab_down; rm -rf "$out"' EXIT

meson install -C "$build" --destdir "$out/root" --quiet > /dev/null
pc=$(dirname "$(find "$out/root" -name libheadcount.pc | head -1)")
[ -n "$pc" ] || { echo "FAIL: libheadcount.pc not installed"; exit 1; }
# the headers under include/headcount/, none at the top of include/
[ -n "$(find "$out/root" -path '*/include/headcount/headcount.h')" ] ||
	{ echo "FAIL: headcount.h not installed under include/headcount/"; exit 1; }
find "$out/root" -path '*/include/*.h' ! -path '*/include/*/*' | grep . &&
	{ echo "FAIL: headers at the top of the include directory"; exit 1; }
flags=$(PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$out/root pkg-config --cflags --libs libheadcount)
echo "pkg-config: $flags"
case "$flags" in *include/headcount*) ;; *) echo "FAIL: Cflags lack include/headcount"; exit 1 ;; esac
# the .pc version is the library's (libheadcount.so.X.Y.Z)
pcver=$(PKG_CONFIG_PATH=$pc pkg-config --modversion libheadcount)
[ -n "$(find "$out/root" -name "libheadcount.so.$pcver")" ] ||
	{ echo "FAIL: .pc version $pcver is not the library's ($(find "$out/root" -name 'libheadcount.so.*.*'))"; exit 1; }
case "$flags" in *dpdk*|*rte_*) echo "FAIL: the library should not need DPDK"; exit 1 ;; esac
libdir=$(dirname "$(find "$out/root" -name 'libheadcount.so*' | head -1)")
# a sanitized build's library needs a sanitized program around it
san=""
# (grep on the whole output: `| grep -q` under pipefail fails when grep
# exits before the writer is done)
if grep -q libasan <<< "$(ldd "$(find "$libdir" -name 'libheadcount.so*' | head -1)")"; then
	san="-fsanitize=address,undefined"
fi
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror $san -o "$out/example" "$top/gateway/hc_gw_example.c" $flags

hc_lab_up $$
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --dump-stats "$out/stats.kv" > /dev/null
# authenticated: gateway 5's key from the appliance's keys file
key5=$(awk '$1 == 5 && $2 == 0 { print $3 }' "$HC_KEYS")
ip netns exec "$HC_NSG" env LD_LIBRARY_PATH="$libdir" timeout 30 "$out/example" $HC_APP_IP 5 "$key5" |
	tee "$out/example.log"
grep -q "^10 users placed" "$out/example.log" || { echo "FAIL: example output"; exit 1; }
# the example's SHUTDOWN is the last thing it sends: wait until it is applied
hc_wait 120 "the appliance applied the example's 10 leaves" \
	hc_tel_has /headcount/stats joins=10 leaves=10 users=0
hc_appliance_stop
for kv in joins=10 leaves=10 users=0 places=10; do
	grep -qx "$kv" "$out/stats.kv" || { echo "FAIL: expected $kv, got $(grep "^${kv%%=*}=" "$out/stats.kv")"; exit 1; }
done
echo "PASS: installed libheadcount found by pkg-config; the example placed, joined and left 10 users exactly"
