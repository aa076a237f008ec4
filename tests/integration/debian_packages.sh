#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# debian_packages.sh - the Debian packages as a user gets them: built with
# dpkg-buildpackage -us -uc -b from a clean copy of the tree (the files git
# knows, tracked or not ignored; no build directories) in a temporary
# directory, their contents checked (headers under usr/include/headcount/,
# no test tool in usr/bin, every program's man page, the library's SONAME
# and versions), installed with dpkg -i, used (headcount --version,
# headcountctl --version, a tool's --version, a tiny program compiled
# against libheadcount-dev with pkg-config and run), then purged: the
# machine is left as it was (only what this test installed is removed).
# Needs root (dpkg -i); the package build takes a few minutes on 2 CPUs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$(mktemp -d /tmp/hc-deb.XXXXXX)
pkgs=(headcount libheadcount4 libheadcount-dev headcount-tools)
installed_here=()
cleanup() {
	if [ ${#installed_here[@]} -gt 0 ]; then
		dpkg --purge "${installed_here[@]}" > "$out/purge.log" 2>&1 ||
			{ echo "WARNING: purge failed:"; cat "$out/purge.log"; }
	fi
	rm -rf "$out"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# the packages are built from the source, not from HC_BUILD: the release
# pass of tools/run-tests.sh covers them; its sanitizer pass skips (77)
if [ -n "${HC_BUILD:-}" ] && python3 -c 'import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
sys.exit(0 if o.get("b_sanitize", "none") != "none" else 1)' \
	"$HC_BUILD/meson-info/intro-buildoptions.json" 2> /dev/null; then
	echo "SKIP: a sanitizer build; the packages are built (from the source) in the release pass"
	exit 77
fi
[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
for p in "${pkgs[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		fail "$p is installed already: this test installs and purges its own (remove it first)"
	fi
done
version=$(grep "^project('headcount'" -A1 "$top/meson.build" | sed -n "s/.*version : '\([^']*\)'.*/\1/p")
libversion=$(sed -n "s/^libheadcount_version = '\([^']*\)'.*/\1/p" "$top/meson.build")
[ -n "$version" ] && [ -n "$libversion" ] || fail "no versions in meson.build"
soname_major=${libversion%%.*}
api=$(sed -n 's/^#define HC_GW_API_VERSION \([0-9]*\).*/\1/p' "$top/gateway/headcount.h")

# a clean copy of the tree: what git knows (not ignored), else the tree
# without build directories
src=$out/headcount-$version
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$top" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$src" -xf -
fi
[ ! -e "$src/build" ] || fail "the copy holds a build directory"

(cd "$src" && dpkg-checkbuilddeps) || fail "Build-Depends not satisfied (tools/install-deps.sh installs them)"
start=$(date +%s)
(cd "$src" && dpkg-buildpackage -us -uc -b > "$out/build.log" 2>&1) ||
	{ tail -40 "$out/build.log"; fail "dpkg-buildpackage"; }
echo "dpkg-buildpackage -us -uc -b: $(($(date +%s) - start)) s"
arch=$(dpkg --print-architecture)
declare -A deb
for p in "${pkgs[@]}"; do
	deb[$p]=$out/${p}_${version}_$arch.deb
	[ -f "${deb[$p]}" ] || fail "no ${p}_${version}_$arch.deb built (got: $(cd "$out" && ls ./*.deb))"
	dpkg-deb -c "${deb[$p]}" | awk '{ print $6 }' | sed 's|^\./||' > "$out/$p.files"
	dpkg-deb -x "${deb[$p]}" "$out/x"
done
has() { grep -qx "$2" "$out/$1.files" || fail "$1 lacks $2"; }

# an upgrade leaves the running appliance alone (its restart is the
# operator's, in a window: a restart is a new incarnation and a hold,
# docs/deploy.md section 10): no maintainer script starts, stops or
# restarts a unit but under a removal's test (debhelper's preinst stop on
# upgrade, what --no-start alone gave, left the appliance down), and a
# removal stops the appliance (prerm)
dpkg-deb -e "${deb[headcount]}" "$out/ctl"
for f in preinst postinst prerm postrm; do
	[ -f "$out/ctl/$f" ] || continue
	awk '/^if \[ "\$1" = "?remove"? \]/ { inside = 1 } /^fi/ { inside = 0 }
		/deb-systemd-invoke/ && !inside { print FILENAME ":" FNR ": " $0; bad = 1 }
		END { exit bad }' "$out/ctl/$f" ||
		fail "headcount's $f touches a unit outside a removal"
done
[ -f "$out/ctl/prerm" ] || fail "headcount has no prerm (a removal must stop the appliance)"
grep -q 'deb-systemd-invoke stop.* headcount\.service' "$out/ctl/prerm" ||
	fail "headcount's prerm does not stop headcount.service"
hasre() { grep -qE "^$2\$" "$out/$1.files" || fail "$1 has nothing matching $2"; }

# headcount: the appliance and headcountctl in usr/bin, their man pages
has headcount usr/bin/headcount
has headcount usr/bin/headcountctl
has headcount usr/share/man/man1/headcount.1.gz
has headcount usr/share/man/man1/headcountctl.1.gz
has headcount usr/bin/headcount-exporter
has headcount usr/share/man/man1/headcount-exporter.1.gz
has headcount usr/share/headcount/grafana/headcount.json
has headcount usr/share/headcount/hc-ha-notify.py
has headcount usr/share/headcount/keepalived/keepalived.conf
has headcount usr/share/headcount/hc-state-sync.py
has headcount usr/share/headcount/keepalived/rsyncd-headcount.conf
# the HA notify reader's log rotated (deploy/keepalived/headcount-ha.logrotate):
# installed, and logrotate reads it as a rule for that log, with no error
has headcount etc/logrotate.d/headcount
lr=$(logrotate -d -s "$out/logrotate.state" "$out/x/etc/logrotate.d/headcount" 2>&1) ||
	fail "logrotate -d: $lr"
grep -q "/var/log/headcount-ha.log" <<< "$lr" || fail "logrotate -d names no HA log: $lr"
! grep -qi "error" <<< "$lr" || fail "logrotate -d: $lr"
hasre headcount "(usr/)?lib/systemd/system/headcount\.service"
hasre headcount "(usr/)?lib/systemd/system/headcount-state-sync\.service"
hasre headcount "(usr/)?lib/systemd/system/headcount-exporter\.service"
has headcount usr/share/doc/headcount/scaling.md
has headcount usr/share/doc/headcount/examples/headcount.conf
has headcount usr/share/doc/headcount/deploy.md
# headcount-tools: in usr/libexec/headcount/, each with its man page
for t in hc-send hc-gateway hc-gwsim hc-agent hc-scenario; do
	has headcount-tools "usr/libexec/headcount/$t"
	has headcount-tools "usr/share/man/man1/$t.1.gz"
done
# no test tool in usr/bin, in any package
bins=$(cat "$out"/*.files | grep -E '^usr/bin/.+' | sort | tr '\n' ' ')
[ "$bins" = "usr/bin/headcount usr/bin/headcount-exporter usr/bin/headcountctl " ] || fail "usr/bin holds: $bins"
# libheadcount-dev: headers under usr/include/headcount/, none at the top
has libheadcount-dev usr/include/headcount/headcount.h
has libheadcount-dev usr/include/headcount/hc_proto.h
! grep -qE '^usr/include/[^/]+$' "$out/libheadcount-dev.files" || fail "a header at the top of usr/include"
hasre libheadcount-dev "usr/lib/[^/]+/libheadcount\.so"
hasre libheadcount-dev "usr/lib/[^/]+/pkgconfig/libheadcount\.pc"
# libheadcount4: the library, its SONAME the package's name
hasre libheadcount4 "usr/lib/[^/]+/libheadcount\.so\.$libversion"
hasre libheadcount4 "usr/lib/[^/]+/libheadcount\.so\.$soname_major"
lib=$(find "$out/x" -name "libheadcount.so.$libversion")
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libheadcount.so.$soname_major" ] || fail "SONAME $soname, package libheadcount$soname_major"
pc=$(find "$out/x" -name libheadcount.pc)
grep -qx "Version: $libversion" "$pc" || fail "libheadcount.pc: $(grep Version "$pc")"
# DPDK's drivers are plugins EAL loads, which shlibs does not see: the
# appliance's package depends on the mempool driver and the two buses, of
# the DPDK ABI it links (librte_eal.so.ABI)
abi=$(objdump -p "$out/x/usr/bin/headcount" | sed -n 's/^ *NEEDED *librte_eal\.so\.\([0-9]*\).*/\1/p')
[ -n "$abi" ] || fail "usr/bin/headcount links no librte_eal.so.N"
depends=$(dpkg-deb -f "${deb[headcount]}" Depends)
for d in librte-mempool-ring$abi librte-bus-pci$abi librte-bus-vdev$abi; do
	grep -qE "(^|, )$d(,|$| )" <<< "$depends" || fail "headcount does not depend on $d: $depends"
	# and the package holds the plugin EAL loads
	dpkg -L "$d" 2>/dev/null | grep -q "/dpdk/pmds-$abi\.[0-9]*/." || fail "$d holds no plugin in pmds-$abi.*"
done
echo "contents: usr/bin headcount, headcountctl, headcount-exporter; 5 tools in usr/libexec/headcount; 8 man pages;"
echo "  headers in usr/include/headcount/; $soname ($libversion), .pc $libversion;"
echo "  headcount depends on DPDK $abi's mempool driver and buses (plugins)"

# install (their dependencies are the build's: present here)
dpkg -i "${deb[@]}" > "$out/install.log" 2>&1 || { cat "$out/install.log"; fail "dpkg -i"; }
installed_here=("${pkgs[@]}")
v=$(headcount --version) && [ "$v" = "headcount (headcount) $version" ] || fail "headcount --version: $v"
v=$(headcountctl --version) && [ "$v" = "headcountctl $version" ] || fail "headcountctl --version: $v"
v=$(/usr/libexec/headcount/hc-send --version) && [ "$v" = "hc-send (headcount) $version" ] ||
	fail "hc-send --version: $v"
man -w hc-gwsim > /dev/null 2>&1 || [ -f /usr/share/man/man1/hc-gwsim.1.gz ] || fail "no hc-gwsim man page"

# a tiny program against libheadcount-dev, through pkg-config
cat > "$out/tiny.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <headcount.h>
int main(void)
{
	struct hc_gw_config cfg;
	hc_gw_config_init(&cfg);
	printf("%s %d\n", hc_gw_version(), hc_gw_api_version());
	return cfg.size == sizeof(cfg) ? 0 : 1;
}
EOF
flags=$(pkg-config --cflags --libs libheadcount)
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$out/tiny" "$out/tiny.c" $flags || fail "cc tiny.c $flags"
got=$("$out/tiny") || fail "tiny exited $?"
[ "$got" = "$libversion $api" ] || fail "tiny says '$got', expected '$libversion $api'"
echo "installed: headcount, headcountctl and hc-send say $version; a program built with"
echo "  pkg-config ($flags) runs on libheadcount $got"

dpkg --purge "${pkgs[@]}" > "$out/purge.log" 2>&1 || { cat "$out/purge.log"; fail "dpkg --purge"; }
installed_here=()
for p in "${pkgs[@]}"; do
	! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || fail "$p still installed"
done
[ ! -e /usr/libexec/headcount ] || fail "/usr/libexec/headcount left behind"
echo "PASS: four packages built from a clean copy, their contents right, installed, used and purged"
