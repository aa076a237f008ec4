#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""prometheus_check.py - the checks of prometheus.sh, in three modes:

  selftest EXPORTER
      the exporter's histogram bounds (bucket_bounds) against brute force
      over random room tables at bucket widths 1..7, and one scrape of a
      fake appliance whose pool replies disagree on the view generation
  live EXPORTER CTL PREFIX EXPORTER_URL PROM_URL SETTLED_AT DASHBOARD OUT
      the exporter's exposition through promtool; Prometheus's answers for
      the room-size histogram and the pool gauges equal to what the
      appliance's room table (CTL rooms --json) gives, exactly; the room
      table equals the truth prometheus.sh left in OUT; every PromQL
      expression of the Grafana DASHBOARD names only metrics the exporter
      exposes and Prometheus answers it with data
  down EXPORTER_URL PROM_URL SINCE
      with the appliance stopped: a scrape answers 200 and headcount_up 0,
      and Prometheus records headcount_up 0 from a scrape after SINCE

Every wait is bounded in time and count.  Prints each check; exits 1 at
the first failure."""
import csv
import importlib.machinery
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

POOLS = {0: dict(min=5, target=10, max=20), 3: dict(min=101, target=600, max=1001),
         7: dict(min=4, target=8, max=12)}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def need(what, got, want):
    if got != want:
        fail("%s: got %r, expected %r" % (what, got, want))
    print("  %s: %s" % (what, got if len(repr(got)) < 100 else repr(got)[:97] + "..."))


def load_exporter(path):
    loader = importlib.machinery.SourceFileLoader("headcount_exporter", path)
    spec = importlib.util.spec_from_loader("headcount_exporter", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def pool_reply(pid, cfg, sizes, gen=1):
    """What /headcount/pool,ID answers for a pool of these room sizes
    (control/hc_telemetry.c:tel_pool)."""
    w = -(-cfg["max"] // 500)
    nb = -(-cfg["max"] // w)
    hist = [0] * nb
    for s in sizes:
        if s <= cfg["max"]:
            hist[(s - 1) // w] += 1
    return dict(id=pid, name="p%d" % pid, fill="target", view_generation=gen,
                bucket_width=w, histogram=hist, users=sum(sizes), rooms=len(sizes),
                below_min=sum(s < cfg["min"] for s in sizes),
                above_target=sum(s > cfg["target"] for s in sizes),
                above_max=sum(s > cfg["max"] for s in sizes), **cfg)


def selftest(exporter_path):
    ex = load_exporter(exporter_path)
    rnd = random.Random(11)
    cases = 0
    for mx in (1, 2, 12, 20, 500, 501, 999, 1001, 1500, 2000, 3500):
        for _ in range(40):
            mn = rnd.randint(1, mx)
            tg = rnd.randint(mn, mx)
            cfg = dict(min=mn, target=tg, max=mx)
            sizes = [rnd.randint(1, mx + 3) for _ in range(rnd.randint(0, 60))]
            p = pool_reply(1, cfg, sizes)
            bounds = ex.bucket_bounds(p)
            les = [le for le, _ in bounds]
            if les != sorted(set(les)):
                fail("bounds not increasing: %r" % les)
            for le, n in bounds:
                want = sum(s <= le for s in sizes)
                if n != want:
                    fail("max %d min %d target %d width %d: le=%d gives %d rooms, the table %d"
                         % (mx, mn, tg, p["bucket_width"], le, n, want))
            must = {tg, mx} | ({mn - 1} if mn > 1 else set())
            if p["bucket_width"] == 1 or mn % p["bucket_width"] == 0:
                must.add(mn)
            if tg > 1 and (p["bucket_width"] == 1 or (tg - 1) % p["bucket_width"] == 0):
                must.add(tg - 1)
            if not must <= set(les):
                fail("bounds %r lack %r" % (les, must - set(les)))
            cases += 1
    print("  bucket bounds equal brute force: %d random pools, bucket widths 1..7" % cases)

    class Fake:
        prefix = "fake"

        def __init__(self):
            self.n = 0

        def call(self, cmd):
            self.n += 1
            if cmd == "/headcount/stats":
                return {"rx_frames": 7, "users": 3, "rooms": 2, "drop_bad_magic": 1}
            if cmd == "/headcount/control":
                return {"placements": 4, "picks_in_flight": 0}
            if cmd == "/headcount/pools":
                return {"view_generation": 5, "no_pool_rooms": 0, "no_pool_users": 0,
                        "7": {}}
            # the pool's reply always from another generation: never consistent
            return pool_reply(7, POOLS[7], [1, 5], gen=6)
    fake = Fake()
    text, err = ex.Exporter(fake).scrape()
    need("fake appliance: scrape error", err, None)
    for line in ("headcount_up 1", "headcount_rx_frames_total 7", "headcount_users 3",
                 "headcount_ctl_placements_total 4", "headcount_ctl_picks_in_flight 0",
                 'headcount_drops_by_reason_total{reason="bad_magic"} 1',
                 "headcount_pools_consistent 0", 'headcount_room_size_count{pool="7"} 2',
                 'headcount_room_size_sum{pool="7"} 6', 'headcount_room_size_bucket{pool="7",le="4"} 1',
                 'headcount_room_size_bucket{pool="7",le="6"} 2'):
        if line not in text.splitlines():
            fail("fake scrape lacks %r" % line)
    need("fake appliance: telemetry reads with a generation that never agrees",
         fake.n, 2 + 2 * ex.GEN_TRIES)

    class Removed(Fake):
        """Pool 9 is listed in every summary and refused each time it is
        read (a reload removed it), in the last round too; pool 7 answers.
        With fail set, that read finds no appliance instead."""
        def __init__(self, fail=False):
            super().__init__()
            self.fail = fail

        def call(self, cmd):
            if cmd == "/headcount/pools":
                self.n += 1
                return {"view_generation": 6, "no_pool_rooms": 0, "no_pool_users": 0,
                        "7": {}, "9": {}}
            if cmd == "/headcount/pool,9":
                self.n += 1
                if self.fail:
                    raise ex.ctl.CtlError("the appliance at prefix 'fake' closed the connection")
                raise ex.ctl.CtlRefused("the appliance refused /headcount/pool,9 (bad parameter?)")
            return super().call(cmd)
    fake = Removed()
    text, err = ex.Exporter(fake).scrape()
    need("a pool removed in every round: scrape error", err, None)
    lines = text.splitlines()
    for line in ("headcount_up 1", "headcount_pools_consistent 0",
                 'headcount_room_size_count{pool="7"} 2'):
        if line not in lines:
            fail("scrape with a removed pool lacks %r" % line)
    need("a pool removed in every round: its lines", [x for x in lines if 'pool="9"' in x], [])
    need("a pool removed in every round: telemetry reads", fake.n, 2 + 3 * ex.GEN_TRIES)
    fake = Removed(fail=True)
    text, err = ex.Exporter(fake).scrape()
    need("no answer in a pool read: headcount_up 0",
         ("headcount_up 0" in text.splitlines(), err is not None and "closed" in err), (True, True))

    class SlowStats(Fake):
        """Its /headcount/stats read waits for the gate once `slow` is set
        (a scrape that takes long: another replica's longer bound)."""
        def __init__(self):
            super().__init__()
            self.slow = False
            self.gate = threading.Event()
            self.waiting = threading.Event()

        def call(self, cmd):
            if cmd == "/headcount/stats" and self.slow:
                self.waiting.set()
                self.gate.wait(20)
            return super().call(cmd)

    def shared_while_slow(e, fake):
        """A scrape with a 0.2 s bound while a slow one reads: its text."""
        fake.slow = True
        t = threading.Thread(target=e.scrape)
        t.start()
        need("the slow scrape began reading", fake.waiting.wait(10), True)
        text, err = e.scrape(budget=0.2)
        fake.gate.set()
        t.join(20)
        need("the slow scrape ended", t.is_alive(), False)
        return text, err
    # a request that cannot wait for a slow read gets the last answer if
    # recent (not headcount_up 0 for an appliance that answers) ...
    fake = SlowStats()
    e = ex.Exporter(fake)
    first, err = e.scrape()
    need("a first scrape", (err, "headcount_up 1" in first.splitlines()), (None, True))
    text, err = shared_while_slow(e, fake)
    need("a short bound beside a slow read: the last answer", (text, err), (first, None))
    # ... and headcount_up 0 when there is none
    fake = SlowStats()
    text, err = shared_while_slow(ex.Exporter(fake), fake)
    need("a short bound beside a slow read, nothing read before: down",
         ("headcount_up 0" in text.splitlines(), err is not None and "still reading" in err),
         (True, True))
    # ... or when it is older than SHARED_MAX_AGE_S
    fake = SlowStats()
    e = ex.Exporter(fake)
    e.scrape()
    e.last = (e.last[0] - ex.SHARED_MAX_AGE_S - 1, e.last[1])
    text, err = shared_while_slow(e, fake)
    need("a short bound beside a slow read, the last answer too old: down",
         "headcount_up 0" in text.splitlines(), True)

    class OddShape(Fake):
        """/headcount/stats answers a list: a reply of another shape."""
        def call(self, cmd):
            return [1, 2] if cmd == "/headcount/stats" else super().call(cmd)
    text, err = ex.Exporter(OddShape()).scrape()
    real = ex.ctl.Appliance("hc-x", "/run/hc-x.sock")
    info = [x for x in ex.Exporter(real, budget=1.0).scrape()[0].splitlines()
            if x.startswith("headcount_exporter_info{")]
    need("exporter_info names the socket given",
         len(info) == 1 and 'prefix="hc-x"' in info[0] and 'socket="/run/hc-x.sock"' in info[0],
         True)
    need("a reply of another shape: headcount_up 0, said",
         ("headcount_up 0" in text.splitlines(), err is not None and "unexpected reply" in err),
         (True, True))

    class Slow(Fake):
        """Every read takes 0.2 s (its timeout kept: the scrape's bound
        lowers it for each read, and gives it back)."""
        timeout = 5.0

        def call(self, cmd):
            need_timeout.append(self.timeout)
            time.sleep(0.2)
            return super().call(cmd)
    need_timeout = []
    slow = Slow()
    text, err = ex.Exporter(slow, budget=0.5).scrape()
    need("a slow appliance: the scrape's bound ends it, headcount_up 0",
         ("headcount_up 0" in text.splitlines(), err is not None and "were over" in err),
         (True, True))
    need("a slow appliance: reads within the bound (at most 3 of 0.2 s in 0.5 s)",
         1 <= slow.n <= 3, True)
    need("a slow appliance: each read's timeout within what was left, the appliance's kept",
         (all(t <= 0.5 for t in need_timeout), slow.timeout), (True, 5.0))

    class Gate(Fake):
        """The first read waits until let go: a scrape in progress."""
        def __init__(self):
            super().__init__()
            self.inside, self.go = threading.Event(), threading.Event()

        def call(self, cmd):
            if self.n == 0:
                self.inside.set()
                self.go.wait(60)
            return super().call(cmd)
    gate = Gate()
    exp = ex.Exporter(gate)
    first = threading.Thread(target=exp.scrape)
    first.start()
    need("shared scrapes: the first is reading", gate.inside.wait(60), True)
    # two requests that came while it read: one more read answers both
    came = time.monotonic()
    got = []
    later = [threading.Thread(target=lambda: got.append(exp.scrape(came))) for _ in range(2)]
    for t in later:
        t.start()
    gate.go.set()
    for t in [first] + later:
        t.join(60)
    per_scrape = 2 + 2 * ex.GEN_TRIES  # (Fake's pools never agree)
    need("shared scrapes: three requests, two reads of the appliance",
         (gate.n, exp.scrapes), (2 * per_scrape, 2))
    need("shared scrapes: the two later ones have the same answer",
         (len(got), got[0] == got[1] if len(got) == 2 else None), (2, True))
    need("Prometheus's scrape timeout, half a second kept",
         [ex.scrape_budget(h) for h in ("4", "0.2", None, "x", "nan", "-1")],
         [3.5, 0.5, None, None, None, None])


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


def parse_exposition(text):
    """{(name, frozenset(labels)): value}, {family: type}"""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, fam, kind = line.split(" ", 3)
            types[fam] = kind
        elif line and not line.startswith("#"):
            m = re.match(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
            if not m:
                fail("exposition line not understood: %r" % line)
            labels = frozenset(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                          m.group(2) or ""))
            samples[(m.group(1), labels)] = float(m.group(3))
    return samples, types


def exposed_names(types):
    names = set()
    for fam, kind in types.items():
        names.add(fam)
        if kind == "histogram":
            names |= {fam + "_bucket", fam + "_sum", fam + "_count"}
    return names


# the evaluation time of the live checks' queries (None: now): a moment
# at which the last scrape had succeeded.  A scrape of the 1 s interval
# that times out on a busy host leaves staleness markers, and a query
# after one would find none of the exporter's series
QUERY_AT = None


def prom_query(prom, expr):
    args = {"query": expr}
    if QUERY_AT is not None:
        args["time"] = QUERY_AT
    url = prom + "/api/v1/query?" + urllib.parse.urlencode(args)
    try:
        _, _, body = http_get(url)
    except urllib.error.HTTPError as e:
        fail("Prometheus refused %r: %s" % (expr, e.read().decode()[:300]))
    reply = json.loads(body)
    if reply.get("status") != "success":
        fail("Prometheus: %r: %r" % (expr, reply))
    return reply["data"]["result"]


def by_labels(result, *keys):
    """{tuple of label values: value} of an instant vector"""
    out = {}
    for r in result:
        k = tuple(r["metric"].get(x) for x in keys)
        if k in out:
            fail("two series for %r" % (k,))
        out[k] = float(r["value"][1])
    return out


def wait_for(what, bound_s, fn):
    end = time.time() + bound_s
    for _ in range(int(bound_s * 4) + 1):
        v = fn()
        if v:
            return v
        if time.time() > end:
            break
        time.sleep(0.25)
    fail("within %d s: %s" % (bound_s, what))


KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
            "or", "unless", "offset", "inf", "nan", "Inf", "NaN", "atan2"}


