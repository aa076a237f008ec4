#!/usr/bin/env bash
# netns_lab.sh [WORKERS] - the appliance on af_packet in one namespace, gateways
# sending real kernel UDP from another; ARP answered by the appliance;
# counts checked exactly (tools/hc-lab.sh does the checking). With 2
# workers the af_packet port has 2 queue pairs fed by the kernel's fanout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${HC_BUILD:?}
dir=$(mktemp -d /tmp/hc-netns.XXXXXX)
trap 'rm -rf "$dir"' EXIT
HC_BUILD=$build "$here/../../tools/hc-lab.sh" --build "$build" --out "$dir" \
	--users 50000 --rooms 2000 --gateways 16 --events 500000 --rate 20000 \
	--malformed 0.01 --duplicate 0.01 --reorder 0.02 --seed $((5 + ${1:-1})) \
	--workers "${1:-1}"
