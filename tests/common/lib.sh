# SPDX-License-Identifier: BSD-3-Clause
# lib.sh - the one place for helpers shared by the integration tests
# (sourced): the namespace lab and the condition waits (tools/hc-netns.sh,
# shared with the README's lab), and the checks below.  Tests decide from
# machine-readable output only: exit codes, key=value files (--dump-stats,
# hc-gwsim --result, hc-gateway --result), CSV room tables, telemetry.
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tools" && pwd)/hc-netns.sh"

# kv KEY FILE: the value of KEY in a key=value file (empty if absent).
kv() { grep "^$1=" "$2" | cut -d= -f2; }

# need NAME VALUE OP LIMIT: assert a number (test's [ VALUE OP LIMIT ]);
# exit 1 saying what was wrong.
need() {
	if ! [ "${2:-x}" "$3" "$4" ] 2>/dev/null; then
		echo "FAIL: $1 = ${2:-nothing}, expected $3 $4"
		exit 1
	fi
	echo "  $1 = $2"
}

# compare_kv EXPECT ACTUAL: every key of EXPECT must have the same value
# in ACTUAL. Prints each mismatch; returns the number of mismatches.
compare_kv() {
	local bad=0 key want got
	while IFS='=' read -r key want; do
		[ -n "$key" ] || continue
		got=$(grep "^$key=" "$2" | cut -d= -f2)
		if [ "$got" != "$want" ]; then
			echo "MISMATCH $key: expected $want, got ${got:-nothing}"
			bad=$((bad + 1))
		fi
	done < "$1"
	return "$bad"
}

# compare_rooms TRUTH ACTUAL: identical CSV room tables.
compare_rooms() {
	if cmp -s "$1" "$2"; then
		echo "room table equals the ground truth ($(($(wc -l < "$1") - 1)) rooms)"
		return 0
	fi
	echo "MISMATCH room table (truth < > appliance):"
	diff "$1" "$2" | head -20
	return 1
}