def promql_names(expr):
    """The metric names a PromQL expression reads: identifiers that are
    not functions (followed by '('), keywords, label names (inside {} or
    by/without/on/ignoring/group_x lists), strings or durations."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r" ", s)
    names = set()
    for m in re.finditer(r"(?<![0-9.A-Za-z_:])[A-Za-z_:][A-Za-z0-9_:]*", s):
        if s[m.end():].lstrip().startswith("(") or m.group(0) in KEYWORDS:
            continue
        names.add(m.group(0))
    return names


def grafana_exprs(dash):
    """Every PromQL expression of the dashboard: panels' targets (nested
    rows too) and the templating variables' label_values() queries."""
    exprs = []

    def walk(x, where):
        if isinstance(x, dict):
            if isinstance(x.get("expr"), str):
                exprs.append((where, x["expr"]))
            for k, v in x.items():
                walk(v, x.get("title", where) if k in ("targets", "panels") else where)
        elif isinstance(x, list):
            for v in x:
                walk(v, where)
    walk(dash.get("panels", []), "panels")
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if v.get("type") == "query" and isinstance(q, str):
            m = re.match(r"label_values\((.*),\s*[A-Za-z_]+\)$", q.strip())
            if not m:
                fail("templating variable %s: query %r is not label_values(EXPR, LABEL)"
                     % (v.get("name"), q))
            exprs.append(("variable " + v.get("name", "?"), m.group(1)))
    return exprs


