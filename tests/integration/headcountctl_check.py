#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""headcountctl_check.py CTL PREFIX OUT GW_IP VERSION - the checks of
headcountctl.sh: every subcommand of headcountctl (CTL) against the
appliance at PREFIX, compared exactly with the truth headcountctl.sh left
in OUT: pool0.csv / pool7.csv (each pool's rooms: hc-gwsim's exact table,
hc-gateway's --truth), fleet.ports (the fleet's sockets), fleet.kv.
Prints each check; exits 1 at the first failure."""
import csv
import json
import os
import re
import subprocess
import sys

CTL, PREFIX, OUT, GW_IP, VERSION = sys.argv[1:6]
POOLS = {0: dict(min=5, target=10, max=20, name="lobby"),
         7: dict(min=4, target=8, max=12, name="duel")}
FLEET = set(range(1, 111))
GW_FIELDS = {"id", "address", "port", "incarnation", "users", "next_seq", "digest",
             "datagrams", "heartbeats", "nacks", "lost", "duplicates", "resets",
             "deaths", "heard_ms_ago"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def need(what, got, want):
    if got != want:
        fail("%s: got %r, expected %r" % (what, got, want))
    print("  %s: %s" % (what, got if len(repr(got)) < 80 else repr(got)[:77] + "..."))


def run(*args, rc=0):
    p = subprocess.run([CTL, "--prefix", PREFIX] + list(args), capture_output=True,
                       text=True, timeout=120)
    if p.returncode != rc:
        fail("headcountctl %s: exit %d (expected %d): %s" % (" ".join(args), p.returncode,
                                                              rc, p.stderr.strip()))
    return p


def js(*args):
    out = run(*args, "--json").stdout
    try:
        return json.loads(out)
    except ValueError as e:
        fail("headcountctl %s --json: not JSON (%s): %r" % (" ".join(args), e, out[:200]))


def table(path):
    with open(path) as f:
        return {int(r["room"]): int(r["users"]) for r in csv.DictReader(f)}


truth = {0: table(OUT + "/pool0.csv"), 7: table(OUT + "/pool7.csv")}
users = {p: sum(t.values()) for p, t in truth.items()}
need("truth: pool 0 users", users[0], 2990)
need("truth: more rooms than a page of /headcount/room_pools (150)", len(truth[0]) + len(truth[7]) > 150, True)
need("truth: pool 7 rooms", sorted(truth[7].values()), [1, 2, 3, 3, 4, 5, 7, 8, 8, 9, 11, 12, 12])

print("gateways")
gws = js("gateways")
ids = [g["id"] for g in gws]
need("gateway ids", ids, sorted(FLEET) + [200])
for g in gws:
    if set(g) != GW_FIELDS:
        fail("gateway %d: fields %s" % (g["id"], sorted(set(g) ^ GW_FIELDS)))
    if not re.fullmatch(re.escape(GW_IP) + r":[1-9][0-9]{0,4}", g["address"]):
        fail("gateway %d: address %r" % (g["id"], g["address"]))
    if not isinstance(g["heard_ms_ago"], int) or g["incarnation"] == 0:
        fail("gateway %d: heard_ms_ago %r incarnation %r" % (g["id"], g["heard_ms_ago"],
                                                             g["incarnation"]))
with open(OUT + "/fleet.ports") as f:
    sockets = sorted(int(line) for line in f if line.strip())
need("the fleet's UDP ports = its sockets' (ss)",
     sorted(int(g["address"].split(":")[1]) for g in gws if g["id"] in FLEET), sockets)
need("users by gateway, fleet", sum(g["users"] for g in gws if g["id"] in FLEET), users[0])
need("users by gateway, gateway 200", [g["users"] for g in gws if g["id"] == 200], [users[7]])
text = run("gateways").stdout.splitlines()
need("gateways text: header + one line each", len(text), 1 + len(gws))
need("gateways text: header", text[0].split()[:5], ["id", "address", "incarnation", "users",
                                                    "heard_ms_ago"])
need("gateways text: every address shown",
     sorted(line.split()[1] for line in text[1:]), sorted(g["address"] for g in gws))
# tools/hc-tel.py's old shape (tests and the conformance driver read it)
HC_TEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "hc-tel.py")
tel = subprocess.run([sys.executable, HC_TEL, PREFIX, "kv", "/headcount/gateways"], capture_output=True, text=True,
                     timeout=120).stdout.splitlines()
need("hc-tel.py kv /headcount/gateways: lines", len(tel), len(gws))
csvl = subprocess.run([sys.executable, HC_TEL, PREFIX, "gateways"], capture_output=True, text=True,
                      timeout=120).stdout.splitlines()
need("hc-tel.py gateways: CSV ids", [int(line.split(",")[0]) for line in csvl[1:]], ids)
need("hc-tel.py kv: every line complete (heard_ms_ago, address)",
     sum(1 for line in tel if re.match(r"^\d+=incarnation=\d+ next_seq=\d+ users=\d+ .*"
                                       r"heard_ms_ago=\d+ .*address=\S+:\d+ port=\d+$", line)),
     len(gws))

print("pools")
p = js("pools")
need("rooms outside every pool", (p["no_pool_rooms"], p["no_pool_users"]), (0, 0))
need("pool ids", [q["id"] for q in p["pools"]], [0, 7])
for q in p["pools"]:
    cfg, t = POOLS[q["id"]], truth[q["id"]]
    w = q["bucket_width"]
    hist = [0] * -(-cfg["max"] // w)
    for u in t.values():
        hist[(u - 1) // w] += 1
    want = dict(cfg, users=users[q["id"]], rooms=len(t), bucket_width=1, histogram=hist,
                below_min=sum(u < cfg["min"] for u in t.values()),
                above_target=sum(u > cfg["target"] for u in t.values()),
                above_max=sum(u > cfg["max"] for u in t.values()))
    for k, v in want.items():
        need("pool %d %s" % (q["id"], k), q[k], v)
text = run("pools").stdout
need("pools text: pool 7's size-12 bucket", bool(re.search(r"^\s+12 users\s+2 ", text, re.M)), True)
print(text)

print("rooms")
rooms = js("rooms")
need("rooms = both truths, with pools",
     [(r["room"], r["users"], r["pool"]) for r in rooms],
     sorted([(r, u, 0) for r, u in truth[0].items()] + [(r, u, 7) for r, u in truth[7].items()]))
for args, want in ((["--pool", "7"], {r for r in truth[7]}),
                   (["--pool", "0"], {r for r in truth[0]}),
                   (["--below-min"], {r for pl, t in truth.items() for r, u in t.items()
                                      if u < POOLS[pl]["min"]}),
                   (["--above-target"], {r for pl, t in truth.items() for r, u in t.items()
                                         if u > POOLS[pl]["target"]}),
                   (["--pool", "7", "--above-target"], {r for r, u in truth[7].items() if u > 8})):
    need("rooms %s" % " ".join(args), sorted(r["room"] for r in js("rooms", *args)), sorted(want))
need("rooms text: header + one line each", len(run("rooms").stdout.splitlines()), 1 + len(rooms))
run("rooms", "--pool", "99", rc=1)

print("room")
for pl in (0, 7):
    r0 = min(truth[pl])
    r = js("room", str(r0))
    need("room %d" % r0, (r["room"], r["users"], r["pool"]), (r0, truth[pl][r0], pl))
r = js("room", "999999")
need("room 999999 (none)", (r["users"], r["pool"]), (0, None))

print("stats")
s = js("stats")
need("stats users", s["users"], users[0] + users[7])
need("stats rooms", s["rooms"], len(truth[0]) + len(truth[7]))
need("stats has the control core's counters", "ctl_ticks" in s, True)

print("ha")
h = js("ha")
need("ha: a standalone appliance", (h["role"], h["serving"]), ("standalone", 1))
need("ha as key=value", run("ha").stdout.splitlines()[0], "role=standalone")

print("top")
t = run("top", "--count", "2", "--interval", "0.2").stdout
need("top --count 2: frames", re.findall(r"frame (\d+)", t), ["1", "2"])
need("top: pool 7 line", len(re.findall(r"^pool 7 \(duel.*users %d  rooms %d" % (users[7], len(truth[7])),
                                        t, re.M)), 2)
lines = run("top", "--count", "2", "--interval", "0.2", "--json").stdout.splitlines()
need("top --json: two frames", [json.loads(x)["frame"] for x in lines], [1, 2])
need("top --json: pool 7 histogram", json.loads(lines[1])["pools"]["pools"][1]["histogram"],
     [1, 1, 2, 1, 1, 0, 1, 2, 1, 0, 1, 2])

print("man page")
with open(os.path.join(os.path.dirname(HC_TEL), "..", "man", "headcountctl.1")) as f:
    man = f.read()
need("every subcommand and option in man/headcountctl.1",
     [w for w in ("stats", "rooms", "room", "gateways", "pools", "top", "\\-\\-count",
                  "\\-\\-below\\-min", "\\-\\-above\\-target", "\\-\\-json",
                  "\\-\\-prefix", "\\-\\-version") if w not in man], [])

need("the ha subcommand in man/headcountctl.1", re.search(r"^\.B ha$", man, re.M) is not None, True)
need("the reload subcommand and its options in man/headcountctl.1",
     [w for w in ("\n.B reload ", "\\-\\-pid", "\\-\\-wait") if w not in man], [])
doc = open(os.path.join(os.path.dirname(HC_TEL), "..", "docs", "headcountctl.md")).read()
need("every subcommand in docs/headcountctl.md's synopsis",
     [c for c in ("stats", "ha", "reload", "rooms", "room ID", "gateways", "pools", "top")
      if not re.search(r"^      %s\b" % re.escape(c), doc, re.M)], [])

print("errors and version")
e = subprocess.run([CTL, "--prefix", "hc-no-such-prefix", "stats"], capture_output=True, text=True)
need("no appliance: exit", e.returncode, 1)
need("no appliance: said", "no appliance at prefix 'hc-no-such-prefix'" in e.stderr, True)
need("bad room id: exit", subprocess.run([CTL, "room", "x"], capture_output=True).returncode, 2)
# a negative id reaches the appliance, which refuses it (it read -5 as
# 2^64 - 5 and answered a room of that id with 0 users)
e = run("room", "-5", rc=1)
need("room -5: refused", "refused /headcount/room,-5" in e.stderr, True)

print("rooms: one view across pages")
# headcountctl's own rooms(), fed pages of two views (a merge published
# between them): read again until every page is of one view; a view that
# changes on every read gives the last read, with a warning
import contextlib
import importlib.machinery
import importlib.util
import io
_loader = importlib.machinery.SourceFileLoader("headcountctl_mod", CTL)
ctlmod = importlib.util.module_from_spec(importlib.util.spec_from_loader("headcountctl_mod", _loader))
_loader.exec_module(ctlmod)


class Pages(ctlmod.Appliance):
    """An appliance answering /headcount/room_pools from a script: no socket."""
    def __init__(self):
        self.calls = 0


class TwoViews(Pages):
    def call(self, cmd):
        self.calls += 1
        start = int(cmd.split(",")[1])
        read = (self.calls - 1) // 2
        if start == 1:
            return {"view_generation": 5 + read, "rooms": [1, 10, 0, 2, 11, 0], "next": 9}
        # page 2 of the first read is of the next view; later reads are stable
        gen = 6 if read == 0 else 5 + read
        return {"view_generation": gen, "rooms": [9, 12 + read, 7], "next": 0}


class Churning(Pages):
    def call(self, cmd):
        self.calls += 1
        return {"view_generation": self.calls, "rooms": [1, self.calls, 0],
                "next": 9 if cmd.endswith(",1") else 0}


p = TwoViews()
err = io.StringIO()
with contextlib.redirect_stderr(err):
    got = p.rooms()
need("rooms: the first read's two views refused, the second read's table",
     got, [(1, 10, 0), (2, 11, 0), (9, 13, 7)])
need("rooms: pages read", p.calls, 4)
need("rooms: no warning for one view", err.getvalue(), "")
c = Churning()
err = io.StringIO()
with contextlib.redirect_stderr(err):
    got = c.rooms()
need("rooms: reads of a churning view, bounded", c.calls, 2 * ctlmod.VIEW_READS)
need("rooms: a churning view gives the last read", got,
     [(1, 2 * ctlmod.VIEW_READS - 1, 0), (1, 2 * ctlmod.VIEW_READS, 0)])
need("rooms: ... with a warning", "pages were read" in err.getvalue(), True)


class PoolRemoved(Pages):
    """A reload removes pool 7 between the summary and its pool read."""
    def call(self, cmd):
        self.calls += 1
        if cmd == "/headcount/pools":
            return {"view_generation": 3, "0": 1, "7": 1} if self.calls == 1 else \
                {"view_generation": 3, "0": 1}
        if cmd == "/headcount/pool,7":
            raise ctlmod.CtlRefused("the appliance refused %s (bad parameter?)" % cmd)
        return {"id": 0, "users": 4, "view_generation": 3}


p = PoolRemoved()
got = p.pools()
need("pools: a pool removed between the reads: read again, without it",
     [q["id"] for q in got["pools"]], [0])
for bad in ("0", "-1", "x"):
    e = subprocess.run([CTL, "--prefix", PREFIX, "--timeout", bad, "stats"],
                       capture_output=True, text=True)
    need("--timeout %s: a usage error (exit 2)" % bad, e.returncode, 2)
    need("--timeout %s: said" % bad, "--timeout" in e.stderr, True)
e = subprocess.run([CTL, "top", "--interval", "nan"], capture_output=True, text=True)
need("top --interval nan: a usage error (exit 2)", e.returncode, 2)
# top goes on while the appliance is down (a restart ends no live view):
# a frame says why; the last frame down is exit 1
e = subprocess.run([CTL, "--prefix", "hc-no-such-prefix", "top", "--count", "2",
                    "--interval", "0.05"], capture_output=True, text=True, timeout=60)
need("top, no appliance: exit", e.returncode, 1)
need("top, no appliance: a frame each, saying why",
     e.stdout.count("down: no appliance at prefix 'hc-no-such-prefix'"), 2)

print("odd replies: one line each, never a traceback")
# a socket answering as a DPDK telemetry socket would, with what is given
import socket
import tempfile
import threading


def odd_socket(greeting, reply):
    d = tempfile.mkdtemp(prefix="hc-ctl-odd.")
    path = os.path.join(d, "sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(4)
    srv.settimeout(60)

    def serve():
        for _ in range(20):
            try:
                c, _ = srv.accept()
            except OSError:
                return
            with c:
                c.send(greeting)
                c.recv(1024)
                c.send(reply)
    threading.Thread(target=serve, daemon=True).start()
    return path, srv


hello = {"version": "fake", "pid": 1, "max_output_len": 16384}
for what, greeting, reply in (
        ("max_output_len null", dict(hello, max_output_len=None), {"/headcount/stats": {}}),
        ("max_output_len 10^15", dict(hello, max_output_len=10 ** 15), {"/headcount/stats": {}}),
        ("a reply value that is a string", hello, {"/headcount/stats": "x"}),
        ("a reply value that is a list", hello, {"/headcount/stats": [1, 2]})):
    path, srv = odd_socket(json.dumps(greeting).encode(), json.dumps(reply).encode())
    e = subprocess.run([CTL, "--socket", path, "--timeout", "5", "stats"],
                       capture_output=True, text=True, timeout=60)
    srv.close()
    os.unlink(path)
    os.rmdir(os.path.dirname(path))
    need("%s: exit 1" % what, e.returncode, 1)
    need("%s: one line, no traceback" % what,
         (len(e.stderr.strip().splitlines()), "Traceback" in e.stderr), (1, False))
    print("    %s" % e.stderr.strip())
v = subprocess.run([CTL, "--version"], capture_output=True, text=True).stdout.strip()
need("--version", v, "headcountctl " + VERSION)
print("all headcountctl checks passed")
