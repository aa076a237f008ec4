#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_lab.sh [WORKERS] - the README's lab (tools/hc-lab.sh, which does
# the checking) twice: a hc-scenario pcap replayed by hc-send (malformed,
# duplicated, reordered datagrams; counts equal the scenario's truth), then
# the default, a hc-gwsim fleet with placement, churn, reconnects and a
# gateway restart (the room table equals the gateways' truth).  The
# appliance on af_packet in one namespace answers ARP itself.  With 2
# workers the af_packet port has 2 queue pairs fed by the kernel's fanout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${HC_BUILD:?}
dir=$(mktemp -d /tmp/hc-netns.XXXXXX)
trap 'rm -rf "$dir"' EXIT
HC_BUILD=$build "$here/../../tools/hc-lab.sh" --build "$build" --out "$dir/replay" --replay \
	--users 50000 --rooms 2000 --gateways 16 --events 500000 --rate 20000 \
	--malformed 0.01 --duplicate 0.01 --reorder 0.02 --seed $((5 + ${1:-1})) \
	--workers "${1:-1}"
HC_BUILD=$build "$here/../../tools/hc-lab.sh" --build "$build" --out "$dir/fleet" \
	--fleet-users 20000 --fleet-gateways 6 --duration 4 --restart-every 1.5 \
	--seed $((7 + ${1:-1})) --workers "${1:-1}"
