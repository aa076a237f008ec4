# lib.sh - helpers shared by the integration tests (sourced).

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
