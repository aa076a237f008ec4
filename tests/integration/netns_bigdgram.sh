#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# netns_bigdgram.sh MODE - the largest datagrams over af_packet on a
# jumbo veth: hc-bigdgram's capture (4 gateways; snapshots in chunks of 371
# members and EVENTS of 372 events, 8,960 and 8,968 bytes, small ones between)
# sent by hc-send through kernel UDP sockets from the gateways' namespace.
#
#   jumbo     MTU 9100 on both ends (so that datagrams one byte and one
#             record too long arrive whole), framesz=9216: everything
#             applied exactly (room table, every counter), the too long
#             ones dropped as udp_too_big, no frame gathered or cut;
#             the capture is sent as pcapng (editcap's copy of the pcap:
#             hc-send reads both through libpcap), with the same result.
#   cut       MTU 9000, af_packet's default framesz (2048, frames up to
#             1,982 bytes): every longer frame is dropped as frame_cut,
#             every shorter one taken.
#   csum-offload
#             MTU 9000, framesz=9216, the gateways' veth with UDP TX
#             checksum offload on (their checksums never finished), keys:
#             everything applied exactly, every datagram counted in
#             udp_csum_partial but those (about one in 65,535) whose
#             unfinished checksum verifies as if finished, which hc-send
#             --csum-offload counts.
#   csum-offload-no-auth
#             the same without keys: every datagram dropped as
#             udp_csum_partial (but those, applied unchecked), nothing
#             else applied.
#   csum-offload-verifying
#             as csum-offload-no-auth, but 130,901 small datagrams of
#             random bytes made to sum to every residue (one to three of
#             whose unfinished checksums verify, whatever the source
#             port): exactly hc-send's count of them taken as finished
#             (then dropped by the validator as truncated), every other
#             one dropped as udp_csum_partial.  The kernel's unfinished checksum and the
#             appliance's classification of one that happens to verify,
#             which the other modes meet about once in 600 runs.
# Bounded: every process runs under timeout, every wait has a bound.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
mode=${1:?mode}
out=$(mktemp -d /tmp/hc-bigdgram.XXXXXX)
trap 'hc_lab_down; [ -n "${HC_KEEP:-}" ] || rm -rf "$out"' EXIT

mtu=9000 offload=0 auth=1
HC_AFP_ARGS=framesz=9216,blocksz=36864,framecnt=1024
gen=(--no-too-big)
case "$mode" in
jumbo) mtu=9100 gen=() ;;
cut) HC_AFP_ARGS=framecnt=1024 ;;
csum-offload) offload=1 ;;
csum-offload-no-auth) offload=1 auth=0 ;;
csum-offload-verifying) offload=1 auth=0 ;;
*) echo "netns_bigdgram.sh: unknown mode $mode" >&2; exit 2 ;;
esac
export HC_AFP_ARGS

hc_lab_up "b$$"
ip -n "$HC_NSA" link set "$HC_VA" mtu "$mtu"
ip -n "$HC_NSG" link set "$HC_VG" mtu "$mtu"
if [ "$offload" = 1 ]; then
	ip netns exec "$HC_NSG" ethtool -K "$HC_VG" tx on > /dev/null
fi
hc_make_keys "$out/keys" 16
if [ "$auth" = 1 ]; then
	keys=(--keys "$out/keys") app=()
else
	keys=(--no-auth) app=(--no-auth)
fi
"$build/tests/hc-bigdgram" --out "$out/g" "${keys[@]}" "${gen[@]}" --seed 11
capture="$out/g.pcap"
if [ "$mode" = csum-offload-verifying ]; then
	python3 - "$out/random.pcap" $HC_GW_IP $HC_APP_IP <<'EOF'
import random, socket, struct, sys
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s
rng = random.Random(12)
src, dst = socket.inet_aton(sys.argv[2]), socket.inet_aton(sys.argv[3])
with open(sys.argv[1], 'wb') as out:
    out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    i = 0
    # payload sums of every residue (mod 65535), each one to three times
    # at random, all from one gateway: one residue's datagrams verify,
    # whatever the source port of hc-send's socket (a count wrong by a
    # residue differs two times in three)
    for r in range(65535):
        for _ in range(rng.randint(1, 3)):
            body = bytearray(rng.randbytes(22))
            body[8:10] = b'\x00\x01' # one gateway id: hc-send's one socket
            payload = bytes(body) + struct.pack('!H', (r - csum(body)) % 65535)
            udp = struct.pack('!HHHH', 40000, 7100, 32, 0) + payload
            c = ~csum(src + dst + struct.pack('!HH', 17, 32) + udp) & 0xffff or 0xffff
            udp = udp[:6] + struct.pack('!H', c) + udp[8:]
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 52, 0, 0, 64, 17, 0, src, dst)
            ip = ip[:10] + struct.pack('!H', ~csum(ip) & 0xffff) + ip[12:]
            frame = b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + ip + udp
            out.write(struct.pack('<IIII', 0, i, len(frame), len(frame)) + frame)
            i += 1
EOF
	capture="$out/random.pcap"
