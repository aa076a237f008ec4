#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tshark_dissect.sh - the Wireshark dissector (tools/wireshark/headcount.lua)
# against the generator's truth: hc-dissect-gen writes a capture of random
# datagrams of every message type in both directions (built by proto/,
# sealed or not) and, per frame, every field value the dissector must show;
# tshark decodes the capture with the dissector and every requested field
# of every frame must equal the truth exactly (absent where the truth has
# none), the malformed frames must carry the dissector's expert note and
# the others must not.  Two seeds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${HC_BUILD:?}
lua="$here/../../tools/wireshark/headcount.lua"
out=$(mktemp -d /tmp/hc-tshark.XXXXXX)
trap '[ -n "${HC_KEEP:-}" ] || rm -rf "$out"' EXIT
command -v tshark > /dev/null || { echo "FAIL: tshark is not installed (tools/install-deps.sh)"; exit 1; }
fields=(hc.type hc.flags hc.flags.auth hc.flags.key_slot hc.flags.a2g hc.gateway_id
	hc.record_count hc.gateway_incarnation hc.appliance_incarnation hc.sequence
	hc.user hc.room hc.pool hc.session hc.event.op hc.request_id hc.assign.refused_room
	hc.assign.status hc.move.from_room hc.move.to_room hc.move.directive_id hc.move.attempt
	hc.hb.last_sequence hc.hb.user_count hc.hb.interval_ms hc.hb.flags
	hc.hb.flags.resync_needed hc.hb.flags.shutdown hc.hb.flags.id_conflict
	hc.hb.flags.settling hc.hb.digest hc.snap.snapshot_id hc.snap.chunk_index
	hc.snap.chunk_count hc.snap.total_users hc.resync.reason hc.resync.first_sequence
	hc.resync.last_sequence hc.resync.snapshot_id)
for seed in 1 0x5eed; do
	(cd "$out" && "$build/tests/hc-dissect-gen" "$out/cap-$seed" "$seed")
	args=()
	for f in "${fields[@]}"; do args+=(-e "$f"); done
	# the expert notes in a second pass: frames the dissector calls malformed
	HOME=$out timeout 120 tshark -n -r "$out/cap-$seed.pcap" -X lua_script:"$lua" -T fields \
		-E header=y -E separator=/t -E occurrence=a -E aggregator=, "${args[@]}" \
		> "$out/fields-$seed.tsv" 2> "$out/tshark.err" ||
		{ cat "$out/tshark.err"; echo "FAIL: tshark"; exit 1; }
	HOME=$out timeout 120 tshark -n -r "$out/cap-$seed.pcap" -X lua_script:"$lua" -T fields \
		-e frame.number -Y 'hc.malformed || hc.unknown_flags' > "$out/malformed-$seed.txt" \
		2> "$out/tshark.err" || { cat "$out/tshark.err"; echo "FAIL: tshark"; exit 1; }
	python3 - "$out/cap-$seed.truth" "$out/fields-$seed.tsv" "$out/malformed-$seed.txt" <<'PY'
import json, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
rows = open(sys.argv[2]).read().rstrip('\n').split('\n')
names = rows[0].split('\t')
rows = [r.split('\t') for r in rows[1:]]
flagged = {int(x) - 1 for x in open(sys.argv[3]).read().split()}
def num(v):
    v = v.strip()
    if v in ('True', 'False'):
        return int(v == 'True')
    return int(v, 0)
bad = 0
if len(rows) != len(truth):
    print(f"FAIL: {len(rows)} frames decoded, {len(truth)} written"); sys.exit(1)
checked = 0
for i, t in enumerate(truth):
    r = rows[i] + [''] * (len(names) - len(rows[i]))
    for j, name in enumerate(names):
        got = r[j]
        want = [int(v) for v in t.get(name, [])]
        have = [num(v) for v in got.split(',')] if got != '' else []
        checked += len(want)
        if have != want:
            bad += 1
            if bad <= 10:
                print(f"frame {i}: {name}: dissector {have[:6]}... truth {want[:6]}...")
    if (i in flagged) != t['malformed']:
        bad += 1
        print(f"frame {i}: malformed is {t['malformed']}, the dissector says {i in flagged}")
types = {int(t['hc.type'][0]) for t in truth}
print(f"{len(truth)} frames, types {sorted(types)}, {checked} field values checked, "
      f"{len(flagged)} flagged malformed, {bad} differences")
sys.exit(1 if bad or types != set(range(1, 8)) or len(flagged) != 2 else 0)
PY
done
echo "PASS: the dissector shows every field of every message type exactly"
