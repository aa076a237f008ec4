#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# hc-rate.sh - the appliance's event rate over time: sample its counters
# four times a second into a CSV while a run goes on, then draw events/s (and
# joins, leaves, moves per second, users on the right axis) as a PNG with
# gnuplot.  The lab (tools/hc-lab.sh) uses both.
#
#   hc-rate.sh sample PREFIX CSV STOP   until the file STOP exists (at most
#                                       an hour): a line every 0.25 s (a run
#                                       shorter than a second still gets
#                                       several), and one more when STOP
#                                       appears (if the appliance answers),
#                                       t_ms,events,joins,leaves,moves,
#                                       rx_frames,users,rooms from
#                                       /headcount/stats (tools/hc-tel.py's
#                                       client, one process for the run); a
#                                       sample the appliance did not answer
#                                       is skipped
#   hc-rate.sh plot CSV PNG [TITLE]     rates between consecutive samples,
#                                       over their real interval
#
# Exit 2 on bad usage or an unreadable CSV, 1 if gnuplot fails or there are
# fewer than two samples.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() {
	echo "usage: hc-rate.sh sample PREFIX CSV STOP | plot CSV PNG [TITLE]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
case $1 in
sample)
	[ $# = 4 ] || usage
	prefix=$2 csv=$3 stop=$4
	# one Python process for the whole run (not one per sample: light
	# beside the appliance), reading telemetry with hc-tel.py's client
	python3 - "$here/hc-tel.py" "$prefix" "$csv" "$stop" <<'EOP'
import importlib.machinery, importlib.util, os, sys, time
tel_path, prefix, csv, stop = sys.argv[1:5]
loader = importlib.machinery.SourceFileLoader("hc_tel", tel_path)
tel = importlib.util.module_from_spec(importlib.util.spec_from_loader("hc_tel", loader))
loader.exec_module(tel)
keys = ("events", "joins", "leaves", "moves", "rx_frames", "users", "rooms")
PERIOD = 0.25  # s: a lab replay on a fast machine lasts under a second


def sample(f):
    t = time.time()
    try:
        s = tel.raw(prefix, "/headcount/stats")
        f.write("%d,%s\n" % (t * 1000, ",".join(str(int(s.get(k, 0))) for k in keys)))
        f.flush()
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not answering now (starting, stopping): skipped
    return t


with open(csv, "w") as f:
    f.write("t_ms," + ",".join(keys) + "\n")
    for _ in range(int(3600 / PERIOD)):
        if os.path.exists(stop):
            break
        t = sample(f)
        while time.time() - t < PERIOD and not os.path.exists(stop):
            time.sleep(0.02)
    sample(f)  # the last one, as the run ends (skipped if it has)
EOP
	;;
plot)
	[ $# = 3 ] || [ $# = 4 ] || usage
	csv=$2 png=$3 title=${4:-events per second}
	# (both go into gnuplot's script inside double quotes: a quote or a
	# backslash there would end the string, and the rest run as gnuplot's
	# commands, system() among them; gnuplot runs a `command` even inside
	# one)
	case $png$title in *[\"\\\`]* | *$'\n'*)
		echo "hc-rate: the PNG's name and the title take no double quote, backquote, backslash or newline" >&2
		exit 2 ;;
	esac
	[ -r "$csv" ] || { echo "hc-rate: cannot read $csv" >&2; exit 2; }
	head -1 "$csv" | grep -qx 't_ms,events,joins,leaves,moves,rx_frames,users,rooms' ||
		{ echo "hc-rate: $csv is not a hc-rate.sh sample" >&2; exit 2; }
	# "seconds events/s joins/s leaves/s moves/s users" between samples
	rates=$(awk -F, 'NR == 2 { t0 = $1 }
		NR > 2 && $1 > pt {
			dt = ($1 - pt) / 1000
			printf "%.1f %.1f %.1f %.1f %.1f %d\n", ($1 - t0) / 1000, ($2 - pe) / dt,
				($3 - pj) / dt, ($4 - pl) / dt, ($5 - pm) / dt, $7
		}
		NR > 1 { pt = $1; pe = $2; pj = $3; pl = $4; pm = $5 }' "$csv")
	[ -n "$rates" ] || { echo "hc-rate: fewer than two samples in $csv" >&2; exit 1; }
	{
		printf '$rates << EOD\n%s\nEOD\n' "$rates"
		cat <<EOG
set terminal png small size 960,540
set termoption noenhanced
set output "$png"
set title "$title"
set xlabel "seconds since the appliance began answering"
set ylabel "per second"
set y2label "users"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key top left
set grid ytics
plot \$rates using 1:2 with lines lw 2 lc rgb "steelblue" title "events/s", \\
     \$rates using 1:3 with lines lc rgb "dark-green" title "joins/s", \\
     \$rates using 1:4 with lines lc rgb "orange" title "leaves/s", \\
     \$rates using 1:5 with lines lc rgb "purple" title "moves/s", \\
     \$rates using 1:6 axes x1y2 with lines dt 2 lc rgb "gray30" title "users (right)"
EOG
	} | gnuplot || { echo "hc-rate: gnuplot could not draw $png" >&2; exit 1; }
	;;
*) usage ;;
esac
