#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run-chat-demo.sh - the chat demo (docs/chat.md): installs what it needs
# (tools/install-deps.sh, the build, the npm packages from the lock file),
# brings up the namespace lab with headcount on af_packet, starts the
# reference chat gateway (examples/chat) in the gateway namespace and a
# proxy on the host, and prints the URL to open.  Ctrl-C stops it all.
#   run-chat-demo.sh [--port N (8080)] [--min N --max N --target N]
#                    [--balance-ms N (2000)] [--no-install]
# The pool is small (min 3, target 6, max 8 by default) so that a few
# browser tabs fill rooms, and closing some makes the balancer merge them.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
port=8080 min=3 max=8 target=6 balance=2000 install=1
while [ $# -gt 0 ]; do
	case $1 in
	--port) port=$2; shift 2 ;;
	--min) min=$2; shift 2 ;;
	--max) max=$2; shift 2 ;;
	--target) target=$2; shift 2 ;;
	--balance-ms) balance=$2; shift 2 ;;
	--no-install) install=0; shift ;;
	-h|--help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-chat-demo: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "run-chat-demo: run as root (network namespaces)" >&2; exit 2; }
if [ "$install" = 1 ]; then
	"$top/tools/install-deps.sh"
	[ -x "$top/build/headcount" ] || "$top/tools/build.sh"
fi
. "$top/tests/common/lib.sh"
. "$top/examples/chat/chat-lab.sh"
chat_npm_ci
out=$(mktemp -d /tmp/hc-chat-demo.XXXXXX)
cleanup() {
	[ -z "${HC_PROXY_PID:-}" ] || kill "$HC_PROXY_PID" 2>/dev/null || true
	if [ -n "${HC_CHAT_PID:-}" ]; then
		kill -TERM "$HC_CHAT_PID" 2>/dev/null || true
		wait "$HC_CHAT_PID" 2>/dev/null || true
	fi
	hc_lab_down
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 0' INT TERM
printf '[control]\nbalance_interval_ms = %s\ncooldown_ms = 5000\n[pool.default]\nid = 0\nmin = %s\nmax = %s\ntarget = %s\nfill = max\n' \
	"$balance" "$min" "$max" "$target" > "$out/policy.ini"
hc_lab_up $$
hc_appliance_start "$top/build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 3000 \
	--config "$out/policy.ini" > /dev/null
hc_arp_check > /dev/null || { echo "run-chat-demo: no ARP answer from the appliance" >&2; exit 1; }
chat_gateway_start "$out" 1
chat_proxy_start "$out" 1 "127.0.0.1:$port"
url=$HC_CHAT_URL
cat <<MSG

  headcount chat demo: open  $url  (several tabs; ?name=alice names you)
  pool: min $min, target $target, max $max; the balancer runs every $balance ms
  the appliance's room table:  $top/tools/hc-tel.py hclab$HC_TAG rooms
  the gateway's view:          curl -s ${url}api/rooms
  logs: $out (headcount.log, chat-1.log)            Ctrl-C stops everything

MSG
while kill -0 "$HC_CHAT_PID" 2>/dev/null && kill -0 "$HC_PID" 2>/dev/null; do
	sleep 1
done
echo "run-chat-demo: the gateway or the appliance stopped; see $out" >&2
exit 1
