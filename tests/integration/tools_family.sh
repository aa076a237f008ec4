#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tools_family.sh - the programs feel like one family (docs/tools.md):
# every installed program (meson install into a staging root: bin/ and
# libexec/headcount/) answers --help (exit 0, a usage text naming it) and
# --version (exit 0, "PROG (headcount) VERSION", headcountctl "headcountctl
# VERSION", the same for headcount-exporter) with the project's version,
# and a bogus option with exit 2 and a message naming the option; bin/
# holds the appliance and the operator's two tools only (headcountctl,
# headcount-exporter), and every program has its man page.  One version:
# meson.build's project() version equals debian/changelog's, every
# program's, and the running appliance's (its startup log line and
# /headcount/version over telemetry).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-family.XXXXXX)
trap 'hc_lab_down; rm -rf "$out"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

# the one version, and debian/changelog's
version=$(grep "^project('headcount'" -A1 "$top/meson.build" | sed -n "s/.*version : '\([^']*\)'.*/\1/p")
[ -n "$version" ] || fail "no version in meson.build's project()"
deb=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
[ "$deb" = "$version" ] || fail "debian/changelog says $deb, meson.build $version"
echo "version $version (meson.build, debian/changelog)"

meson install -C "$build" --destdir "$out/root" --quiet > /dev/null
root=$out/root
bindir=$(find "$root" -type f -name headcountctl -path '*/bin/*' -printf '%h\n' | head -1)
[ -n "$bindir" ] || fail "headcountctl not installed into a bin/"
tooldir=$(find "$root" -type d -path '*/libexec/headcount' | head -1)
[ -n "$tooldir" ] || fail "no libexec/headcount/ installed"
mandir=$(find "$root" -type d -path '*/share/man/man1' | head -1)
# the staged programs find the staged libheadcount (install drops the rpath)
LD_LIBRARY_PATH=$(dirname "$(find "$root" -name 'libheadcount.so.*' | head -1)")
export LD_LIBRARY_PATH
[ -n "$mandir" ] || fail "no man pages installed"

# bin/ beside the appliance: the appliance and the operator's client only
bins=$(cd "$bindir" && ls | sort | tr '\n' ' ')
[ "$bins" = "headcount headcount-exporter headcountctl " ] ||
	fail "bin/ holds '$bins', expected 'headcount headcount-exporter headcountctl '"
tools=$(cd "$tooldir" && ls | sort | tr '\n' ' ')
[ "$tools" = "hc-agent hc-gateway hc-gwsim hc-scenario hc-send " ] ||
	fail "libexec/headcount/ holds '$tools'"

