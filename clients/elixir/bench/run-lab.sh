#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run-lab.sh - the Elixir client's benchmark (bench/bench.exs) against the
# real appliance in the namespace lab, one scheduler (+S 1): one session on
# one core.  On a machine of 2 CPUs or more the appliance (whose lcores
# busy-poll) keeps to CPU 0 and the client's VM gets CPU 1 alone, so the
# figure is the client's, not a share of a CPU with polling loops.  Arguments go to bench.exs (--users, --events, --batch,
# --api many|single).  Needs a build (HC_BUILD, default ../../build).
#
#   HC_BUILD=build clients/elixir/bench/run-lab.sh --users 100000 --events 2000000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
client=$(cd "$here/.." && pwd)
src=$(cd "$client/../.." && pwd)
. "$src/tests/common/lib.sh"
build=$(cd "${HC_BUILD:-$src/build}" && pwd)
out=$(mktemp -d /tmp/hc-elixir-bench.XXXXXX)
trap 'hc_lab_down; rm -rf "$out"' EXIT
export MIX_HOME=${MIX_HOME:-$out/mix} HEX_OFFLINE=1 MIX_ENV=dev
(cd "$client" && mix compile < /dev/null > /dev/null)
hc_lab_up "eb$$"
# a room table for 100 k users at 50 a room, a user table for them
cpu=()
read -r -a cpus <<< "$(hc_cpu_list)" || true
if [ "${#cpus[@]}" -ge 2 ]; then
	export HC_APPLIANCE_CPUS=1 # (the appliance on the first CPU, the client on the second)
	cpu=(taskset -c "${cpus[1]}")
fi
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 10000 > /dev/null
hc_arp_check > /dev/null || { echo "no ARP answer" >&2; exit 1; }
key=$(awk '$1 == 1 && $2 == 0 { print $3 }' "$HC_KEYS")
ip netns exec "$HC_NSG" "${cpu[@]}" elixir --erl "+S 1" -pa "$client/_build/dev/lib/headcount/ebin" \
	"$here/bench.exs" --appliance $HC_APP_IP:7100 --gateway-id 1 --key "$key" "$@"
