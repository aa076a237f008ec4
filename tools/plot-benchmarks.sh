#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# plot-benchmarks.sh - draw docs/benchmarks.md's tables as pictures: reads
# the figures copied from the tables (docs/img/benchmarks.dat; its header
# says the format) and writes one PNG per table, docs/img/bench-NAME.png,
# with gnuplot (pngcairo): clustered bars, one cluster per table row, one bar per
# column (or round), panels side by side where a table mixes units.
# Measures nothing: after a table changes, change benchmarks.dat to match
# and run this again.
#
#   tools/plot-benchmarks.sh [DATA [OUTDIR]]   [docs/img/benchmarks.dat docs/img]
#
# Exit 2 on an unreadable or malformed data file, 1 if gnuplot fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../docs/img/benchmarks.dat}
outdir=${2:-$(dirname "$data")}
[ -r "$data" ] || { echo "plot-benchmarks: cannot read $data" >&2; exit 2; }
tmp=$(mktemp -d /tmp/hc-plot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# split: TMP/FIGURE.N.dat (a panel's header row and rows) and
# TMP/FIGURE.N.meta (title, y label, scale); TMP/figures lists the figures
awk -v dir="$tmp" '
function bad(msg) { printf "plot-benchmarks: line %d: %s\n", NR, msg > "/dev/stderr"; err = 1; exit 2 }
/^#/ || /^[ \t]*$/ { next }
$1 == "figure" { if (inpanel) bad("figure inside a panel"); fig = $2; n = 0; print fig > (dir "/figures"); next }
$1 == "panel" {
	if (fig == "") bad("panel before any figure")
	if (inpanel) bad("panel inside a panel")
	if (!match($0, /^panel "[^"]*" "[^"]*" (linear|log)$/)) bad("panel \"TITLE\" \"Y LABEL\" linear|log")
	n++; inpanel = 1; rows = 0
	split($0, q, "\"")
	meta = dir "/" fig "." n ".meta"
	print q[2] > meta; print q[4] > meta; print $NF > meta; close(meta)
	next
}
$1 == "end" { if (!inpanel || rows < 2) bad("a panel needs a header row and a row"); inpanel = 0; close(out); next }
{
	if (!inpanel) bad("a row outside a panel")
	out = dir "/" fig "." n ".dat"
	print > out; rows++
}
END { if (!err && inpanel) { print "plot-benchmarks: a panel without end" > "/dev/stderr"; exit 2 } }
' "$data"
[ -s "$tmp/figures" ] || { echo "plot-benchmarks: no figure in $data" >&2; exit 2; }

while read -r fig; do
	panels=$(ls "$tmp/$fig".*.meta | wc -l)
	png=$outdir/bench-$fig.png
	{
		echo "set terminal pngcairo font 'sans,9' size $((panels > 1 ? 520 * panels : 760)),440"
		echo "set output '$png'"
		echo "set termoption noenhanced"
		echo "set datafile missing '-'"
		echo "set style data histograms"
		echo "set style histogram clustered gap 1"
		echo "set style fill solid 0.85 border -1"
		echo "set key top left reverse Left samplen 1 font ',8'"
		echo "set xtics rotate by 30 right nomirror scale 0 font ',8'"
		echo "set grid ytics"
		echo "set bmargin 8"
		echo "set multiplot layout 1,$panels"
		for n in $(seq 1 "$panels"); do
			meta=$tmp/$fig.$n.meta dat=$tmp/$fig.$n.dat
			cols=$(awk 'NR == 1 { n = 0; s = $0; while (match(s, /"[^"]*"|[^ \t"]+/)) { n++; s = substr(s, RSTART + RLENGTH) } print n }' "$dat")
			echo "set title \"$(sed -n 1p "$meta")\""
			echo "set ylabel \"$(sed -n 2p "$meta")\""
			if [ "$(sed -n 3p "$meta")" = log ]; then
				low=$(awk 'NR > 1 { for (i = 2; i <= NF; i++) if ($i != "-" && $i + 0 > 0 && (m == "" || $i + 0 < m)) m = $i + 0 } END { print m / 3 }' "$dat")
				echo "set logscale y; set yrange [$low:*]; set offsets 0,0,graph 0.1,0"
			else
				echo "unset logscale y; set yrange [0:*]; set offsets 0,0,graph 0.25,0"
			fi
			echo "plot for [i=2:$cols] '$dat' using i:xtic(1) title columnheader(i)"
		done
		echo "unset multiplot"
	} | gnuplot 2> "$tmp/gnuplot.err" || { cat "$tmp/gnuplot.err" >&2; echo "plot-benchmarks: gnuplot failed on $fig" >&2; exit 1; }
	if grep -q . "$tmp/gnuplot.err"; then
		echo "plot-benchmarks: $fig:" >&2; cat "$tmp/gnuplot.err" >&2
	fi
	echo "$png"
done < "$tmp/figures"
