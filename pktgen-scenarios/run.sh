#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - replay a headcount scenario with Pktgen-DPDK 23.06 into the
# appliance and judge the result from the appliance's own output.
#
# Both ends on one machine: two network namespaces joined by a veth pair
# (tools/hc-netns.sh), headcount on an af_packet port in one, Pktgen on an
# af_packet port in the other.  Pktgen sends exactly one pass of the
# scenario's pcap (hc-apply.lua: set 0 count N), then the appliance is
# stopped and its --dump-rooms must equal PREFIX.truth.csv (cmp) and its
# --dump-stats hold every line of PREFIX.expect.  --sweep repeats that, a
# fresh appliance per trial, at rising rates and reports the highest rate
# at which nothing was lost (results.kv, sweep.dat, sweep.png).
#
# Usage: see usage() below.  Exit 0: PASS (sweep: every trial ran, Pktgen
# and the appliance ending well, exact or not); 1: FAIL (sweep: a trial
# did not run to its end); 2: bad usage; 77: Pktgen not found (skipped).
set -euo pipefail
export LC_ALL=C # (sort -g reads 0.05 as a number, not 0, in every locale)
top=$(cd "$(dirname "$0")/.." && pwd)
sc=$top/pktgen-scenarios

usage() {
	cat <<EOF
usage: run.sh --pktgen PATH [options]
  --pktgen PATH     the pktgen binary (Pktgen-DPDK 23.06, built with Lua)
  --pktgen-src DIR  Pktgen's sources, for LUA_PATH  [from PATH's meson-info]
  --scenario NAME   apply-59 | apply-1 | soak       [apply-59]
                    (apply-64 needs jumbo frames, which af_packet lacks)
  --build DIR       headcount's build directory     [$top/build]
  --pcaps DIR       where make-pcaps.sh writes (and reuses) pcaps
                                                    [/tmp/hc-pktgen-pcaps]
  --out DIR         logs, dumps and results         [./pktgen-results]
  --rate R          percent of Pktgen's link speed, fractional ok [0.05]
  --sweep           one trial per rate of --rates, a fresh appliance each
  --rates "R ..."   the sweep's rates               ["0.05 0.1 0.2 0.5 1 2"]
  --split N         N pcaps (hc-scenario --split), N Pktgen ports and N
                    appliance queues and workers    [1]
  --timeout S       bound on Pktgen's sending, per trial [600]
EOF
}

pktgen="" pktgen_src="" scenario=apply-59 build=$top/build pcaps=/tmp/hc-pktgen-pcaps
out=$PWD/pktgen-results rate=0.05 sweep=0 rates="0.05 0.1 0.2 0.5 1 2" split=1 send_timeout=600
while [ $# -gt 0 ]; do
	case $1 in
	--pktgen) pktgen=${2:?}; shift ;;
	--pktgen-src) pktgen_src=${2:?}; shift ;;
	--scenario) scenario=${2:?}; shift ;;
	--build) build=${2:?}; shift ;;
	--pcaps) pcaps=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	--rate) rate=${2:?}; shift ;;
	--sweep) sweep=1 ;;
	--rates) rates=${2:?}; shift ;;
	--split) split=${2:?}; shift ;;
	--timeout) send_timeout=${2:?}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
case $scenario in
apply-59 | apply-1 | soak) ;;
apply-64) echo "run.sh: apply-64's 1,618-byte frames need jumbo frames, which Pktgen" \
	"cannot send through af_packet with DPDK 22.11 (see README.md): use apply-59" >&2; exit 2 ;;
*) echo "run.sh: no scenario $scenario" >&2; exit 2 ;;
esac
[[ $split =~ ^[1-8]$ ]] || { echo "run.sh: --split takes 1..8" >&2; exit 2; }
[[ $send_timeout =~ ^[1-9][0-9]*$ ]] && [ "$send_timeout" -le 86400 ] ||
	{ echo "run.sh: --timeout takes whole seconds, at most 86400 (hc-apply.lua's)" >&2; exit 2; }
