#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""hc_conform.py - the language-neutral conformance driver: one suite for
every headcount client library (docs/conformance.md).

It starts conformance *agents* (one client session each, any language,
behind the agent contract: commands on stdin, events on stdout), plays
their users, impairs and forges their traffic, and checks the appliance
against the agents' own truth.  Python 3 standard library only.

  hc_conform.py --agent CMD --appliance IP:PORT --keys FILE --prefix P
                --restart-request FILE [--scenarios contract,a,e,b,c,d,f] [--result FILE]

Each agent talks to the appliance through a UDP relay of this process
(agent -> relay -> appliance and back): the relay drops, duplicates and
holds back (reorders) datagrams when impairment is on, seeded, and is the
"appliance" the client sees, so forged datagrams TO the client are sent
from it.  Datagrams reaching the relay's appliance-facing socket from
anyone but the appliance are handed to the agent from another socket (the
client must refuse them: wrong source).

The truth is the union of the agents' `dump`s.  Every scenario ends with
settle(): the appliance's room table (telemetry) equals the union of the
dumps, no user is in two dumps, every dump's digest is the digest of its
members, and for every live agent the appliance's per-gateway users and
incarnation (telemetry) and the agent's status (acked = sequence,
appliance_users) equal its dump; gateways whose agent is gone count no
user.  Bounded: every wait has a count and a time.  The room-limit watch
(no room ever above max) is the caller's (tests/integration/conformance.sh).

Scenarios (docs/conformance.md says what each asserts):
  contract  options, errors, EOF, two sessions of one gateway id (id_conflict)
  a  5 % loss, 2 % duplication, 10 % held 20 ms (reordering), both ways:
     arrivals by placement, leaves, MOVEs answered, reconnects
  e  reconnects through another gateway, the old gateway's LEAVE late
  b  gateway restarts (close crash, new process, same id, new incarnation)
  c  a gateway agent killed with SIGKILL (gone after the gateway timeout)
  d  the appliance killed with SIGKILL and restarted (the caller does it
     when --restart-request FILE appears, and removes FILE when listening)
  f  forged traffic both ways: to the clients from the relays (bad tags,
     replays, truncated, oversize, stale appliance incarnation, wrong
     source), to the appliance with tools/hc-attack.py

Exit 0: every scenario passed; 1: one failed (the reason on stdout);
2: bad usage or an agent that does not keep the contract.
"""
import argparse
import collections
import heapq
import importlib.util
import os
import random
import shlex
import socket
import subprocess
import sys
import threading
import time
import queue

sys.dont_write_bytecode = True     # (no __pycache__ in tools/ from hc-tel.py)
HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.normpath(os.path.join(HERE, '..', '..', 'tools'))
_spec = importlib.util.spec_from_file_location('hc_tel', os.path.join(TOOLS, 'hc-tel.py'))
tel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tel)

MASK64 = (1 << 64) - 1
TAG_OFF, TAG_LEN = 24, 16          # the header's tag (docs/protocol.md)
AINC_OFF = 16                       # appliance_incarnation
POOL = 0


class Fail(Exception):
    """A scenario's assertion failed."""


class ContractError(Exception):
    """An agent broke the agent contract."""


def member_digest(user, room):
    """hc_member_digest (docs/protocol.md, "Membership digest")."""
    h = ((user * 0x9E3779B97F4A7C15) ^ (room * 0xC2B2AE3D27D4EB4F)) & MASK64
    h ^= h >> 31
    h = (h * 0xBF58476D1CE4E5B9) & MASK64
    return h ^ (h >> 29)


assert member_digest(0x1122334455667788, 42) == 0xc323525d4118d702


def log(msg):
    print('[%7.2f] %s' % (time.monotonic() - T0, msg), flush=True)


T0 = time.monotonic()


# ---------------------------------------------------------------- relay --

class Relay:
    """One agent's path to the appliance.  Sockets: l (the agent's
    "appliance"), f (to hand the agent datagrams from strangers), u (ours
    to the appliance: the appliance sees it as the gateway)."""

    def __init__(self, hub, name, appliance, seed):
        self.hub, self.name, self.appliance = hub, name, appliance
        self.l = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.l.bind(('127.0.0.1', 0))
        self.f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.f.bind(('127.0.0.1', 0))
        self.u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.u.bind(('0.0.0.0', 0))
        for s in (self.l, self.f, self.u):
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.port = self.l.getsockname()[1]
        self.agent = None               # the agent's address (first datagram)
        self.rng = random.Random(seed)
        self.c = collections.Counter()  # what the relay did, per direction
        self.a2g = collections.deque(maxlen=512)   # (appliance inc, payload) forwarded
        self.old = collections.defaultdict(lambda: collections.deque(maxlen=64))
        self.g2a = collections.deque(maxlen=256)   # payloads forwarded (captures)
        self.closed = False

    def close(self):
        self.closed = True
        for s in (self.l, self.f, self.u):
            s.close()

    def _send(self, sock, payload, dst, way):
        if self.hub.impair:
            if self.rng.random() < 0.05:
                self.c['dropped_' + way] += 1
                return
            copies = 2 if self.rng.random() < 0.02 else 1
            self.c['duplicated_' + way] += copies - 1
            for _ in range(copies):
                if self.rng.random() < 0.10:
                    self.c['held_' + way] += 1
                    self.hub.hold(time.monotonic() + 0.020, sock, payload, dst, self)
                else:
                    self.raw(sock, payload, dst)
            return
        self.raw(sock, payload, dst)

    def raw(self, sock, payload, dst):
        if self.closed or dst is None:
            return
        try:
            sock.sendto(payload, dst)
        except OSError:
            self.c['send_errors'] += 1

    def on_readable(self, sock):
        for _ in range(256):
            try:
                payload, src = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:         # e.g. ICMP unreachable from a dead agent
                continue
            if sock is self.l:
                self.agent = src
                self.c['g2a'] += 1
                self.g2a.append(payload)
                self._send(self.u, payload, self.appliance, 'g2a')
            elif sock is self.u:
                if src != self.appliance:
                    # not from the appliance: the client must see a stranger
                    self.c['foreign'] += 1
                    self.raw(self.f, payload, self.agent)
                    continue
                self.c['a2g'] += 1
                if len(payload) >= 40:
                    inc = int.from_bytes(payload[AINC_OFF:AINC_OFF + 4], 'big')
                    self.a2g.append((inc, payload))
                    self.old[inc].append(payload)
                self._send(self.l, payload, self.agent, 'a2g')

    # forged traffic TO the client: the relay is the appliance it knows
    def forge(self, payload, stranger=False):
        self.raw(self.f if stranger else self.l, payload, self.agent)