n=0
for prog in "$bindir"/* "$tooldir"/*; do
	name=$(basename "$prog")
	# --help: exit 0, a usage text that names the program
	"$prog" --help > "$out/help" 2> "$out/help.err" || fail "$name --help exited $?"
	grep -qi "^usage: .*$name" "$out/help" || fail "$name --help: no 'usage: ... $name' line"
	grep -q -- "--version" "$out/help" || fail "$name --help does not list --version"
	# --version: exit 0, the project's version
	v=$("$prog" --version 2>&1) || fail "$name --version exited $?"
	if [ "$name" = headcountctl ] || [ "$name" = headcount-exporter ]; then
		want="$name $version" # the Python tools (argparse's version line)
	else want="$name (headcount) $version"; fi
	[ "$v" = "$want" ] || fail "$name --version said '$v', expected '$want'"
	# a bogus option: exit 2, the message names it
	rc=0
	"$prog" --no-such-option-xyz > "$out/bogus" 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "$name --no-such-option-xyz exited $rc, expected 2"
	grep -q -- "--no-such-option-xyz" "$out/bogus" ||
		fail "$name's error does not name the option: $(head -3 "$out/bogus")"
	# its man page
	[ -f "$mandir/$name.1" ] || fail "no man page $name.1"
	grep -q "$name" "$mandir/$name.1" || fail "$name.1 does not name $name"
	echo "  $name: --help, --version ($version), bogus option (exit 2, named), man page"
	n=$((n + 1))
done
[ "$n" = 8 ] || fail "$n programs checked, expected 8"

# a bad value names its option and exits 2 (one per tool family member)
rc=0
"$tooldir/hc-gwsim" --users many > "$out/bad" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q -- "--users 'many'" "$out/bad" || fail "hc-gwsim --users many: exit $rc, $(cat "$out/bad")"
rc=0
"$tooldir/hc-send" --appliance 198.18.0.1:70000 x.pcap > "$out/bad" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q -- "--appliance '198.18.0.1:70000'" "$out/bad" ||
	fail "hc-send --appliance ...:70000: exit $rc, $(cat "$out/bad")"
echo "  bad values: named with their option, exit 2"
# the lab's plotters put a title and a file name into gnuplot's script
# inside double quotes: one that would end the string is refused (exit 2,
# nothing drawn, no command of the rest run)
printf 'room,users\n1,5\n' > "$out/rooms.csv"
printf 't_ms,events,joins,leaves,moves,rx_frames,users,rooms\n0,0,0,0,0,0,0,0\n' > "$out/rate.csv"
evil='x"; system("touch '"$out"'/ran"); "'
rc=0
"$here/../../tools/hc-hist.sh" --png "$out/h.png" --title "$evil" "$out/rooms.csv" > "$out/bad" 2>&1 ||
	rc=$?
[ "$rc" = 2 ] && grep -q "take no double quote" "$out/bad" || fail "hc-hist.sh --title with a quote: exit $rc"
rc=0
"$here/../../tools/hc-rate.sh" plot "$out/rate.csv" "$out/r.png" "$evil" > "$out/bad" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "take no double quote" "$out/bad" || fail "hc-rate.sh plot, a title with a quote: exit $rc"
[ ! -e "$out/ran" ] && [ ! -e "$out/h.png" ] && [ ! -e "$out/r.png" ] || fail "a plotter ran with a quoted title"
rc=0
"$here/../../tools/hc-hist.sh" --png "$out/h.png" --title 'x`touch '"$out"'/ran2`' "$out/rooms.csv" \
	> "$out/bad" 2>&1 || rc=$?
[ "$rc" = 2 ] && [ ! -e "$out/ran2" ] && [ ! -e "$out/h.png" ] ||
	fail "hc-hist.sh --title with a backquote: exit $rc"
echo "  hc-hist.sh, hc-rate.sh: a title that would end gnuplot's string, or run a command in it, refused (exit 2)"

# the running appliance says its version: the startup log line and telemetry
hc_lab_up "tf$$"
hc_appliance_start "$build" "$out" 1 --no-auth --stats-interval 0 > /dev/null
grep -q "headcount $version starting" "$out/headcount.log" ||
	fail "no 'headcount $version starting' line in the appliance's log"
hc_tel_kv /headcount/version > "$out/version.kv"
[ "$(kv version "$out/version.kv")" = "$version" ] || fail "/headcount/version: $(cat "$out/version.kv")"
[ "$(kv protocol "$out/version.kv")" = 3 ] || fail "/headcount/version protocol: $(cat "$out/version.kv")"
[ "$(kv config_file "$out/version.kv")" = 0 ] || fail "/headcount/version config_file: $(cat "$out/version.kv")"
# headcountctl reload of an appliance without --config: SIGHUP reloads
# its keys only (a --no-auth one: a failure to reload none), said at once,
# not after --wait (600 s here; 60 s is the bound)
rc=0
timeout 60 "$bindir/headcountctl" --prefix "hclab$HC_TAG" reload --wait 600 > "$out/reload.out" \
	2> "$out/reload.err" || rc=$?
[ "$rc" = 1 ] && grep -q "has no config file (started without --config): SIGHUP reloaded its keys only" \
	"$out/reload.err" || fail "headcountctl reload without --config: exit $rc, $(cat "$out/reload.err")"
echo "  headcountctl reload of an appliance without --config: exit 1 once its keys were reloaded, said so"
# the gateway tools' --max-rooms (the appliance's): a JOIN into a room
# from it up is refused by the session (hc_gw_join EINVAL), never sent
rc=0
ip netns exec "$HC_NSG" timeout 60 "$tooldir/hc-gateway" --appliance $HC_APP_IP --no-auth \
	--seed-rooms 3,3 --users 6 --rounds 0 --max-rooms 1002 --timeout 30 > "$out/maxrooms" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "hc_gw_join: Invalid argument" "$out/maxrooms" ||
	fail "hc-gateway --max-rooms 1002 into room 1002: exit $rc, $(cat "$out/maxrooms")"
ip netns exec "$HC_NSG" timeout 60 "$tooldir/hc-gateway" --appliance $HC_APP_IP --no-auth \
	--gateway-id 2 --seed-rooms 3,3 --users 6 --rounds 0 --max-rooms 1003 --timeout 30 \
	> "$out/maxrooms" 2>&1 || fail "hc-gateway --max-rooms 1003: $(cat "$out/maxrooms")"
echo "  --max-rooms: room 1002 refused at 1002, taken at 1003"
hc_appliance_stop || fail "headcount exited with an error"
echo "PASS: $n programs with --help, --version $version and exit 2 on a bogus option; man pages; the appliance logs and reports $version"
