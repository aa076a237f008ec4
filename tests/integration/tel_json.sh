#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tel_json.sh - the tools read the appliance's telemetry as JSON with a
# JSON library (jansson, tools/hc_tel_client.c) and say clearly what is
# wrong with a bad reply.  A fake telemetry socket (python3, at
# /var/run/dpdk/PREFIX/dpdk_telemetry.v2, as DPDK's: a greeting, then one
# reply per connection) answers with the content of a file; hc-send
# --prefix reads /headcount/stats from it before sending:
#   malformed JSON      exit 1, "line 3 column 18: ..." (jansson's place)
#   a key missing       exit 1, "\"port_imissed\" is missing"
#   a negative counter  exit 1, "\"rx_frames\" is not a non-negative integer"
#   a good reply        exit 0, every datagram of a 4-frame capture sent
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${HC_BUILD:?}
prefix=hcjson$$
sockdir=/var/run/dpdk/$prefix
out=$(mktemp -d /tmp/hc-json.XXXXXX)
server=""
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null || true
	[ -z "$server" ] || wait "$server" 2>/dev/null || true
	rm -rf "$out" "$sockdir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$sockdir"
# serve(FILE): the fake appliance answers every command with FILE's bytes
serve() {
	[ -z "$server" ] || { kill "$server"; wait "$server" 2>/dev/null || true; }
	rm -f "$sockdir/dpdk_telemetry.v2"
	timeout 120 python3 - "$sockdir/dpdk_telemetry.v2" "$1" <<'EOF' &
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(4)
reply = open(sys.argv[2], 'rb').read()
for _ in range(1000):
    c, _ = s.accept()
    c.send(json.dumps({"version": "fake", "pid": os.getpid(), "max_output_len": 65536}).encode())
    c.recv(1024)
    c.send(reply)
    c.close()
EOF
	server=$!
	for _ in $(seq 1200); do [ -S "$sockdir/dpdk_telemetry.v2" ] && return 0; sleep 0.05; done # 60 s
	fail "the fake telemetry socket did not appear"
}

# a 4-frame capture to send (no auth: nothing to check here)
"$build/pktgen-scenarios/hc-scenario" --out "$out/s" --no-auth --users 10 --rooms 5 \
	--gateways 2 --events 4 --batch 1 --batch-mode fixed --heartbeat-every 1000 > /dev/null
frames=$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); n = 0; o = 24
while o < len(d):
    n += 1; o += 16 + int.from_bytes(d[o + 8:o + 12], "little")
print(n)' "$out/s.pcap")

# send_with FILE: hc-send against the fake appliance; its exit status
send_with() {
	serve "$1"
	local rc=0
	timeout 60 "$build/tools/hc-send" --appliance 127.0.0.1 --prefix "$prefix" \
		--timeout 30 "$out/s.pcap" > "$out/send.log" 2>&1 || rc=$?
	return $rc
}

printf '{"/headcount/stats": {\n  "rx_frames": 0,\n  "port_imissed" 0,\n  "port_ierrors": 0}}' > "$out/malformed.json"
rc=0; send_with "$out/malformed.json" || rc=$?
[ "$rc" = 1 ] || fail "malformed JSON: hc-send exited $rc"
grep -q "^hc-send: telemetry /headcount/stats: line 3 column 18: " "$out/send.log" ||
	fail "malformed JSON: no line/column: $(cat "$out/send.log")"
echo "  malformed: $(head -1 "$out/send.log")"

echo '{"/headcount/stats": {"rx_frames": 0, "port_ierrors": 0, "port_rx_nombuf": 0}}' > "$out/missing.json"
rc=0; send_with "$out/missing.json" || rc=$?
[ "$rc" = 1 ] && grep -q '"port_imissed" is missing' "$out/send.log" ||
	fail "missing key: exit $rc, $(cat "$out/send.log")"
echo "  missing key: $(head -1 "$out/send.log")"

echo '{"/headcount/stats": {"rx_frames": -5, "port_imissed": 0, "port_ierrors": 0, "port_rx_nombuf": 0}}' > "$out/negative.json"
rc=0; send_with "$out/negative.json" || rc=$?
[ "$rc" = 1 ] && grep -q '"rx_frames" is not a non-negative integer' "$out/send.log" ||
	fail "negative counter: exit $rc, $(cat "$out/send.log")"
echo "  negative: $(head -1 "$out/send.log")"

echo '{"/headcount/stats": {"rx_frames": 7, "port_imissed": 0, "port_ierrors": 0, "port_rx_nombuf": 0}}' > "$out/good.json"
send_with "$out/good.json" || fail "good reply: hc-send exited $?: $(cat "$out/send.log")"
grep -q "^hc-send: sent $frames datagrams" "$out/send.log" ||
	fail "good reply: expected $frames datagrams sent: $(cat "$out/send.log")"
# a socket whose backlog is full (a frozen appliance, other clients
# queued): hc-send gives up within the query's bound (6 s), with a reason,
# not after 100 blocking connects of 2 s each (205 s before 2026-12-06;
# `timeout 60` would end it: exit 124)
kill "$server"; wait "$server" 2>/dev/null || true; server=""
rm -f "$sockdir/dpdk_telemetry.v2"
timeout 120 python3 - "$sockdir/dpdk_telemetry.v2" "$out/full" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(0)
held = []
for _ in range(64):  # connect until the backlog refuses: it is full
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    c.setblocking(False)
    try:
        c.connect(sys.argv[1])
    except BlockingIOError:
        c.close()
        break
    held.append(c)
open(sys.argv[2], "w").write("%d\n" % len(held))
time.sleep(110)  # never accepts
EOF
server=$!
for _ in $(seq 1200); do [ -s "$out/full" ] && break; sleep 0.05; done # 60 s
[ -s "$out/full" ] || fail "the full telemetry socket did not appear"
rc=0
timeout 60 "$build/tools/hc-send" --appliance 127.0.0.1 --prefix "$prefix" \
	--timeout 30 "$out/s.pcap" > "$out/send.log" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "no answer from the appliance at prefix '$prefix'" "$out/send.log" ||
	fail "a full backlog: hc-send exited $rc (124: still waiting after 60 s): $(cat "$out/send.log")"
echo "  full backlog ($(cat "$out/full") queued): $(head -1 "$out/send.log")"
echo "PASS: bad telemetry JSON named with line and column, missing and negative keys named; a good reply: $frames datagrams sent; a full backlog ends the query"