fi
if [ "$mode" = jumbo ]; then
	editcap -F pcapng "$out/g.pcap" "$out/g.pcapng"
	# the pcapng Section Header Block's type, not pcap's magic
	[ "$(od -An -tx1 -N4 "$out/g.pcapng" | tr -d ' ')" = 0a0d0d0a ] ||
		{ echo "FAIL: editcap did not write pcapng"; exit 1; }
	capture="$out/g.pcapng"
fi

# a replay cannot heartbeat or answer NACKs: no gateway is declared dead,
# no gap given up
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 0 \
	--gap-nacks 1000000 --dump-rooms "$out/rooms.csv" --dump-stats "$out/stats.kv" \
	"${app[@]}" > /dev/null
hc_arp_check > /dev/null || { echo "FAIL: the gateways' host cannot resolve the appliance"; exit 1; }
rx0=$(hc_tel_kv /headcount/stats | kv rx_frames /dev/stdin)

# flow control: never more frames in flight than the af_packet ring holds
send_keys=()
[ "$auth" = 0 ] || send_keys=(--keys "$out/keys")
[ "$offload" = 0 ] || send_keys+=(--csum-offload)
rate=5000
[ "$mode" != csum-offload-verifying ] || rate=50000
timeout 300 ip netns exec "$HC_NSG" "$build/tools/hc-send" --appliance $HC_APP_IP "${send_keys[@]}" \
	--rate $rate --timeout 240 --prefix "hclab$HC_TAG" --window 64 \
	--expect "$out/send.expect" "$capture" > "$out/send.log"
cat "$out/send.log"
sent=$(sed -n 's/^hc-send: sent \([0-9]*\) datagrams.*/\1/p' "$out/send.log")
need "datagrams sent" "$sent" -gt 100
verifying=0
[ "$offload" = 0 ] ||
	verifying=$(sed -n 's/^hc-send: \([0-9]*\) of them with an unfinished checksum.*/\1/p' "$out/send.log")
if [ "$mode" = csum-offload-verifying ]; then
	need "datagrams whose unfinished checksum verifies" "$verifying" -ge 1
	need "datagrams whose unfinished checksum verifies" "$verifying" -le 3
else
	need "datagrams whose unfinished checksum verifies" "$verifying" -ge 0
fi
# every frame sent has been taken off the ring (each one arrives: a veth
# does not lose, the ring never holds more than the window)
taken() { [ "$(hc_tel_kv /headcount/stats | kv rx_frames /dev/stdin)" -ge $((rx0 + sent)) ]; }
hc_wait 120 "the appliance received every frame sent" taken
hc_appliance_stop || { echo "FAIL: headcount exited with an error"; exit 1; }

# frames longer / not longer than af_packet's default framesz carries
count_frames() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
longer = shorter = 0
with open(sys.argv[1], 'rb') as f:
    f.read(24)
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        n = struct.unpack('<IIII', h)[2]
        f.seek(n, 1)
        if n > int(sys.argv[2]):
            longer += 1
        else:
            shorter += 1
print(longer, shorter)
EOF
}

st=$out/stats.kv
fail=0
case "$mode" in
jumbo | csum-offload)
	compare_rooms "$out/g.truth.csv" "$out/rooms.csv" || fail=1
	compare_kv "$out/g.expect" "$st" || fail=1
	compare_kv "$out/send.expect" "$st" || fail=1
	need rx_gathered "$(kv rx_gathered "$st")" -eq 0
	need drop_frame_cut "$(kv drop_frame_cut "$st")" -eq 0
	if [ "$mode" = jumbo ]; then
		# 4 gateways, twice each: one byte, and one record, too long
		need drop_udp_too_big "$(kv drop_udp_too_big "$st")" -eq 16
		need udp_csum_partial "$(kv udp_csum_partial "$st")" -eq 0
	else
		need udp_csum_partial "$(kv udp_csum_partial "$st")" -eq $(($(kv datagrams "$st") - verifying))
		need drop_udp_csum_partial "$(kv drop_udp_csum_partial "$st")" -eq 0
	fi
	;;
cut)
	read -r longer shorter < <(count_frames "$out/g.pcap" 1982)
	echo "  $longer frames longer than 1,982 bytes, $shorter not"
	need drop_frame_cut "$(kv drop_frame_cut "$st")" -eq "$longer"
	need datagrams "$(kv datagrams "$st")" -eq "$shorter"
	need drop_ip_bad_length "$(kv drop_ip_bad_length "$st")" -eq 0
	;;
csum-offload-no-auth | csum-offload-verifying)
	need drop_udp_csum_partial "$(kv drop_udp_csum_partial "$st")" -eq $((sent - verifying))
	if [ "$mode" = csum-offload-verifying ]; then
		# 24 bytes, shorter than any datagram's header
		need drop_truncated "$(kv drop_truncated "$st")" -eq "$verifying"
		need datagrams "$(kv datagrams "$st")" -eq 0
	else
		need datagrams "$(kv datagrams "$st")" -eq "$verifying"
	fi
	# a datagram taken as finished is applied (no keys to check)
	[ "$verifying" != 0 ] || need users "$(kv users "$st")" -eq 0
	need udp_csum_partial "$(kv udp_csum_partial "$st")" -eq 0
	;;
esac
[ "$fail" = 0 ] && echo "PASS: $mode"
exit $fail
