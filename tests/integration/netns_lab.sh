#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_lab.sh [WORKERS] - the README's lab (tools/hc-lab.sh, which does
# the checking) twice: a hc-scenario pcap replayed by hc-send (malformed,
# duplicated, reordered datagrams; counts equal the scenario's truth), then
# the default, a hc-gwsim fleet with placement, churn, reconnects and a
# gateway restart (the room table equals the gateways' truth).  The
# appliance on af_packet in one namespace answers ARP itself.  With 2 (or
# 4) workers the af_packet port has as many queue pairs, fed by the
# kernel's fanout, and datagrams and events cross the hand-off rings.
#
# Then, from the files the lab keeps:
# - the packet pool logged is the size the workers may hold, and with more
#   than one worker the hand-off rings carried datagrams and events;
# - both runs drew their room-size histogram: the text's summary agrees with
#   the room table, and the picture is a PNG of 960 x 540 of some size;
# - the fleet's placement filled rooms up to target only (fill = target,
#   the default pool 15 / 50 / 100): no placement left a room above target
#   (ctl_placed_beyond_target = 0, there are room ids to spare), and the
#   users above target, summed over rooms of the final table, are at most
#   the seats the control core saw taken past target by direct or late
#   JOINs and moves (ctl_seated_beyond_target).  That bound holds for any
#   traffic (see control/hc_rooms.h); placement that fills to max breaks
#   both checks by thousands.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
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

# hist_kv KEY RUN: a value of the histogram's summary line
hist_kv() { tail -1 "$dir/$2/room-sizes.txt" | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }

for run in replay fleet; do
	echo "$run: room-size histogram"
	[ -s "$dir/$run/room-sizes.txt" ] || { echo "FAIL: no $dir/$run/room-sizes.txt"; exit 1; }
	# the summary agrees with the room table (counted here, not by the tool)
	rooms=$(awk 'NR > 1' "$dir/$run/rooms.csv" | wc -l)
	users=$(awk -F, 'NR > 1 { n += $2 } END { print n + 0 }' "$dir/$run/rooms.csv")
	need rooms "$(hist_kv rooms $run)" -eq "$rooms"
	need users "$(hist_kv users $run)" -eq "$users"
	need rooms_in_bins "$(awk '$1 ~ /^[0-9]+-[0-9]+$|^>/ { n += $2 } END { print n + 0 }' \
		"$dir/$run/room-sizes.txt")" -eq "$rooms"
	need bins "$(grep -cE '^ +[0-9]+-[0-9]+ +[0-9]+ \|' "$dir/$run/room-sizes.txt")" -eq 20
	png=$dir/$run/room-sizes.png
	[ -f "$png" ] || { echo "FAIL: no $png"; exit 1; }
	need png_signature "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
	need png_ihdr "$(head -c 24 "$png" | tail -c 12 | od -An -tx1 | tr -d ' \n')" = \
		49484452000003c00000021c # "IHDR", width 960, height 540
	need png_bytes "$(stat -c %s "$png")" -ge 2000
done

# the room table was sampled all along both runs (hc-lab's watch)
for run in replay fleet; do
	need "${run}_limit_samples" "$(kv samples "$dir/$run/limit.kv")" -gt 0
	need "${run}_samples_above_max" "$(kv above_max "$dir/$run/limit.kv")" -eq 0
done
# the packet pool sized to what the workers may hold (hc_port_default_mbufs,
# with the lab's workers + 1 lcores, pool caches of 256 and at most 8,192
# RX and TX descriptors: 1,024 and 512 a queue): a worker's incoming
# hand-off rings hold at most 8,192 datagrams (2,048 a ring for 4 workers:
# 92,159 mbufs when every ring held 4,096); with more than one worker
# datagrams and events went through them (handoff_waits: how often a full
# ring made a worker wait, shown), and none was dropped at a full ring
# (drop_handoff_full counts those dropped while the appliance stops)
workers=${1:-1}
case $workers in 1) pool=32767 ;; 2) pool=34815 ;; 3) pool=60415 ;; 4) pool=69631 ;; *) pool=x ;; esac
need packet_pool_mbufs "$(sed -n 's/.*packet pool: \([0-9]*\) mbufs of .*/\1/p' \
	"$dir/replay/headcount.log")" = "$pool"
# without hugepages, on af_packet ports, each pool packed in a heap of its
# own in huge pages (hc_port_pool_create), not an mbuf a 4 KiB page of EAL's
need pools_in_own_heaps "$(grep -cE '(packet|control|gather) pool: .*in a heap of its own' \
	"$dir/replay/headcount.log")" -eq 3
if [ "$workers" -gt 1 ]; then
	need replay_handoff_dgrams "$(kv handoff_dgrams "$dir/replay/stats.kv")" -gt 0
	need replay_handoff_ops "$(kv handoff_ops "$dir/replay/stats.kv")" -gt 0
	echo "  replay_handoff_waits = $(kv handoff_waits "$dir/replay/stats.kv") (shown)"
fi
need replay_drop_handoff_full "$(kv drop_handoff_full "$dir/replay/stats.kv")" -eq 0
need fleet_joins_over_max "$(kv ctl_joins_over_max "$dir/fleet/stats.kv")" -eq 0
# the checks below read the fleet's final room table: it holds every user
# of the gateways' truth (none dropped between the comparison and the dump)
need fleet_users_in_the_dump "$(awk -F, 'NR > 1 { n += $2 } END { print n + 0 }' \
	"$dir/fleet/rooms.csv")" -eq "$(kv truth_users "$dir/fleet/gwsim.kv")"
# no loss in the lab: gateways and appliance never disagreed long enough to
# need a snapshot (sessions settle reconnect races at their source)
need fleet_digest_snapshots "$(kv digest_snapshots "$dir/fleet/gwsim.kv")" -eq 0

echo "fleet: placement up to target (50)"
target=50
excess=$(awk -F, -v t=$target 'NR > 1 && $2 > t { e += $2 - t } END { print e + 0 }' \
	"$dir/fleet/rooms.csv")
above=$(awk -F, -v t=$target 'NR > 1 && $2 > t { n++ } END { print n + 0 }' "$dir/fleet/rooms.csv")
seated=$(kv ctl_seated_beyond_target "$dir/fleet/stats.kv")
echo "  rooms above target: $above, users above target: $excess," \
	"largest room: $(hist_kv largest fleet)"
need placed_beyond_target "$(kv ctl_placed_beyond_target "$dir/fleet/stats.kv")" -eq 0
need no_room "$(kv ctl_no_room "$dir/fleet/stats.kv")" -eq 0
need users_above_target_le_seated_beyond_target "$excess" -le "${seated:-x}"
need users_above_target_in_histogram "$(hist_kv users_above_target fleet)" -eq "$excess"
echo "PASS: both runs exact, histograms drawn, placement filled rooms up to target"