class Hub(threading.Thread):
    """The relays' one I/O thread: select over every socket, held
    datagrams released when due."""

    def __init__(self):
        super().__init__(daemon=True)
        self.lock = threading.Lock()
        self.relays = []
        self.held = []
        self.seq = 0
        self.impair = False
        self.stop = False

    def add(self, relay):
        with self.lock:
            self.relays.append(relay)

    def remove(self, relay):
        with self.lock:
            self.relays.remove(relay)
        relay.close()

    def hold(self, due, sock, payload, dst, relay):
        self.seq += 1
        heapq.heappush(self.held, (due, self.seq, sock, payload, dst, relay))

    def run(self):
        import select
        while not self.stop:
            with self.lock:
                socks = {}
                for r in self.relays:
                    for s in (r.l, r.u, r.f):
                        socks[s.fileno()] = (r, s)
            wait = 0.05
            if self.held:
                wait = max(0.0, min(wait, self.held[0][0] - time.monotonic()))
            try:
                ready, _, _ = select.select(list(socks), [], [], wait)
            except (OSError, ValueError):
                continue            # a relay closed meanwhile
            for fd in ready:
                r, s = socks[fd]
                if s is r.f:
                    try:
                        s.recv(65535)
                    except OSError:
                        pass
                    continue
                if not r.closed:
                    r.on_readable(s)
            now = time.monotonic()
            while self.held and self.held[0][0] <= now:
                _, _, sock, payload, dst, r = heapq.heappop(self.held)
                if sock is r.l:
                    dst = r.agent    # (the agent's address, as now)
                r.raw(sock, payload, dst)


# ---------------------------------------------------------------- agent --

class Agent:
    """One agent process and its relay."""

    def __init__(self, drv, gw, incarnation, extra=()):
        self.drv, self.gw, self.incarnation = drv, gw, incarnation
        drv.started += 1            # the relay's impairment: seeded by run and agent
        self.relay = Relay(drv.hub, 'gw%d' % gw, drv.appliance, drv.seed * 1000 + drv.started)
        drv.hub.add(self.relay)
        argv = shlex.split(drv.agent_cmd) + [
            '--appliance', '127.0.0.1:%d' % self.relay.port, '--gateway-id', str(gw),
            '--incarnation', str(incarnation)]
        key = drv.keys.get(gw)
        argv += ['--key', key[1], '--key-slot', str(key[0])] if key else ['--no-auth']
        argv += list(extra)
        self.stderr = open(os.path.join(drv.logdir, 'agent-%d-%d.log' % (gw, incarnation)), 'w')
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, bufsize=1)
        self.q = queue.Queue()
        self.alive = True
        self.states = []
        self.errors = collections.Counter()
        self.moves = 0
        threading.Thread(target=self._read, daemon=True).start()
        line = self.next_line(30)
        if line is None or not line.startswith('ready '):
            raise ContractError('gateway %d: expected "ready PORT", got %r' % (gw, line))
        self.port = int(line.split()[1])

    def _read(self):
        for line in self.proc.stdout:
            self.q.put(line.rstrip('\n'))
        self.q.put(None)

    def next_line(self, timeout):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return None

    def send(self, line):
        if not self.alive:
            return
        try:
            self.proc.stdin.write(line + '\n')
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise ContractError('gateway %d: agent gone (writing %r)' % (self.gw, line))

    def request(self, cmd, end, timeout=20):
        """Send cmd; collect lines until one starting with `end` (events
        met on the way are handled).  Returns (collected, last)."""
        self.send(cmd)
        got = []
        deadline = time.monotonic() + timeout
        word = cmd.split()[0]
        while time.monotonic() < deadline:
            line = self.next_line(max(0.01, deadline - time.monotonic()))
            if line is None:
                break
            if line.startswith(end):
                return got, line
            if line.startswith('error %s ' % word) and word in ('dump', 'status'):
                raise ContractError('gateway %d: %s' % (self.gw, line))
            if not self.drv.handle(self, line):
                got.append(line)
        raise ContractError('gateway %d: no %r after %r within %d s' % (self.gw, end, cmd, timeout))

    def dump(self):
        lines, last = self.request('dump', 'dumped ')
        members = {}
        for ln in lines:
            t = ln.split()
            if t[0] != 'member' or len(t) != 4:
                raise ContractError('gateway %d: not a member line: %r' % (self.gw, ln))
            u = int(t[1])
            if u in members:
                raise ContractError('gateway %d: user %d dumped twice' % (self.gw, u))
            members[u] = (int(t[2]), int(t[3]))
        t = last.split()
        count, digest = int(t[1]), int(t[2])
        if count != len(members):
            raise ContractError('gateway %d: dumped %d, %d member lines' % (self.gw, count, len(members)))
        want = sum(member_digest(u, r) for u, (r, _) in members.items()) & MASK64
        if digest != want:
            raise ContractError('gateway %d: digest %d, members say %d' % (self.gw, digest, want))
        return members

    def status(self):
        _, last = self.request('status', 'status ')
        st = {}
        for kv in last.split()[1:]:
            k, _, v = kv.partition('=')
            st[k] = int(v) if v.lstrip('-').isdigit() else v
        for k in ('users', 'sequence', 'acked', 'appliance_users', 'appliance_incarnation',
                  'state', 'snapshots', 'retransmits', 'rx_bad_auth', 'rx_dropped'):
            if k not in st:
                raise ContractError('gateway %d: status without %s=: %r' % (self.gw, k, last))
        return st

    def close(self, how):
        """close clean|crash: the agent says `closed` and exits 0."""
        self.send('close ' + how)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.next_line(max(0.01, deadline - time.monotonic()))
            if line is None:
                break
            if line == 'closed':
                break
            self.drv.handle(self, line)
        else:
            line = None
        if line != 'closed':
            raise ContractError('gateway %d: no "closed" after close %s' % (self.gw, how))
        rc = self.proc.wait(20)
        if rc != 0:
            raise ContractError('gateway %d: exit status %d after close' % (self.gw, rc))
        self._gone()

    def kill(self):
        self.proc.kill()
        self.proc.wait(20)
        self._gone()

    def _gone(self):
        self.alive = False
        self.drv.hub.remove(self.relay)
        self.stderr.close()