for r in $rate $rates; do
	[[ $r =~ ^[0-9]*\.?[0-9]+$ ]] && awk -v r="$r" 'BEGIN { exit !(r >= 0.001 && r <= 100) }' ||
		{ echo "run.sh: a rate is a percent of the link, 0.001 to 100 (hc-apply.lua's): $r" >&2; exit 2; }
done
# the sweep's trials from the lowest rate up: loss_free_up_to is the
# highest rate below which every trial was exact, whatever the order given
rates=$(printf '%s\n' $rates | sort -g -u | paste -sd' ')
if [ -z "$pktgen" ] || [ ! -x "$pktgen" ]; then
	echo "SKIP: no Pktgen binary (--pktgen PATH); build it as pktgen-scenarios/README.md says"
	exit 77
fi
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (namespaces)" >&2; exit 2; }
[ -x "$build/headcount" ] || { echo "run.sh: no $build/headcount: build headcount first" >&2; exit 2; }
command -v script > /dev/null || { echo "run.sh: needs script(1) (util-linux)" >&2; exit 2; }
# Pktgen's Lua sources: scripts that `require "Pktgen"` need them on
# LUA_PATH (ours do not; users' own scripts may).  A meson build directory
# names its source directory in meson-info.
if [ -z "$pktgen_src" ]; then
	pktgen_src=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["directories"]["source"])' \
		"$(dirname "$pktgen")/../meson-info/meson-info.json" 2> /dev/null || true)
fi
lua_path="$sc/?.lua;;"
[ -n "$pktgen_src" ] && [ -f "$pktgen_src/Pktgen.lua" ] && lua_path="$pktgen_src/?.lua;$lua_path"

. "$top/tools/hc-netns.sh"
mkdir -p "$out"
out=$(cd "$out" && pwd)
# (absolute: Pktgen reads the pcaps through links elsewhere, below)
pcaps=$(mkdir -p "$pcaps" && cd "$pcaps" && pwd)

# ----------------------------------------------------------- tool calls --
# Every call of a headcount tool is here (their options may be renamed).
#
# make_pcaps DIR NAME: the scenario's pcap(s), .truth.csv and .expect,
# unsealed (the appliance runs --no-auth), HC_SPLIT files if > 1.
make_pcaps() {
	HC_SPLIT=$split "$sc/make-pcaps.sh" "$1" "$build" "$2"
}
# appliance_start DIR QUEUES: headcount in the app namespace, one worker
# per queue.  A replay is not a gateway: nobody sends heartbeats on time
# or answers a NACK, so no gateway may be declared dead while its pass is
# still being sent or read (--gateway-timeout-ms 0), and no reordering gap
# is given up while the datagram that fills it is still on its way
# (--gap-nacks 1000000: NACK rounds of 30 ms, about 8 hours).  A gap never
# filled is counted lost when the appliance stops (seq_lost: the stop
# skips every gap, hc_seq_flush_all), with what waited behind it applied.
appliance_start() {
	hc_appliance_start "$build" "$1" "$2" --no-auth --stats-interval 0 \
		--gateway-timeout-ms 0 --gap-nacks 1000000 \
		--dump-rooms "$1/rooms.csv" --dump-stats "$1/stats.kv" > "$1/start.log" 2>&1
	# (hc_appliance_start itself writes the appliance's output to headcount.log)
}
# appliance_stats: its counters now (telemetry), key=value
appliance_stats() { hc_tel_kv /headcount/stats; }
# ------------------------------------------------------------------------

SAMPLER="" # rx-rate.py while a trial runs
cleanup() {
	[ -z "$SAMPLER" ] || kill "$SAMPLER" 2> /dev/null || true
	# Pktgen under timeout(1) is in a process group of its own, which a
	# Ctrl-C does not reach: it goes by its file prefix
	pkill -TERM -f "file-prefix hcpg${$}([[:space:]]|\$)" 2> /dev/null || true
	hc_lab_down
	rm -rf "/var/run/dpdk/hcpg$$" 2>/dev/null || true
	[ -z "${links:-}" ] || rm -rf "$links"
}
trap cleanup EXIT
# Pktgen's command line is one string (script -c) and its -s takes
# PORT:FILE up to a comma: the pcaps and the Lua script are named to it
# through links in a directory of plain characters, so that --pcaps, --out
# and this checkout may be anywhere (spaces, commas and all)
links=$(mktemp -d /tmp/hcpg-in.XXXXXX)
ln -s "$sc/hc-apply.lua" "$sc/hc_lib.lua" "$links/"

