#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# make-pcaps.sh DIR [BUILD [NAME...]] - the pcaps the Pktgen scenarios
# send, with their ground truth: apply-59 (1 M users, 20 k rooms, 4 M
# events, 59 per datagram: 1,498-byte frames, the most a 1500-byte MTU
# carries), apply-64 (the same with 64 per datagram: 1,618-byte frames,
# for jumbo-frame links only), apply-1 (one event per datagram) and soak
# (59 at most per datagram, 1 % malformed, 2 % duplicates, 5 % reordered;
# no malformation shorter than 60 bytes, as Pktgen pads those, and no IP
# fragment, which af_packet's PMD holds for reassembly); NAMEs:
# only those (default: all four).
# HC_KEYS=FILE seals them with the gateways' keys from the appliance's keys
# file (gateways 1..64 need one); without it they are unsealed (the
# appliance then runs with --no-auth).  HC_SPLIT=N (1..8, as run.sh --split;
# hc-scenario itself takes up to 64) writes each as N
# pcaps, NAME.0.pcap .. NAME.N-1.pcap (hc-scenario --split: gateways dealt
# in pairs), for N Pktgen ports / N appliance queues.
set -euo pipefail
dir=${1:?usage: [HC_KEYS=FILE] [HC_SPLIT=N] make-pcaps.sh DIR [BUILD [NAME...]]}
build=${2:-$(cd "$(dirname "$0")/.." && pwd)/build}
shift $(($# >= 2 ? 2 : 1))
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(apply-59 apply-64 apply-1 soak)
gen="$build/pktgen-scenarios/hc-scenario"
args=(--split "${HC_SPLIT:-1}")
if [ -z "${HC_KEYS:-}" ]; then args+=(--no-auth); else args+=(--keys "$HC_KEYS"); fi
mkdir -p "$dir"
for n in "${names[@]}"; do
	case $n in
	apply-59) "$gen" --out "$dir/apply-59" --users 1000000 --rooms 20000 --gateways 64 \
		--events 4000000 --batch 59 --batch-mode fixed "${args[@]}" ;;
	apply-64) "$gen" --out "$dir/apply-64" --users 1000000 --rooms 20000 --gateways 64 \
		--events 4000000 --batch 64 --batch-mode fixed "${args[@]}" ;;
	apply-1) "$gen" --out "$dir/apply-1" --users 1000000 --rooms 20000 --gateways 64 \
		--events 60000 --batch 1 --batch-mode fixed "${args[@]}" ;;
	soak) "$gen" --out "$dir/soak" --users 200000 --rooms 5000 --gateways 16 \
		--events 1000000 --batch 59 --malformed 0.01 --duplicate 0.02 --reorder 0.05 \
		--min-frame 60 --no-fragments "${args[@]}" ;;
	*) echo "make-pcaps.sh: no scenario $n (apply-59, apply-64, apply-1, soak)" >&2; exit 2 ;;
	esac
done
