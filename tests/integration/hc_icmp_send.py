#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""hc_icmp_send.py - ICMP for the appliance's echo tests (netns_deploy.sh),
from a raw socket (the kernel adds the IPv4 header, never the ICMP
checksum, so a wrong one goes out as written).

  hc_icmp_send.py bad DST N          N echo requests, ICMP checksum wrong
  hc_icmp_send.py ignored DST N      N timestamp requests (type 13)
  hc_icmp_send.py flood DST N CHUNK PREFIX
      N good echo requests, CHUNK at a time; after each chunk wait (at
      most 60 s) until the appliance's telemetry (DPDK file prefix PREFIX)
      accounts for every request sent so far as icmp_echo_replies or
      drop_icmp_rate_limited.  Prints sent=, replies=, rate_limited=,
      elapsed_s= (first send to the last chunk accounted for).

Replies that come back are counted and printed (received=) after a last
look: bad and ignored requests must get none.  Exit 1 on a wait that
never ended.
"""
import importlib.util
import os
import select
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def icmp(typ, ident, seq, payload, bad=False):
    body = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + payload
    c = csum(body)
    if bad:
        c ^= 0x5a5a  # never the right one
    return body[:2] + struct.pack("!H", c) + body[4:]


def tel():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "hctel", os.path.join(here, "..", "..", "tools", "hc-tel.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def replies(s, ident):
    """Echo replies for ident waiting on s (non-blocking)."""
    n = 0
    while select.select([s], [], [], 0)[0]:
        pkt = s.recv(65535)
        ihl = (pkt[0] & 0x0f) * 4
        if len(pkt) >= ihl + 8 and pkt[ihl] == 0 and \
                struct.unpack("!H", pkt[ihl + 4:ihl + 6])[0] == ident:
            n += 1
    return n


def main():
    mode, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    ident = os.getpid() & 0xffff
    payload = bytes(range(56))
    got = 0
    if mode in ("bad", "ignored"):
        for i in range(n):
            s.sendto(icmp(8 if mode == "bad" else 13, ident, i + 1, payload,
                          bad=mode == "bad"), (dst, 0))
        time.sleep(0.5)  # a last look for replies that must not come
        got = replies(s, ident)
        print("sent=%d\nreceived=%d" % (n, got))
        return 0
    chunk, prefix = int(sys.argv[4]), sys.argv[5]
    t = tel()

    def accounted():
        st = t.command(prefix, "/headcount/stats")
        return st["icmp_echo_replies"], st["drop_icmp_rate_limited"]

    r0, l0 = accounted()
    sent = 0
    start = time.monotonic()
    while sent < n:
        k = min(chunk, n - sent)
        for i in range(k):
            s.sendto(icmp(8, ident, (sent + i + 1) & 0xffff, payload), (dst, 0))
        sent += k
        end = time.monotonic() + 60
        while True:
            r, lim = accounted()
            got += replies(s, ident)
            if (r - r0) + (lim - l0) >= sent:
                break
            if time.monotonic() > end:
                print("FAIL: within 60 s: %d requests accounted for, %d sent"
                      % ((r - r0) + (lim - l0), sent), file=sys.stderr)
                return 1
            time.sleep(0.02)
    elapsed = time.monotonic() - start
    r, lim = accounted()
    got += replies(s, ident)
    print("sent=%d\nreplies=%d\nrate_limited=%d\nelapsed_s=%.3f\nreceived=%d"
          % (sent, r - r0, lim - l0, elapsed, got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