# the pcaps (made once, reused: hc-scenario is deterministic)
sdir=$pcaps/$scenario.split$split
if [ ! -f "$sdir/$scenario.expect" ]; then
	echo "run.sh: making $scenario's pcaps in $sdir"
	make_pcaps "$sdir" "$scenario" > "$out/make-pcaps.log"
fi
files=()
if [ "$split" = 1 ]; then
	files=("$sdir/$scenario.pcap")
else
	for i in $(seq 0 $((split - 1))); do files+=("$sdir/$scenario.$i.pcap"); done
fi
frames=$(sed -n 's/^rx_frames=//p' "$sdir/$scenario.expect")

# CPUs: the appliance's worker gets a CPU to itself (its control lcore
# sleeps when idle): a receiver that loses its CPU drops frames in the
# af_packet ring, a sender that loses it only sends later.  Pktgen's two
# lcores (its main one sleeps while the script waits) go on a CPU of their
# own when there are 4 or more, else beside the appliance's control lcore
# (two busy-polling loops on one CPU lose about 100x).  Pktgen cannot
# serve a port from lcore 0: its lcores are numbered 2 and 3 (--lcores).
# The CPUs are those this may run on (a cpuset may leave out CPU 0 or
# leave gaps), the appliance's first (hc_appliance_lcores).
read -r -a cpu <<< "$(hc_cpu_list)" || true
ncpu=${#cpu[@]}
[ "$ncpu" -ge 1 ] || { echo "run.sh: no CPU to run on" >&2; exit 2; }
if [ "$ncpu" -ge 4 ]; then pg_main_cpu=${cpu[ncpu - 2]} pg_tx_cpu=${cpu[ncpu - 1]}
elif [ "$ncpu" = 3 ]; then pg_main_cpu=${cpu[2]} pg_tx_cpu=${cpu[2]}
else pg_main_cpu=${cpu[0]} pg_tx_cpu=${cpu[0]}; fi
# Pktgen's af_packet ports; memory: about 2 GB per port without hugepages
pg_afp=framecnt=4096
pg_mem=$((2048 * split))

# kernel interface counters: ip -s link's, as STAT=VALUE
if_stats() { # NS DEV
	ip -n "$1" -s -j link show dev "$2" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"]
for d in ("rx", "tx"):
    for k in ("packets", "dropped", "errors"):
        print("%s_%s=%d" % (d, k, s[d][k]))'
}
kv() { sed -n "s/^$1=//p" "$2" | head -1; }

# trial DIR RATE: one pass at RATE; writes DIR/result.kv; returns 0 on
# an exact result
trial() {
	local t=$1 r=$2 i ports="" pcapargs=() pcaplist="" lmap=""
	rm -rf "$t"
	mkdir -p "$t"
	hc_lab_up "pg$$"
	# Pktgen's side needs no address, and must not have the first
	# gateway's (198.18.0.2): the kernel would answer the appliance's
	# ARP and heartbeats (ICMP), extra frames the scenario does not count
	ip -n "$HC_NSG" addr flush dev "$HC_VG"
	echo "$(date +%T) appliance starts" > "$t/phases.log"
	local started=1
	HC_AFP_ARGS=framecnt=8192 appliance_start "$t" "$split" || started=0

	for i in $(seq 0 $((split - 1))); do
		ln -sfn "${files[$i]}" "$links/$i.pcap"
		pcapargs+=(-s "$i:$links/$i.pcap")
		pcaplist+=${pcaplist:+,}$links/$i.pcap
		lmap+=${lmap:+,}"[3].$i"
		ports+=" --vdev net_af_packet$i,iface=$HC_VG,$pg_afp"
	done
	if_stats "$HC_NSG" "$HC_VG" > "$t/pg-if.before"
	if_stats "$HC_NSA" "$HC_VA" > "$t/hc-if.before"
	# Pktgen needs a terminal (script) and its own file prefix.  It cuts
	# every pcap frame to 1514 bytes (without -j), and its -j (MTU 9216)
	# is refused by net_af_packet in DPDK 22.11 (max_rx_pktlen 1518):
	# scenarios must fit a 1500-byte MTU (apply-59, not apply-64)
	local cmd="$(printf %q "$pktgen") --lcores 2@$pg_main_cpu,3@$pg_tx_cpu --no-huge -m $pg_mem \
--no-pci --file-prefix hcpg$$ --log-level=lib.eal:warning $ports -- -m $lmap \
${pcapargs[*]} -f $links/hc-apply.lua"
	{ echo "$cmd"; echo "# (run.sh's links, gone once it exits:)"
	  for i in "$links"/*; do echo "# $i -> $(readlink "$i")"; done; } > "$t/pktgen.cmd"
	local pg_rc=0
	SAMPLER=""
	# the rate the frames arrived at the appliance's interface, read
	# while Pktgen sends (rx-rate.py: its counter every 2 ms)
	if [ "$started" = 1 ]; then
		ip netns exec "$HC_NSA" python3 "$sc/rx-rate.py" \
			"/sys/class/net/$HC_VA/statistics/rx_packets" "$t/rx-rate.txt" "$t/rx-rate.stop" &
		SAMPLER=$!
		# (it runs once its first reading is written: 10 s at most)
		for i in $(seq 1 1000); do
			[ -s "$t/rx-rate.txt" ] && break
			kill -0 "$SAMPLER" 2> /dev/null || break # (it failed: said below)
			sleep 0.01
		done
	fi
	echo "$(date +%T) pktgen starts" >> "$t/phases.log"
	if [ "$started" = 1 ]; then
		ip netns exec "$HC_NSG" env SHELL=/bin/bash LUA_PATH="$lua_path" HC_PCAP="$pcaplist" HC_RATE="$r" \
			HC_TIMEOUT_S="$send_timeout" timeout -k 10 $((send_timeout + 180)) \
			script -qec "$cmd" /dev/null < /dev/null > "$t/pktgen.log" 2>&1 || pg_rc=$?
	else
		pg_rc=125 # (not run: the trial fails, judged by what the appliance left)
		echo "run.sh: the appliance did not start (see $t/start.log, $t/headcount.log):" \
			"Pktgen not run" | tee "$t/pktgen.log" >&2
	fi
	echo "$(date +%T) pktgen exited ($pg_rc)" >> "$t/phases.log"
	rm -rf "/var/run/dpdk/hcpg$$"
	tr -d '\r' < "$t/pktgen.log" | sed -n 's/^.*hc-apply: //p' > "$t/hc-apply.kv" || true
	local sent
	sent=$(tr ' ' '\n' < "$t/hc-apply.kv" | sed -n 's/^sent=//p' | tail -1)

	# the appliance has read everything once its count stops moving
	# (bounded: 5 s unchanged, 300 s in all)
	local rx=-1 last=-2 since end=$(($(date +%s) + 300))
	since=$(date +%s)
	while [ "$(date +%s)" -lt "$end" ]; do
		rx=$(appliance_stats | sed -n 's/^rx_frames=//p')
		[ "${rx:-0}" -ge "$frames" ] && break
		if [ "$rx" != "$last" ]; then
			last=$rx since=$(date +%s)
		elif [ $(($(date +%s) - since)) -ge 5 ]; then
			break
		fi
		sleep 0.2
	done
	echo "$(date +%T) appliance read $rx" >> "$t/phases.log"
	if [ -n "$SAMPLER" ]; then
		touch "$t/rx-rate.stop"
		wait "$SAMPLER" || echo "run.sh: rx-rate.py failed (see $t/rx-rate.txt)" >&2
		SAMPLER=""
	fi
	if_stats "$HC_NSG" "$HC_VG" > "$t/pg-if.after"
	if_stats "$HC_NSA" "$HC_VA" > "$t/hc-if.after"
	local app_rc=0
	hc_appliance_stop || app_rc=$?
	hc_lab_down

	# the judgement: the appliance's own dumps against the truth
	local rooms_ok=0 bad=0 key want got
	[ -f "$t/rooms.csv" ] && cmp -s "$sdir/$scenario.truth.csv" "$t/rooms.csv" && rooms_ok=1
	: > "$t/mismatch.txt"
	while IFS='=' read -r key want; do
		got=$(kv "$key" "$t/stats.kv" 2> /dev/null)
		if [ "$got" != "$want" ]; then
			echo "$key: expected $want, got ${got:-nothing}" >> "$t/mismatch.txt"
			bad=$((bad + 1))
		fi
	done < "$sdir/$scenario.expect"
	# (a missing figure counts as 0: a trial that left no file still
	# writes its result, judged by the rest)
	num0() { local v; v=$(kv "$@" 2> /dev/null); echo "${v:-0}"; }
	delta() { echo $(($(num0 "$2" "$1.after") - $(num0 "$2" "$1.before"))); }
	{
		echo "scenario=$scenario"
		echo "split=$split"
		echo "rate=$r"
		echo "frames=$frames"
		echo "pktgen_exit=$pg_rc"
		echo "pktgen_sent=${sent:-0}"
		echo "pktgen_complete=$(tr ' ' '\n' < "$t/hc-apply.kv" | sed -n 's/^complete=//p' | tail -1)"
		echo "pktgen_waited_ms=$(tr ' ' '\n' < "$t/hc-apply.kv" | sed -n 's/^waited_ms=//p' | tail -1)"
		# (the rate the interface received the middle of the pass at: a
		# measure, where pktgen's figures only bound it from below)
		tr ' ' '\n' < "$t/rx-rate.txt" 2> /dev/null | grep '^rx_' || echo "rx_fps=0"
		echo "pg_if_tx_packets=$(delta "$t/pg-if" tx_packets)"
		echo "pg_if_tx_dropped=$(delta "$t/pg-if" tx_dropped)"
		echo "hc_if_rx_packets=$(delta "$t/hc-if" rx_packets)"
		echo "hc_if_rx_dropped=$(delta "$t/hc-if" rx_dropped)"
		for key in port_ipackets port_imissed port_ring_drops rx_frames drops seq_duplicates \
			seq_lost seq_gaps seq_held gateway_deaths users; do
			echo "$key=$(kv "$key" "$t/stats.kv" 2> /dev/null)"
		done
		echo "lost=$((frames - $(num0 rx_frames "$t/stats.kv")))"
		echo "headcount_exit=$app_rc"
		echo "rooms_match=$rooms_ok"
		echo "expect_lines=$(grep -c . "$sdir/$scenario.expect")"
		echo "expect_mismatches=$bad"
	} > "$t/result.kv"
	[ "$rooms_ok" = 1 ] && [ "$bad" = 0 ] && [ "$app_rc" = 0 ]
}

if [ "$sweep" = 0 ]; then
	rc=0
	trial "$out/trial" "$rate" || rc=1
	cat "$out/trial/result.kv"
	if [ "$rc" = 0 ]; then
		echo "result=PASS"
	else
		sed 's/^/mismatch: /' "$out/trial/mismatch.txt" | head -20
		echo "result=FAIL"
	fi
	cp "$out/trial/result.kv" "$out/results.kv"
	echo "result=$([ "$rc" = 0 ] && echo PASS || echo FAIL)" >> "$out/results.kv"
	exit $rc
fi

# the sweep: the highest rate with an exact result; results.kv holds
# every trial's lines prefixed "rate<R>.", sweep.dat one row per trial
# (the highest exact trial), and the highest below which every trial was
# exact (a busy machine may lose at one rate and not at the next)
best=none upto=none all=1 ran=1
: > "$out/results.kv"
printf '# rate_pct frames pktgen_sent hc_if_rx port_ipackets rx_frames lost exact fps rx_fps\n' > "$out/sweep.dat"
for r in $rates; do
	ok=0
	trial "$out/rate$r" "$r" && ok=1
	sed "s/^/rate$r./" "$out/rate$r/result.kv" >> "$out/results.kv"
	echo "rate$r.exact=$ok" >> "$out/results.kv"
	f=$out/rate$r/result.kv
	# the rate Pktgen achieved, at least: hc-apply.lua waits in 250 ms
	# steps for counters Pktgen refreshes once a second (portStats: its
	# prev_stats), so waited_ms is the send's time rounded up to the next
	# refresh, and this a lower bound (its figures are the frames over a
	# multiple of 0.25 s), not a measure of the fastest rate
	w=$(kv pktgen_waited_ms "$f")
	fps=$([ "${w:-0}" -gt 0 ] && echo $(($(kv pktgen_sent "$f") * 1000 / w)) || echo 0)
	echo "rate$r.approx_fps=$fps" >> "$out/results.kv"
	# (a figure a trial did not leave is NaN: the columns stay in place)
	nan() { local v; v=$(kv "$1" "$f"); echo "${v:-NaN}"; }
	printf '%s %s %s %s %s %s %s %s %s %s\n' "$r" "$frames" "$(nan pktgen_sent)" \
		"$(nan hc_if_rx_packets)" "$(nan port_ipackets)" "$(nan rx_frames)" \
		"$(nan lost)" "$ok" "$fps" "$(nan rx_fps)" >> "$out/sweep.dat"
	# every trial ran: Pktgen and the appliance both ended well, and
	# Pktgen sent its whole pass (hc-apply.lua says complete=1)
	[ "$(kv pktgen_exit "$f")" = 0 ] && [ "$(kv headcount_exit "$f")" = 0 ] &&
		[ "$(kv pktgen_complete "$f")" = 1 ] || ran=0
	echo "rate=$r exact=$ok lost=$(kv lost "$f") ring_drops=$(kv port_ring_drops "$f")" \
		"pktgen_sent=$(kv pktgen_sent "$f") approx_fps=$fps rx_fps=$(kv rx_fps "$f")"
	# the highest exact rate, whatever the order of --rates
	[ "$ok" = 1 ] && { [ "$best" = none ] || awk -v a="$r" -v b="$best" 'BEGIN {exit !(a > b)}'; } &&
		best=$r
	[ "$ok" = 1 ] || all=0
	[ "$ok" = 1 ] && [ "$all" = 1 ] && upto=$r
done
{
	echo "scenario=$scenario"
	echo "split=$split"
	echo "frames=$frames"
	echo "rates=$rates"
	echo "max_loss_free_rate=$best"
	echo "loss_free_up_to=$upto"
	echo "every_trial_ran=$ran"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "nproc=$ncpu"
	echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} >> "$out/results.kv"
plot=$out/sweep.png
if ! command -v gnuplot > /dev/null; then
	plot="(no plot: gnuplot is not installed)"
else
	gnuplot <<EOF > "$out/gnuplot.log" 2>&1 || plot="(no plot: gnuplot failed, see $out/gnuplot.log)"
set terminal pngcairo size 800,500 noenhanced
set output "$out/sweep.png"
set title "headcount <- Pktgen ($scenario, $frames frames, one pass per trial)"
set xlabel "Pktgen rate (% of link speed)"
set ylabel "frames"
set logscale x
set key top left
plot "$out/sweep.dat" using 1:7 with linespoints title "lost (frames - appliance rx_frames)", \
     "$out/sweep.dat" using 1:(\$3 - \$4) with linespoints title "lost before the appliance's veth"
EOF
fi
tail -10 "$out/results.kv"
echo "sweep: results in $out/results.kv, $out/sweep.dat, $plot"
[ "$ran" = 1 ] # (exit 1: a trial did not run to its end, see its phases.log)