# --------------------------------------------------------------- driver --

class User:
    __slots__ = ('state', 'gw', 'room', 'late')

    def __init__(self):
        self.state = 'idle'   # idle, placing, present
        self.gw = 0
        self.room = 0
        self.late = None      # (due, old gw): the old gateway's LEAVE owed


class Driver:
    def __init__(self, args):
        self.agent_cmd = args.agent
        host, _, port = args.appliance.partition(':')
        self.appliance = (host, int(port or 7100))
        self.prefix = args.prefix
        self.restart_request = args.restart_request
        self.seed = args.seed
        self.rng = random.Random(args.seed)
        self.logdir = args.logdir
        self.keys = {}
        if args.keys:
            with open(args.keys) as f:
                for line in f:
                    t = line.split()
                    if len(t) == 3 and not t[0].startswith('#'):
                        gw, slot = int(t[0]), int(t[1])
                        if gw not in self.keys or slot > self.keys[gw][0]:
                            self.keys[gw] = (slot, t[2])
        self.hub = Hub()
        self.hub.start()
        self.agents = {}      # gw id -> live Agent
        self.dead = set()     # gw ids whose agent is gone for good
        self.incs = {}        # gw id -> last incarnation
        self.started = 0      # agents started
        self.users = {}
        self.ids = [1000000 + i for i in range(args.users)]
        for u in self.ids:
            self.users[u] = User()
        self.c = collections.Counter()
        self.result = collections.OrderedDict()
        self.reconnected = {}  # user -> gw (scenario e)
        self.late = set()      # users whose old gateway owes a LEAVE
        self.named = collections.Counter()  # (gw, user): assign and move lines seen

    # -- agents
    def start_agent(self, gw, extra=()):
        inc = max(int(time.time() * 8) & 0x7fffffff, self.incs.get(gw, 0) + 1)
        self.incs[gw] = inc
        a = Agent(self, gw, inc, extra)
        self.agents[gw] = a
        self.dead.discard(gw)
        return a

    def forget_users_of(self, gw):
        for u in self.users.values():
            if u.state != 'idle' and u.gw == gw:
                u.state, u.late = 'idle', None
            if u.late is not None and u.late[1] == gw:
                u.late = None

    # -- events
    def handle(self, a, line):
        """An event line: act on it; True if it was one."""
        t = line.split()
        if not t:
            return True
        kind = t[0]
        if kind == 'assign' and len(t) == 7:
            user, req, status, room, refused, pool = int(t[1]), int(t[2]), t[3], int(t[4]), int(t[5]), int(t[6])
            self.c['assign_' + status] += 1
            self.named[(a.gw, user)] += 1
            u = self.users.get(user)
            if u is None:
                return True
            if status == 'placed':
                if u.state == 'placing' and u.gw == a.gw:
                    a.send('join %d %d %d' % (user, room, pool))
                    u.state, u.room = 'present', room
            elif status in ('timeout', 'no_room') and req != 0:
                if u.state == 'placing' and u.gw == a.gw:
                    u.state = 'idle'
            elif status == 'new_topic':
                if u.state == 'present' and u.gw == a.gw:
                    u.room = room
            elif status in ('no_room', 'full', 'superseded'):
                # the client dropped the user (no LEAVE): if it was the
                # user's gateway in our eyes, the user is gone
                if u.state == 'present' and u.gw == a.gw and u.room == refused:
                    u.state, u.late = 'idle', None
                elif u.late is not None and u.late[1] == a.gw:
                    u.late = None
            else:
                raise ContractError('gateway %d: unknown assign status %r' % (a.gw, line))
            return True
        if kind == 'move' and len(t) == 7:
            user, frm, to, pool = int(t[1]), int(t[2]), int(t[3]), int(t[5])
            self.c['moves'] += 1
            self.named[(a.gw, user)] += 1
            u = self.users.get(user)
            if u is not None and u.state == 'present' and u.gw == a.gw and u.room == frm:
                a.send('join %d %d %d' % (user, to, pool))
                u.room = to
                self.c['moves_answered'] += 1
            return True
        if kind == 'state' and len(t) == 2:
            a.states.append(t[1])
            self.c['state_' + t[1]] += 1
            return True
        if kind == 'error':
            a.errors[t[1] if len(t) > 1 else '?'] += 1
            return True
        if kind in ('fatal',):
            raise ContractError('gateway %d: %s' % (a.gw, line))
        return False

    def pump(self, seconds=0.0):
        """Handle every event line waiting (for `seconds` more)."""
        end = time.monotonic() + seconds
        while True:
            for a in list(self.agents.values()):
                for _ in range(10000):
                    try:
                        line = a.q.get_nowait()
                    except queue.Empty:
                        break
                    if line is None:
                        raise ContractError('gateway %d: agent exited (status %s)'
                                            % (a.gw, a.proc.poll()))
                    if not self.handle(a, line):
                        raise ContractError('gateway %d: unexpected line %r' % (a.gw, line))
            self.late_leaves(time.monotonic())
            if time.monotonic() >= end:
                return
            time.sleep(0.005)

    def late_leaves(self, now, all_=False):
        for user in list(self.late):
            u = self.users[user]
            if u.late is None:
                self.late.discard(user)
            elif all_ or u.late[0] <= now:
                self.late.discard(user)
                old = self.agents.get(u.late[1])
                u.late = None
                if old is not None:
                    old.send('leave %d' % user)
                    self.c['late_leaves'] += 1

    # -- workload
    def workload(self, seconds, arrive_hz, leave_hz, reconnect=0.0, events=()):
        """Users arrive by placement, leave, reconnect elsewhere (the old
        gateway's LEAVE late); MOVEs are answered by pump(). events:
        (at_s, fn) done once when due."""
        events = sorted(events, key=lambda e: e[0])
        start = time.monotonic()
        done_arr = done_leave = 0
        while True:
            el = time.monotonic() - start
            while events and events[0][0] <= el:
                events.pop(0)[1]()
            if el >= seconds:
                break
            live = list(self.agents)
            while done_arr < el * arrive_hz:
                done_arr += 1
                idle = [x for x in self.rng.sample(self.ids, 32) if self.users[x].state == 'idle'
                        and self.users[x].late is None]
                if idle and live:
                    x = idle[0]
                    gw = self.rng.choice(live)
                    self.users[x].state, self.users[x].gw = 'placing', gw
                    self.agents[gw].send('place %d %d' % (x, POOL))
                    self.c['places'] += 1
            while done_leave < el * leave_hz:
                done_leave += 1
                pres = [x for x in self.rng.sample(self.ids, 32) if self.users[x].state == 'present']
                if not pres:
                    continue
                x = pres[0]
                u = self.users[x]
                others = [g for g in live if g != u.gw]
                if others and u.late is None and self.rng.random() < reconnect:
                    g2 = self.rng.choice(others)
                    self.agents[g2].send('join %d %d %d' % (x, u.room, POOL))
                    # half the late LEAVEs at once (they may overtake the
                    # appliance's SUPERSEDED to the old gateway), half later
                    delay = 0 if self.rng.random() < 0.5 else self.rng.uniform(0.05, 0.3)
                    u.late = (time.monotonic() + delay, u.gw)
                    self.late.add(x)
                    u.gw = g2
                    self.reconnected[x] = g2
                    self.c['reconnects'] += 1
                else:
                    self.agents[u.gw].send('leave %d' % x)
                    self.c['leaves'] += 1
                    u.state = 'idle'
                    self.reconnected.pop(x, None)
                    if u.late is not None:     # owed: say it now
                        old = self.agents.get(u.late[1])
                        u.late = None
                        if old is not None:
                            old.send('leave %d' % x)
                            self.c['late_leaves'] += 1
            self.pump(0.01)
        self.late_leaves(0, all_=True)

    # -- the truth and the comparison
    def appliance_gateways(self):
        # every gateway, every page, one dict of fields each
        return tel.gateways(self.prefix)

    def settle(self, label, bound=90):
        """Wait (bounded) until the appliance equals the agents' truth
        exactly; return seconds taken, raise Fail with the differences."""
        start = time.monotonic()
        why = 'never compared'
        tries = 0
        while time.monotonic() - start < bound:
            tries += 1
            self.pump(0.2 if tries > 1 else 0)
            if any(u.state == 'placing' for u in self.users.values()) and \
                    time.monotonic() - start < bound / 2:
                why = 'placements in flight'
                continue
            # (the lines named so far: a MOVE handled while the dumps
            # and statuses below are asked for changes a member later)
            named = collections.Counter(self.named)
            dumps = {gw: a.dump() for gw, a in self.agents.items()}
            sts = {gw: a.status() for gw, a in self.agents.items()}
            where = {}
            twice = []
            truth = collections.Counter()
            for gw, m in dumps.items():
                for user, (room, _) in m.items():
                    if user in where:
                        twice.append(user)
                    where[user] = gw
                    truth[room] += 1
            try:
                rooms = dict(tel.rooms(self.prefix))
                gws = self.appliance_gateways()
            except (OSError, ValueError, KeyError, TypeError) as e:
                why = 'telemetry: %s' % e
                continue
            diff = [(r, truth.get(r, 0), rooms.get(r, 0)) for r in sorted(set(truth) | set(rooms))
                    if truth.get(r, 0) != rooms.get(r, 0)]
            bad = []
            for gw, m in dumps.items():
                st, ag = sts[gw], gws.get(gw, {})
                if int(ag.get('users', -1)) != len(m):
                    bad.append('gw %d: appliance counts %s users, dump %d' % (gw, ag.get('users'), len(m)))
                if int(ag.get('incarnation', -1)) != self.agents[gw].incarnation:
                    bad.append('gw %d: appliance incarnation %s, agent %d'
                               % (gw, ag.get('incarnation'), self.agents[gw].incarnation))
                if st['users'] != len(m) or st['appliance_users'] != len(m) or st['acked'] != st['sequence']:
                    bad.append('gw %d: status users=%d appliance_users=%d acked=%d sequence=%d, dump %d'
                               % (gw, st['users'], st['appliance_users'], st['acked'], st['sequence'], len(m)))
                # user by user: the digest of what the appliance holds for
                # this gateway (its telemetry, and the heartbeats the client
                # reports) is the digest of the dump
                want = sum(member_digest(u, r) for u, (r, _) in m.items()) & MASK64
                if int(ag.get('digest', -1)) != want:
                    bad.append('gw %d: the appliance\'s digest %s, dump digest %d'
                               % (gw, ag.get('digest'), want))
                if 'appliance_digest' in st:
                    if st['appliance_digest'] != want:
                        bad.append('gw %d: appliance digest %d, dump digest %d'
                                   % (gw, st['appliance_digest'], want))
                        self.c['digest_compared_differ'] += 1
                    else:
                        self.c['digest_compared'] += 1
            for gw in self.dead:
                if gw not in self.agents and int(gws.get(gw, {}).get('users', 0)) != 0:
                    bad.append('gw %d (gone): appliance counts %s users' % (gw, gws[gw]['users']))
            if not diff and not twice and not bad:
                took = time.monotonic() - start
                n = sum(truth.values())
                log('%s: exact: %d users in %d rooms, %d gateways (%.2f s, %d comparisons)'
                    % (label, n, len(truth), len(dumps), took, tries))
                self.truth, self.dumps, self.statuses = truth, dumps, sts
                self.dumps_named = named
                return took
            if diff:
                why = '%d rooms differ (room, truth, appliance): %s' % (len(diff), diff[:8])
                if twice:
                    why += '; users in two dumps: %s' % twice[:8]
                why += ''.join('; ' + b for b in bad[:8])
            elif twice:
                why = 'users in two dumps: %s' % twice[:8] + ''.join('; ' + b for b in bad[:8])
            else:
                why = '; '.join(bad[:8])
        raise Fail('%s: not exact within %d s (%d comparisons): %s' % (label, bound, tries, why))

    def gateway_ip(self):
        """Our address towards the appliance (what it sees of the relays)."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(self.appliance)
            return s.getsockname()[0]

    def app_stats(self):
        return tel.command(self.prefix, '/headcount/stats')

    def need(self, what, ok, value):
        log('  %s: %s%s' % (what, value, '' if ok else '  <-- FAIL'))
        if not ok:
            raise Fail(what + ': ' + str(value))

    def sum_status(self, key):
        return sum(a.status().get(key, 0) for a in self.agents.values())

    # ------------------------------------------------------- scenarios --
    def shrink_room(self, keep=5, bound=60):
        """The fullest room loses all but `keep` users (LEAVEs): below the
        pool's min (15 by default), the balancer moves the rest out with
        MOVE directives, which pump() answers.  Returns MOVEs answered."""
        self.pump(0.5)
        rooms = collections.defaultdict(list)
        for user, u in self.users.items():
            if u.state == 'present' and u.late is None:
                rooms[u.room].append(user)
        room = max(rooms, key=lambda r: len(rooms[r]))
        m0 = self.c['moves_answered']
        for user in rooms[room][keep:]:
            u = self.users[user]
            self.agents[u.gw].send('leave %d' % user)
            u.state = 'idle'
            self.c['leaves'] += 1
        log('  room %d: %d users leave, %d stay' % (room, len(rooms[room]) - keep, keep))
        end = time.monotonic() + bound
        while self.c['moves_answered'] - m0 < keep and time.monotonic() < end:
            self.pump(0.1)
        return self.c['moves_answered'] - m0

    def wait_gw_users(self, gw, want, bound=30):
        end = time.monotonic() + bound
        got = None
        while time.monotonic() < end:
            got = int(self.appliance_gateways().get(gw, {}).get('users', 0))
            if got == want:
                return
            self.pump(0.1)
        raise Fail('the appliance counts %s users for gateway %d, not %d' % (got, gw, want))

    def read_until(self, a, prefix, bound=20):
        """The agent's next line starting with prefix (events on the way
        handled as events); None at EOF or after bound seconds."""
        end = time.monotonic() + bound
        while time.monotonic() < end:
            line = a.next_line(max(0.01, end - time.monotonic()))
            if line is None or line.startswith(prefix):
                return line
            self.handle(a, line)
        return None

    def scenario_contract(self):
        log('contract: options, errors, EOF, state id_conflict (gateways 9, 10)')
        argv = shlex.split(self.agent_cmd) + ['--appliance', '%s:%d' % self.appliance,
                                              '--gateway-id', '9', '--no-such-option']
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        self.need('an unknown option: exit status 2, nothing on stdout',
                  p.returncode == 2 and p.stdout == '', 'status %d, stdout %r' % (p.returncode, p.stdout[:80]))
        # a bad --max-rooms is a bad number: exit status 2
        for bad in ('1', '4294967296', 'x'):
            p = subprocess.run(argv[:-1] + ['--no-auth', '--max-rooms', bad], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=60)
            self.need('--max-rooms %s: exit status 2, nothing on stdout' % bad,
                      p.returncode == 2 and p.stdout == '', 'status %d, stdout %r' % (p.returncode, p.stdout[:80]))
        # the appliance's --max-rooms (its default): a room id from it up is
        # refused by the client, never sent (the appliance would drop the
        # datagram whole, and every resend of it)
        a = self.start_agent(9, ['--max-rooms', '262144'])
        del self.agents[9]          # driven here, not by the workload
        a.send('join 44 262144 0')
        line = self.read_until(a, 'error ')
        self.need('a join into a room past --max-rooms: "error join ..."',
                  line is not None and line.startswith('error join '), line)
        a.send('join 42 4242 0')
        a.send('no-such-command 1')
        line = self.read_until(a, 'error ')
        self.need('an unknown command: "error no-such-command ..."',
                  line is not None and line.startswith('error no-such-command '), line)
        a.send('leave 43')
        line = self.read_until(a, 'error ')
        self.need('a leave of a user not held: "error leave ..."',
                  line is not None and line.startswith('error leave '), line)
        m = a.dump()
        self.need('dump after a join', m == {42: (4242, 0)}, m)
        self.wait_gw_users(9, 1)
        self.need('"ready PORT" is the port the agent sends from', a.relay.agent is not None and
                  a.relay.agent[1] == a.port, '%d, relay saw %s' % (a.port, a.relay.agent))
        a.proc.stdin.close()        # EOF: close clean
        line = self.read_until(a, 'closed')
        rc = a.proc.wait(20)
        self.need('EOF on stdin: "closed", exit status 0', line == 'closed' and rc == 0,
                  '%r, status %d' % (line, rc))
        a._gone()
        self.dead.add(9)
        self.wait_gw_users(9, 0)
        # two live sessions of one gateway id: both must hear of it
        twins = []
        for i in range(2):
            twins.append(self.start_agent(10))
            del self.agents[10]
            twins[-1].send('join %d 4343 0' % (50 + i))
        end = time.monotonic() + 60
        while time.monotonic() < end and not all('id_conflict' in t.states for t in twins):
            for t in twins:
                while True:
                    try:
                        line = t.q.get_nowait()
                    except queue.Empty:
                        break
                    if line is not None:
                        self.handle(t, line)
            time.sleep(0.05)
        self.need('two sessions with one gateway id: both say "state id_conflict"',
                  all('id_conflict' in t.states for t in twins), [t.states for t in twins])
        sts = [t.status() for t in twins]   # (both before either closes)
        for st in sts:
            self.need('status state= while in conflict', st['state'] == 'id_conflict', st['state'])
        for t in twins:
            t.close('clean')
        self.dead.add(10)
        self.wait_gw_users(10, 0)

    def scenario_a(self):
        log('a: 5 % loss, 2 % duplication, 10 % held 20 ms, both ways; '
            'arrivals, leaves, moves, reconnects')
        s0 = self.app_stats()
        r0 = self.sum_status('retransmits') + self.sum_status('snapshots')
        self.hub.impair = True
        self.workload(6, arrive_hz=250, leave_hz=60, reconnect=0.1)
        moved = self.shrink_room()
        took = self.settle('a', bound=120)
        self.need('MOVEs answered by a join (a room shrunk below min)', moved > 0, moved)
        self.hub.impair = False
        s1 = self.app_stats()
        rc = collections.Counter()
        for a in self.agents.values():
            rc.update(a.relay.c)
        for k in ('dropped_g2a', 'dropped_a2g', 'duplicated_g2a', 'duplicated_a2g',
                  'held_g2a', 'held_a2g'):
            self.need('relays ' + k, rc[k] > 0, rc[k])
        self.need('appliance seq_nacks (gaps seen)', s1['seq_nacks'] > s0['seq_nacks'],
                  s1['seq_nacks'] - s0['seq_nacks'])
        self.need('appliance seq_duplicates', s1['seq_duplicates'] > s0['seq_duplicates'],
                  s1['seq_duplicates'] - s0['seq_duplicates'])
        self.need('appliance seq_lost (nothing given up)', s1['seq_lost'] == s0['seq_lost'],
                  s1['seq_lost'] - s0['seq_lost'])
        rep = self.sum_status('retransmits') + self.sum_status('snapshots') - r0
        self.need('client repairs (retransmits + snapshots)', rep > 0, rep)
        self.result['a_settle_s'] = '%.2f' % took
        self.result['a_relay_dropped'] = rc['dropped_g2a'] + rc['dropped_a2g']

    def scenario_e(self):
        log('e: reconnects through another gateway, the old LEAVE late')
        s0 = self.app_stats()
        self.reconnected = {}
        self.workload(4, arrive_hz=150, leave_hz=120, reconnect=0.6)
        self.settle('e', bound=90)
        s1 = self.app_stats()
        n = self.c['reconnects']
        checked = 0
        for user, gw in self.reconnected.items():
            u = self.users[user]
            if u.state != 'present' or u.gw != gw:
                continue
            holders = [g for g, m in self.dumps.items() if user in m]
            if holders != [gw]:
                raise Fail('e: user %d reconnected through gateway %d is held by %s' % (user, gw, holders))
            checked += 1
        self.need('reconnected users held once, by the newest session\'s gateway', checked > 0, checked)
        self.need('appliance takeovers', s1['takeovers'] > s0['takeovers'], s1['takeovers'] - s0['takeovers'])
        self.need('users counted once (appliance users == union of dumps)',
                  s1['users'] == sum(self.truth.values()), s1['users'])
        log('  late LEAVEs sent %d (the rest were dropped by the old gateway on SUPERSEDED: %d);'
            ' appliance not_owner +%d, superseded JOINs +%d'
            % (self.c['late_leaves'], self.c['assign_superseded'], s1['not_owner'] - s0['not_owner'],
               s1['superseded'] - s0['superseded']))
        self.result['e_reconnects'] = n

    def scenario_b(self):
        log('b: gateway restarts (close crash, a new process, same id, new incarnation)')
        victims = sorted(self.agents)[:2]
        restarts = []

        def restart(gw):
            def go():
                old = self.agents[gw]
                n = sum(1 for u in self.users.values() if u.state == 'present' and u.gw == gw)
                old.close('crash')
                self.forget_users_of(gw)
                a = self.start_agent(gw)
                restarts.append((gw, old.incarnation, a.incarnation, n))
                log('  gateway %d crashed with %d users, restarted: incarnation %d -> %d'
                    % (gw, n, old.incarnation, a.incarnation))
            return go
        s0 = self.app_stats()
        self.workload(4, arrive_hz=200, leave_hz=40, reconnect=0.05,
                      events=[(1.5, restart(victims[0])), (2.8, restart(victims[1]))])
        self.settle('b', bound=90)
        s1 = self.app_stats()
        self.need('gateways restarted', len(restarts) == 2, len(restarts))
        self.need('appliance user_drops (a newer incarnation drops the old users)',
                  s1['user_drops'] - s0['user_drops'] >= 2, s1['user_drops'] - s0['user_drops'])
        self.need('appliance snap_swept', s1['snap_swept'] > s0['snap_swept'],
                  s1['snap_swept'] - s0['snap_swept'])
        self.result['b_restarts'] = len(restarts)

    def scenario_c(self):
        log('c: a gateway agent killed with SIGKILL')
        self.workload(2, arrive_hz=200, leave_hz=20)
        self.settle('c, before', bound=90)
        gw = max(self.agents)
        n = len(self.dumps[gw])
        self.need('victim gateway %d holds users' % gw, n > 0, n)
        s0 = self.app_stats()
        a = self.agents.pop(gw)
        a.kill()
        t = time.monotonic()
        self.forget_users_of(gw)
        self.dead.add(gw)
        self.settle('c, after SIGKILL of gateway %d (%d users)' % (gw, n), bound=60)
        s1 = self.app_stats()
        self.need('appliance gateway_deaths', s1['gateway_deaths'] > s0['gateway_deaths'],
                  s1['gateway_deaths'] - s0['gateway_deaths'])
        self.result['c_exact_after_kill_s'] = '%.2f' % (time.monotonic() - t)

    def scenario_d(self):
        log('d: the appliance killed with SIGKILL and restarted')
        self.workload(2, arrive_hz=200, leave_hz=20)
        self.settle('d, before', bound=90)
        before = {gw: a.status() for gw, a in self.agents.items()}
        told0 = {gw: a.states.count('appliance_restarted') for gw, a in self.agents.items()}
        users = sum(self.truth.values())
        if not self.restart_request:
            raise Fail('d: no --restart-request')
        with open(self.restart_request, 'w') as f:
            f.write('restart\n')
        t = time.monotonic()
        while os.path.exists(self.restart_request):
            if time.monotonic() - t > 200:
                raise Fail('d: the appliance was not restarted within 200 s')
            # users keep coming and going meanwhile (PLACEs may time out)
            self.workload(0.5, arrive_hz=40, leave_hz=20)
        log('  appliance restarted and listening after %.1f s' % (time.monotonic() - t))
        self.settle('d, rebuilt from the snapshots (%d users before)' % users, bound=120)
        took = time.monotonic() - t
        after = {gw: a.status() for gw, a in self.agents.items()}
        for gw in after:
            self.need('gw %d appliance_incarnation changed' % gw,
                      after[gw]['appliance_incarnation'] != before[gw]['appliance_incarnation'],
                      '%d -> %d' % (before[gw]['appliance_incarnation'], after[gw]['appliance_incarnation']))
            self.need('gw %d snapshots sent' % gw, after[gw]['snapshots'] > before[gw]['snapshots'],
                      after[gw]['snapshots'] - before[gw]['snapshots'])
            told = self.agents[gw].states.count('appliance_restarted') - told0[gw]
            self.need('gw %d told: state appliance_restarted' % gw, told >= 1, told)
            self.need('gw %d state connected again' % gw, after[gw]['state'] == 'connected',
                      after[gw]['state'])
        s = self.app_stats()
        # (users came and went during the outage: the members restated are
        # not the users before; every agent's snapshot was asserted above)
        self.need('appliance snapshots (one per gateway at least)', s['snapshots'] >= len(after),
                  s['snapshots'])
        self.need('appliance snapshot_members', s['snapshot_members'] > 0, s['snapshot_members'])
        self.result['d_exact_after_restart_request_s'] = '%.2f' % took
        self.result['d_users'] = users
        self.workload(2, arrive_hz=150, leave_hz=40)
        self.settle('d, after more traffic', bound=90)

    def scenario_f(self):
        log('f: forged traffic to the clients (from the relays) and to the appliance')
        self.settle('f, before', bound=90)
        before_dumps = self.dumps
        named0 = self.dumps_named   # as the dumps were taken
        st0 = {gw: a.status() for gw, a in self.agents.items()}
        sent = {}
        rng = random.Random(self.seed + 77)
        for gw, a in self.agents.items():
            r = a.relay
            cur = [p for inc, p in list(r.a2g) if inc == st0[gw]['appliance_incarnation']][-64:]
            stale = []
            for inc, dq in list(r.old.items()):
                if inc != st0[gw]['appliance_incarnation']:
                    stale += list(dq)
            k = collections.Counter()
            if len(cur) < 20:
                raise Fail('f: gateway %d: only %d genuine datagrams recorded' % (gw, len(cur)))
            for i in range(20):     # bad tags
                p = bytearray(rng.choice(cur))
                p[TAG_OFF + rng.randrange(TAG_LEN)] ^= 1 << rng.randrange(8)
                r.forge(bytes(p))
                k['bad_tag'] += 1
            for i in range(20):     # replays of genuine datagrams (already delivered)
                r.forge(rng.choice(cur))
                k['replay'] += 1
            for i in range(10):     # truncated
                p = rng.choice(cur)
                r.forge(p[:rng.randrange(1, len(p))])
                k['truncated'] += 1
            for i in range(10):     # oversize
                p = rng.choice(cur)
                r.forge(p + bytes(rng.randrange(1, 3000)))
                k['oversize'] += 1
            for p in stale[-20:]:   # an older appliance incarnation's genuine datagrams
                r.forge(p)
                k['stale'] += 1
            for i in range(10):     # genuine datagrams from a stranger's address
                r.forge(rng.choice(cur), stranger=True)
                k['wrong_source'] += 1
            sent[gw] = k
        total = {gw: sum(k.values()) for gw, k in sent.items()}
        end = time.monotonic() + 30
        while True:
            st1 = {gw: a.status() for gw, a in self.agents.items()}
            if all(st1[gw]['rx_dropped'] - st0[gw]['rx_dropped'] >= total[gw] for gw in sent) or \
                    time.monotonic() > end:
                break
            self.pump(0.2)
        self.pump(0.5)
        st1 = {gw: a.status() for gw, a in self.agents.items()}
        for gw, k in sent.items():
            d = {key: st1[gw][key] - st0[gw][key] for key in st1[gw]
                 if isinstance(st1[gw][key], int) and key in st0[gw]}
            self.need('gw %d: forged %s, rx_dropped' % (gw, dict(k)), d['rx_dropped'] == total[gw],
                      d['rx_dropped'])
            lo, hi = k['bad_tag'], k['bad_tag'] + k['truncated'] + k['oversize']
            self.need('gw %d: rx_bad_auth in [%d, %d]' % (gw, lo, hi), lo <= d['rx_bad_auth'] <= hi,
                      d['rx_bad_auth'])
            for key, want in (('rx_replayed', k['replay']), ('rx_stale', k['stale']),
                              ('rx_wrong_source', k['wrong_source'])):
                if key in d:        # optional keys: checked where a client has them
                    self.need('gw %d: %s' % (gw, key), d[key] == want, d[key])
        self.result['f_forged_to_clients'] = sum(total.values())
        self.result['f_stale_to_clients'] = sum(k['stale'] for k in sent.values())
        self.settle('f, after the forgeries to the clients', bound=60)
        # member by member: a forged datagram changes no gateway's table;
        # a member that changed must have been named by a genuine ASSIGN or
        # MOVE the agent reported meanwhile (the appliance may still move or
        # refuse someone on its own: the end of a restart hold, a split)
        changed = []
        for gw in sorted(set(before_dumps) | set(self.dumps)):
            b, n = before_dumps.get(gw, {}), self.dumps.get(gw, {})
            for u in sorted(set(b) | set(n)):
                if b.get(u) != n.get(u):
                    changed.append((gw, u, b.get(u), n.get(u), self.named[(gw, u)] - named0[(gw, u)]))
        unexplained = [x for x in changed if x[4] == 0]
        for gw, u, was, now, lines in (unexplained + [x for x in changed if x[4] != 0])[:16]:
            log('  gw %d user %d: %s -> %s (assign/move lines for it meanwhile: %d)'
                % (gw, u, was, now, lines))
        self.result['f_members_changed'] = len(changed)
        self.need('members changed by the forgeries (none unless named by a genuine line)',
                  not unexplained, '%d changed, %d unexplained' % (len(changed), len(unexplained)))
        # to the appliance: tools/hc-attack.py on a capture made of the relays' records
        cap = os.path.join(self.logdir, 'capture')
        gw_ip = self.gateway_ip()
        n = 0
        with open(cap, 'w') as f:
            for a in self.agents.values():
                r = a.relay
                port = r.u.getsockname()[1]
                for p in list(r.g2a):
                    f.write('g2a %s %d %s %d %s\n' % (gw_ip, port, self.appliance[0], self.appliance[1], p.hex()))
                    n += 1
                for _, p in list(r.a2g)[-64:]:
                    f.write('a2g %s %d %s %d %s\n' % (self.appliance[0], self.appliance[1], gw_ip, port, p.hex()))
                    n += 1
        s0 = self.app_stats()
        st0 = {gw: a.status() for gw, a in self.agents.items()}
        foreign0 = sum(a.relay.c['foreign'] for a in self.agents.values())
        res = os.path.join(self.logdir, 'attack.kv')
        with open(os.path.join(self.logdir, 'attack.log'), 'w') as lf:
            p = subprocess.Popen([sys.executable, os.path.join(TOOLS, 'hc-attack.py'), 'attack',
                                  '--capture', cap,
                                  '--appliance', '%s:%d' % self.appliance, '--result', res,
                                  '--seed', str(self.seed)], stdout=lf, stderr=subprocess.STDOUT)
            end = time.monotonic() + 120
            while p.poll() is None and time.monotonic() < end:
                self.pump(0.1)
            if p.poll() is None:
                p.kill()
                raise Fail('f: hc-attack.py did not finish within 120 s')
            if p.returncode != 0:
                raise Fail('f: hc-attack.py exit status %d' % p.returncode)
        att = {}
        with open(res) as f:
            for line in f:
                k, _, v = line.strip().partition('=')
                att[k] = int(v)
        log('  hc-attack.py sent %d datagrams (%d captured records)' % (att['sent_total'], n))
        whys = ('auth_missing', 'auth_bad_tag', 'auth_no_key', 'truncated', 'bad_magic',
                'bad_version', 'bad_length')
        end = time.monotonic() + 60
        while True:
            s1 = self.app_stats()
            d = {w: s1['drop_' + w] - s0['drop_' + w] for w in whys}
            if all(d[w] >= att['expect_' + w] for w in whys) or time.monotonic() > end:
                break
            self.pump(0.2)
        for w in whys:
            self.need('appliance drop_%s' % w, d[w] == att['expect_' + w], '%d of %d' % (d[w], att['expect_' + w]))
        self.need('datagrams sent back to the attacker', att['replies_received'] == 0, att['replies_received'])
        foreign = sum(a.relay.c['foreign'] for a in self.agents.values()) - foreign0
        self.need('forged answers reaching the gateways\' relays', foreign == att['sent_to_gateways'],
                  '%d of %d' % (foreign, att['sent_to_gateways']))
        end = time.monotonic() + 30
        while True:
            st1 = {gw: a.status() for gw, a in self.agents.items()}
            dropped = sum(st1[gw]['rx_dropped'] - st0[gw]['rx_dropped'] for gw in st1)
            if dropped >= foreign or time.monotonic() > end:
                break
            self.pump(0.2)
        self.need('clients dropped every forged answer (rx_dropped)', dropped == foreign, dropped)
        self.result['f_forged_to_appliance'] = att['sent_total']
        self.settle('f, after the attack on the appliance', bound=90)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--agent', required=True, help='the agent command line (split like a shell)')
    ap.add_argument('--appliance', required=True, help='IP:PORT')
    ap.add_argument('--keys', help='the appliance\'s keys file (GATEWAY SLOT HEX32); none: --no-auth')
    ap.add_argument('--prefix', required=True, help='the appliance\'s telemetry file prefix (its EAL --file-prefix)')
    ap.add_argument('--restart-request', help='scenario d: the file whose removal says the appliance restarted')
    ap.add_argument('--scenarios', default='contract,a,e,b,c,d,f')
    ap.add_argument('--gateways', type=int, default=4)
    ap.add_argument('--users', type=int, default=4000, help='user ids in play')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--logdir', default='.')
    ap.add_argument('--result', help='key=value figures')
    args = ap.parse_args()
    drv = Driver(args)
    rc = 0
    try:
        for gw in range(1, args.gateways + 1):
            drv.start_agent(gw)
        log('%d agents ready: %s' % (len(drv.agents), args.agent))
        drv.settle('start', bound=60)
        for s in args.scenarios.split(','):
            getattr(drv, 'scenario_' + s)()
            log('scenario %s: PASS' % s)
        for a in list(drv.agents.values()):
            a.close('clean')
        errs = collections.Counter()
        for a in drv.agents.values():
            errs.update(a.errors)
        odd = {k: v for k, v in errs.items() if k != 'leave'}
        drv.need('command errors other than late LEAVEs', not odd, dict(errs))
    except Fail as e:
        log('FAIL: %s' % e)
        rc = 1
    except ContractError as e:
        log('CONTRACT: %s' % e)
        rc = 2
    finally:
        for a in drv.agents.values():
            if a.alive and a.proc.poll() is None:
                a.proc.kill()
        drv.hub.stop = True
    c = drv.c
    drv.result.update((k, c[k]) for k in ('places', 'leaves', 'reconnects', 'late_leaves', 'moves',
                                          'moves_answered', 'assign_placed', 'assign_new_topic',
                                          'assign_superseded', 'assign_timeout', 'assign_no_room',
                                          'digest_compared'))
    drv.result['pass'] = int(rc == 0)
    for k, v in drv.result.items():
        print('%s=%s' % (k, v))
    if args.result:
        with open(args.result, 'w') as f:
            for k, v in drv.result.items():
                f.write('%s=%s\n' % (k, v))
    return rc


if __name__ == '__main__':
    sys.exit(main())