def buckets_summed_over_pools(dash):
    """Titles of the panels that add room-size buckets of several pools
    (by le alone, not once a pool: a pool's buckets have their own edges,
    and summed they are no longer cumulative)."""
    bad = []

    def walk(x):
        if isinstance(x, dict):
            for t in x.get("targets", []) if isinstance(x.get("targets"), list) else []:
                e = t.get("expr", "") if isinstance(t, dict) else ""
                if "headcount_room_size_bucket" in e and re.search(r"by\s*\(\s*le\s*\)", e) \
                        and x.get("repeat") != "pool":
                    bad.append(x.get("title"))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(dash.get("panels", []))
    return bad


def grafana_substitute(expr):
    return (expr.replace("$__rate_interval", "1m").replace("$__interval", "1s")
            .replace("$__range", "5m").replace("$pool", ".+").replace("${pool}", ".+"))


def live(exporter, ctl, prefix, exp_url, prom, settled_at, dashboard, out):
    settled_at = float(settled_at)
    # the exporter answers, in the text format promtool accepts
    status, ctype, text = wait_for("the exporter answers with headcount_up 1", 60, lambda: (
        lambda r: r if "headcount_up 1" in r[2].splitlines() else None)(http_get(exp_url + "/metrics")))
    need("exporter: HTTP status", status, 200)
    need("exporter: Content-Type", ctype, "text/plain; version=0.0.4; charset=utf-8")
    # promtool parses the text and lints the names; one lint is a false
    # positive: the drop reason ip_not_for_us ("us" is a word there, not
    # microseconds), so that line, and only it, is allowed
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    said = [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]
    allowed = ["headcount_drop_ip_not_for_us_total metric names should not contain "
               "abbreviated units"]
    need("promtool check metrics: what it reports", said, allowed if p.returncode else [])
    samples, types = parse_exposition(text)
    names = exposed_names(types)
    need("exporter: room_size is a histogram", types.get("headcount_room_size"), "histogram")
    need("exporter: rx_frames is a counter", types.get("headcount_rx_frames_total"), "counter")
    need("exporter: users is a gauge", types.get("headcount_users"), "gauge")
    # every control key docs/counters.md calls a level (gauge, value, flag)
    # is exposed as a gauge, never as a counter (it falls as well as rises)
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                       "counters.md")
    with open(doc) as fh:
        doc_text = fh.read()
    levels = re.findall(r"^\| `ctl_([a-z0-9_]+)` \| (?:gauge|value|flag) \|", doc_text, re.M)
    # and every /headcount/stats key it calls a level (port_ring_drops falls
    # as frames waiting in the ring are read): never a counter either
    for key in re.findall(r"^\| `([a-z0-9_]+)` \| (?:gauge|value|flag) \|", doc_text, re.M):
        need("exporter: %s is no counter" % key, types.get("headcount_%s_total" % key), None)
    need("exporter: port_ring_drops is a gauge", types.get("headcount_port_ring_drops"), "gauge")
    need("docs/counters.md names the control levels", len(levels) >= 13, True)
    for key in levels:
        name = "headcount_ctl_" + (key[:-3] + "_seconds" if key.endswith("_ms") else key)
        if key == "ha_takeover_wall_ms":  # a wall-clock time: a timestamp
            name = "headcount_ctl_ha_last_takeover_timestamp_seconds"
        need("exporter: %s is a gauge" % name, (types.get(name), types.get(name + "_total")),
             ("gauge", None))
    need("exporter: --version", subprocess.run([exporter, "--version"], capture_output=True,
                                               text=True).stdout.split()[0], "headcount-exporter")

    # the appliance's room table, with each room's pool, against the truth
    rooms = json.loads(subprocess.run([ctl, "--prefix", prefix, "rooms", "--json"],
                                      capture_output=True, text=True, timeout=120,
                                      check=True).stdout)
    table = {p_: [] for p_ in POOLS}
    for r in rooms:
        if r["pool"] not in table:
            fail("room %d in pool %r" % (r["room"], r["pool"]))
        table[r["pool"]].append(r["users"])
    for pid, f in ((3, "pool3.csv"), (7, "pool7.csv")):
        with open(out + "/" + f) as fh:
            truth = sorted(int(row["users"]) for row in csv.DictReader(fh))
        need("pool %d room sizes (appliance) equal the truth %s" % (pid, f), sorted(table[pid]),
             truth)
    need("pool 0 rooms", table[0], [])

    # Prometheus has scraped (several times) since the table settled; the
    # checks below ask Prometheus about the moment it was seen so
    def scraped():
        global QUERY_AT
        r = prom_query(prom, "headcount_exporter_scrapes_total")
        up = prom_query(prom, "headcount_up")
        if (len(r) == 1 and float(r[0]["value"][1]) >= 3 and len(up) == 1
                and up[0]["value"][1] == "1" and float(up[0]["value"][0]) >= settled_at):
            QUERY_AT = up[0]["value"][0]
            return True
        return False
    wait_for("Prometheus scraped the exporter 3 times after the rooms settled", 120, scraped)
    print("  Prometheus scraped the exporter after the room table settled; the queries "
          "below are evaluated at that moment (%s)" % QUERY_AT)

    # the histogram, exactly: every bucket the exporter has, through Prometheus
    buckets = by_labels(prom_query(prom, "headcount_room_size_bucket"), "pool", "le")
    exported = {(dict(k).get("pool"), dict(k).get("le")) for (n, k) in samples
                if n == "headcount_room_size_bucket"}
    need("Prometheus's bucket series are the exporter's", set(buckets), exported)
    for pid, cfg in POOLS.items():
        sizes = table[pid]
        les = sorted(float(le) for (p_, le) in buckets if p_ == str(pid))
        must = {cfg["min"] - 1, cfg["target"], cfg["max"], float("inf")}
        if pid != 3:  # pool 3: width 3, min 101 and target - 1 = 599 are no bucket edges
            must |= {cfg["min"], cfg["target"] - 1}
        if not must <= set(les):
            fail("pool %d: buckets %r lack %r" % (pid, les, must - set(les)))
        got = [buckets[(str(pid), "+Inf" if le == float("inf") else "%d" % le)] for le in les]
        want = [float(sum(s <= le for s in sizes)) for le in les]
        need("pool %d headcount_room_size_bucket (le %s) = rooms of the table up to le"
             % (pid, ",".join("%g" % x for x in les)), got, want)
    for metric, fn in (("headcount_room_size_count", len), ("headcount_room_size_sum", sum),
                       ("headcount_pool_rooms", len), ("headcount_pool_users", sum),
                       ("headcount_pool_below_min", None), ("headcount_pool_above_target", None),
                       ("headcount_pool_above_max", None)):
        got = by_labels(prom_query(prom, metric), "pool")
        want = {}
        for pid, cfg in POOLS.items():
            s = table[pid]
            if fn is not None:
                v = fn(s)
            elif metric.endswith("below_min"):
                v = sum(x < cfg["min"] for x in s)
            elif metric.endswith("above_target"):
                v = sum(x > cfg["target"] for x in s)
            else:
                v = sum(x > cfg["max"] for x in s)
            want[(str(pid),)] = float(v)
        need(metric + " per pool", got, want)
    need("headcount_users", by_labels(prom_query(prom, "headcount_users")),
         {(): float(sum(sum(r) for r in table.values()))})
    need("headcount_rooms", by_labels(prom_query(prom, "headcount_rooms")),
         {(): float(len(rooms))})
    need("headcount_pools_consistent", by_labels(prom_query(prom, "headcount_pools_consistent")),
         {(): 1.0})

    # the Grafana dashboard
    with open(dashboard) as fh:
        dash = json.load(fh)
    exprs = grafana_exprs(dash)
    if len(exprs) < 10:
        fail("the dashboard has only %d expressions" % len(exprs))
    used = set()
    for where, expr in exprs:
        ns = promql_names(expr)
        if not ns:
            fail("%s: %r names no metric" % (where, expr))
        unknown = ns - names
        if unknown:
            fail("dashboard %s: %r names %s, which the exporter does not expose"
                 % (where, expr, sorted(unknown)))
        used |= ns
        if not prom_query(prom, grafana_substitute(expr)):
            fail("dashboard %s: Prometheus has no data for %r" % (where, expr))
    print("  dashboard: %d expressions, %d metrics, every one exposed by the exporter and "
          "answered by Prometheus with data" % (len(exprs), len(used)))
    need("dashboard: panels adding room-size buckets of several pools",
         buckets_summed_over_pools(dash), [])


def down(exp_url, prom, since):
    since = float(since)
    status, _, text = http_get(exp_url + "/metrics")
    need("appliance down: exporter HTTP status", status, 200)
    need("appliance down: headcount_up", "headcount_up 0" in text.splitlines(), True)
    need("appliance down: no appliance metric", [l for l in text.splitlines()
                                                 if l.startswith("headcount_room_size")], [])

    def recorded():
        up = prom_query(prom, "headcount_up")
        return len(up) == 1 and up[0]["value"][1] == "0" and float(up[0]["value"][0]) >= since
    wait_for("Prometheus records headcount_up 0", 60, recorded)
    print("  Prometheus recorded headcount_up 0")


def main(argv):
    if argv[:1] == ["selftest"] and len(argv) == 2:
        selftest(argv[1])
    elif argv[:1] == ["live"] and len(argv) == 9:
        live(*argv[1:])
    elif argv[:1] == ["down"] and len(argv) == 4:
        down(*argv[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
