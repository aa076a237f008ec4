#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# make-pcaps.sh DIR [BUILD] - the pcaps the Pktgen scenarios send, with their
# ground truth: apply-64 (1 M users, 20 k rooms, 64 events per datagram),
# apply-1 (one event per datagram) and soak (1 % malformed, 2 % duplicates).
# HC_KEYS=FILE seals them with the gateways' keys from the appliance's keys
# file (gateways 1..64 need one); without it they are unsealed (the
# appliance then runs with --no-auth).
set -euo pipefail
dir=${1:?usage: [HC_KEYS=FILE] make-pcaps.sh DIR [BUILD]}
build=${2:-$(cd "$(dirname "$0")/.." && pwd)/build}
gen="$build/pktgen-scenarios/hc-scenario"
auth=(--no-auth)
[ -z "${HC_KEYS:-}" ] || auth=(--keys "$HC_KEYS")
mkdir -p "$dir"
"$gen" --out "$dir/apply-64" --users 1000000 --rooms 20000 --gateways 64 \
	--events 4000000 --batch 64 --batch-mode fixed "${auth[@]}"
"$gen" --out "$dir/apply-1" --users 1000000 --rooms 20000 --gateways 64 \
	--events 60000 --batch 1 --batch-mode fixed "${auth[@]}"
"$gen" --out "$dir/soak" --users 200000 --rooms 5000 --gateways 16 \
	--events 1000000 --batch 64 --malformed 0.01 --duplicate 0.02 --reorder 0.05 "${auth[@]}"
