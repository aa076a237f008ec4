#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""hc-tel.py - read a running appliance's telemetry for the tests, as
machine-readable text (no log wording): DPDK's telemetry socket v2
(/var/run/dpdk/PREFIX/dpdk_telemetry.v2 as root), one command per
connection, through headcountctl's client (the file beside this one).

  hc-tel.py PREFIX kv CMD      the reply's dict as key=value lines
                               (e.g. /headcount/stats, /headcount/control)
  hc-tel.py PREFIX rooms       the room table as CSV "room,users", sorted,
                               read page by page from /headcount/rooms
  hc-tel.py PREFIX json CMD    the reply as it came
  hc-tel.py PREFIX gateways    every known gateway as CSV (id, address,
                               incarnation, users, ...), read page by page
  hc-tel.py PREFIX watch MAX OUT
                               sample the room table until OUT.stop exists
                               (at most 900 s), 10 times a second;
                               write OUT (key=value; also once a
                               second meanwhile): samples, misses
                               (no answer: e.g. restarting; the first
                               one's error in first_miss), max_users
                               seen in any room, above_max (samples with
                               a room above MAX) and the first such rooms

/headcount/gateways without a parameter (kv, json and command()) is read
whole, page by page, and given in its old shape: gateway id -> one string
"incarnation=I next_seq=S users=U ... heard_ms_ago=H address=A:P" (now
complete: no longer cut at 128 characters nor at 100 gateways); the
structured form is gateways() or "/headcount/gateways,START".
tools/headcountctl is the operator's client of the same commands.

Exit 1 if the appliance does not answer (not yet listening, or gone).
"""
import errno
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import time


def _load_ctl():
    """headcountctl, the file beside this one, as a module: one telemetry
    client (its connection, busy-socket retries and errors) for both."""
    path = os.path.join(os.path.dirname(os.path.realpath(__file__)), "headcountctl")
    sys.dont_write_bytecode = True  # no __pycache__ in tools/
    loader = importlib.machinery.SourceFileLoader("headcountctl", path)
    spec = importlib.util.spec_from_loader("headcountctl", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


ctl = _load_ctl()


def command(prefix, cmd):
    if cmd == "/headcount/gateways":
        return legacy_gateways(prefix)
    return raw(prefix, cmd)


def raw(prefix, cmd):
    """One command's reply.  The tests' room watcher reads 10 times a
    second, so a busy socket is tried again longer than an operator's
    (500 times, 20 ms apart: 10 s; 2 s once fell short on a host running
    two test suites, whose appliance's telemetry thread was slow to
    accept).  Errors as the tests catch them: ValueError
    for a command answered but refused or unknown, OSError for no
    answer."""
    try:
        return ctl.Appliance(prefix, busy_tries=500, busy_wait=0.02).call(cmd)
    except (ctl.CtlRefused, ctl.CtlUnknown) as e:
        raise ValueError(str(e))
    except ctl.CtlError as e:
        raise OSError(errno.EIO, str(e))


GW_FIELDS = ("incarnation", "next_seq", "users", "datagrams", "heartbeats",
             "nacks", "lost", "duplicates", "resets", "deaths", "heard_ms_ago",
             "digest", "address", "port")


def gateways(prefix):
    """Every known gateway: {id: dict of its fields}, page by page."""
    table, start = {}, 0
    for _ in range(65536):
        page = raw(prefix, "/headcount/gateways,%d" % start)
        for k, v in page.items():
            if k != "next":
                table[int(k)] = v
        start = page["next"]
        if start == 0:
            break
    return table


def legacy_gateways(prefix):
    return {str(g): " ".join("%s=%s" % (f, d[f]) for f in GW_FIELDS if f in d)
            for g, d in sorted(gateways(prefix).items())}


def rooms(prefix):
    table, start = [], 1
    while True:
        page = raw(prefix, "/headcount/rooms,%d" % start)
        flat = page["rooms"]
        table += [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
        start = page["next"]
        if start == 0:
            return sorted(table)


def watch(prefix, limit, out):
    """The room-limit watch of the fault and lab tests: every sample of
    the whole room table, while the test runs."""
    import os
    import time
    samples = misses = above = top = 0
    first = first_miss = ""
    end = time.monotonic() + 900
    written = 0

    def write():
        with open(out + ".tmp", "w") as f:
            f.write("samples=%d\nmisses=%d\nmax_users=%d\nabove_max=%d\nfirst_above=%s\n"
                    "first_miss=%s\n" % (samples, misses, top, above, first, first_miss))
        os.rename(out + ".tmp", out)

    while not os.path.exists(out + ".stop") and time.monotonic() < end:
        if time.monotonic() - written >= 1:  # so far, once a second
            write()
            written = time.monotonic()
        try:
            table = rooms(prefix)
        except (OSError, ValueError, KeyError, TypeError) as e:
            misses += 1
            first_miss = first_miss or repr(e)[:100]
            time.sleep(0.05)
            continue
        samples += 1
        over = [(r, u) for r, u in table if u > limit]
        top = max([top] + [u for _, u in table])
        if over:
            above += 1
            if not first:
                first = " ".join("%d:%d" % ru for ru in over[:10])
        time.sleep(0.1)  # 10 samples a second: light beside the appliance
    write()


def project_version():
    """The project's version (meson.build's project()): this script runs
    from the source tree, not installed."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(os.path.join(here, "..", "meson.build")) as f:
            m = re.search(r"project\('headcount'.*?version\s*:\s*'([^']+)'", f.read(), re.S)
        return m.group(1) if m else "(unknown)"
    except OSError:
        return "(unknown)"


def main(argv):
    if len(argv) == 2 and argv[1] in ("--help", "-h"):
        print("usage: hc-tel.py PREFIX kv|rooms|json|gateways|watch ...")
        print(__doc__)
        print("  --help       this text\n  --version    the program's version")
        return 0
    if len(argv) == 2 and argv[1] == "--version":
        print("hc-tel.py (headcount) %s" % project_version())
        return 0
    if len(argv) >= 2 and argv[1].startswith("--"):
        print("hc-tel.py: unknown option %s (see --help)" % argv[1], file=sys.stderr)
        return 2
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    prefix, what = argv[1], argv[2]
    need = {"kv": 4, "json": 4, "watch": 5}.get(what, 3)
    if len(argv) < need:  # (kv and json name a command, watch N and a file)
        print("hc-tel.py: %s: too few arguments (see --help)" % what, file=sys.stderr)
        return 2
    try:
        if what == "kv":
            reply = command(prefix, argv[3])
            if not isinstance(reply, dict):
                raise TypeError("%s answers a %s, not key=value pairs (use json)"
                                % (argv[3], type(reply).__name__))
            for k, v in reply.items():
                print("%s=%s" % (k, v))
        elif what == "rooms":
            print("room,users")
            for r, u in rooms(prefix):
                print("%d,%d" % (r, u))
        elif what == "watch":
            watch(prefix, int(argv[3]), argv[4])
        elif what == "gateways":
            print("id," + ",".join(GW_FIELDS))
            for g, d in sorted(gateways(prefix).items()):
                print("%d,%s" % (g, ",".join(str(d.get(f, "")) for f in GW_FIELDS)))
        elif what == "json":
            print(json.dumps(command(prefix, argv[3])))
        else:
            print(__doc__, file=sys.stderr)
            return 2
        sys.stdout.flush()  # here, not at exit: a closed reader is seen below
    except BrokenPipeError:
        ctl.stdout_closed()
        return 0
    except (OSError, ValueError, KeyError, TypeError) as e:
        print("hc-tel: %s: %s" % (prefix, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
