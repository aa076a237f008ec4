#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# hc-hist.sh - the room-size distribution of a room table (CSV "room,users",
# as --dump-rooms and hc-tel.py PREFIX rooms write it): a text histogram on
# stdout and, with --png FILE, a picture of it drawn by gnuplot.
#
# The text has 20 bins of equal width from 1 to max (the bin that ends at
# target ends exactly there, with the default 15 / 50 / 100), one for rooms
# above max if any, and a summary line that scripts can read:
#   hc-hist: rooms=R users=U at_target=A above_target=B users_above_target=E largest=L
# (E: the sum over rooms of users - target, where positive).  The picture
# has one bar per room size (log scale) with min, target and max marked.  Exit 2 on a
# bad argument or an unreadable table, 1 if gnuplot fails.
set -euo pipefail

min=15 target=50 max=100 png="" title="room sizes"
usage() {
	cat <<EOT
usage: hc-hist.sh [options] ROOMS.csv
  --min N --target N --max N   the pool's sizes, marked     [$min $target $max]
  --png FILE                   also draw the histogram into FILE (PNG, gnuplot)
  --title TEXT                 the picture's title          [$title]
EOT
}
while [ $# -gt 0 ]; do
	case $1 in
	--min) min=$2; shift ;; --target) target=$2; shift ;; --max) max=$2; shift ;;
	--png) png=$2; shift ;; --title) title=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "hc-hist: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# = 1 ] || { usage >&2; exit 2; }
table=$1
for v in "$min" "$target" "$max"; do
	case $v in '' | *[!0-9]*) echo "hc-hist: sizes are whole numbers" >&2; exit 2 ;; esac
done
[ "$min" -ge 1 ] && [ "$min" -le "$target" ] && [ "$target" -le "$max" ] && [ "$max" -le 65535 ] ||
	{ echo "hc-hist: need 1 <= min <= target <= max <= 65535" >&2; exit 2; }
# (both go into gnuplot's script inside double quotes: a quote or a
# backslash there would end the string, and the rest run as gnuplot's
# commands, system() among them; gnuplot runs a `command` even inside
# one)
case $png$title in *[\"\\\`]* | *$'\n'*)
	echo "hc-hist: --png and --title take no double quote, backquote, backslash or newline" >&2; exit 2 ;;
esac
[ -r "$table" ] || { echo "hc-hist: cannot read $table" >&2; exit 2; }
head -1 "$table" | grep -qx 'room,users' ||
	{ echo "hc-hist: $table is not a room table (header room,users)" >&2; exit 2; }

# sizes: "size count" lines, one per room size present (rooms of 0 users are
# not in a table)
sizes=$(awk -F, 'NR > 1 { if ($2 !~ /^[0-9]+$/) { bad = 1; exit } n[$2 + 0]++ }
	END { if (bad) exit 1; for (s in n) print s, n[s] }' "$table" | sort -n) ||
	{ echo "hc-hist: $table: a room size is not a number" >&2; exit 2; }

printf '%s\n' "$sizes" | awk -v min="$min" -v target="$target" -v max="$max" '
NF == 2 {
	s = $1; c = $2
	rooms += c; users += s * c
	if (s > largest) largest = s
	if (s == target) at += c
	if (s > target) { above += c; excess += (s - target) * c }
	if (s > max) { over += c } else { bin[int((s - 1) / width)] += c }
}
BEGIN { width = int((max + 19) / 20); nb = int((max + width - 1) / width) }
END {
	printf "room sizes: %d rooms, %d users (min %d, target %d, max %d)\n",
		rooms, users, min, target, max
	top = 0
	for (b = 0; b < nb; b++) if (bin[b] > top) top = bin[b]
	if (over > top) top = over
	printf "  %9s %7s\n", "users", "rooms"
	for (b = 0; b < nb; b++) {
		lo = b * width + 1; hi = (b + 1) * width; if (hi > max) hi = max
		mark = (target >= lo && target <= hi) ? " <- target " target : ""
		printf "  %9s %7d %s%s\n", lo "-" hi, bin[b], bar(bin[b], top), mark
	}
	if (over > 0)
		printf "  %9s %7d %s\n", ">" max, over, bar(over, top)
	printf "hc-hist: rooms=%d users=%d at_target=%d above_target=%d users_above_target=%d largest=%d\n",
		rooms, users, at, above, excess, largest
}
function bar(n, top,    k, s) {
	if (n == 0 || top == 0) return "|"
	k = int(n * 50 / top); if (k < 1) k = 1
	s = "|"; while (k-- > 0) s = s "#"
	return s
}'

[ -n "$png" ] || exit 0
# the x axis reaches max or the largest room (above max only without
# admission); an empty table draws empty axes (an invisible point)
largest=$(printf '%s\n' "$sizes" | awk 'NF == 2 { l = $1 } END { print l + 0 }')
xmax=$(( (largest > max ? largest : max) + max / 20 + 1 ))
top=$(printf '%s\n' "$sizes" | awk 'NF == 2 && $2 > t { t = $2 } END { print t + 0 }')
yrange="[0.7:$(( top * 2 > 10 ? top * 2 : 10 ))]"
if [ -z "$sizes" ]; then sizes="1 0.01"; fi
# one bar per size, on a log scale (a few odd rooms stay visible beside
# thousands at target); min, target and max as lines; the internal font
# of gnuplot's png terminal (libgd) needs no font files
{
	printf '$sizes << EOD\n%s\nEOD\n' "$sizes"
	cat <<EOG
set terminal png small size 960,540
set output "$png"
set title "$title"
set xlabel "users in the room"
set ylabel "rooms (log scale)"
set xrange [0:$xmax]
set logscale y
set yrange $yrange
set style fill solid 0.8
set boxwidth 0.9
set arrow from $min, graph 0 to $min, graph 1 nohead back lw 2 lc rgb "gray40"
set arrow from $target, graph 0 to $target, graph 1 nohead back lw 2 lc rgb "dark-green"
set arrow from $max, graph 0 to $max, graph 1 nohead back lw 2 lc rgb "red"
set label "min $min" at $min, graph 0.95 offset 0.5, 0
set label "target $target" at $target, graph 0.95 offset 0.5, 0
set label "max $max" at $max, graph 0.95 right offset -0.5, 0
plot \$sizes using 1:2 with boxes lc rgb "steelblue" notitle
EOG
} | gnuplot || { echo "hc-hist: gnuplot could not draw $png" >&2; exit 1; }
