#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""hc-state-sync.py FILE DEST - copy this box's headcount state file to the
other box of an active/standby pair whenever it changes (docs/scaling.md,
"The state file of a pair").

FILE is this box's --state-file (/var/lib/headcount/gateways): the gateways
holding users, which only a master writes (a new file renamed over the
old, when that set changes, and with --state-key every 10 s: its stamp
must stay fresh).  DEST is where the peer's rsync daemon keeps
it, the peer's --peer-state-file, as an rsync URL:
rsync://headcount@PEER/headcount-peer/gateways (the module of
deploy/keepalived/rsyncd-headcount.conf).  A takeover there holds
placements until the gateways either file names restated, so the new
master never hands out a seat a gateway of the old one still holds.

FILE is looked at every --interval seconds (0.2); a new file (inode,
size or time changed) is sent at once, and the last one again every
--repush seconds (30) so that a peer that was down gets it when back.
rsync writes it beside the destination and renames it into place: the
peer never reads half a file.  A failed send is logged and tried again
a second later (the peer down: once a second).  A missing FILE (a box that never served) sends nothing.
One line per send to --log (default: stderr): wall clock (ms), the file's
gateway count, rsync's exit status.  SIGTERM or SIGINT ends it.
  --password-file F   rsync's --password-file (mode 600): the module's
                      secret for the user in DEST
  --once              send once and exit with rsync's status (0: sent)
"""
import argparse
import os
import signal
import subprocess
import sys
import time

stopping = False


def stop(_signum, _frame):
    global stopping
    stopping = True


def stamp(path):
    """(inode, size, mtime_ns) of path, or None if it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def gateways_in(path):
    try:
        with open(path) as f:
            return sum(1 for line in f if line[:1].isdigit())
    except OSError:
        return -1


def send(args):
    """rsync FILE to DEST (every time, whatever the peer holds: -I);
    rsync's exit status."""
    # --fsync: the peer's daemon syncs the copy to disk before the rename
    # (a power loss on the standby would otherwise leave it empty or cut)
    cmd = ["rsync", "-I", "--fsync", "--timeout=5", "--contimeout=3"]
    if args.password_file:
        cmd.append("--password-file=" + args.password_file)
    cmd += [args.file, args.dest]
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return 124, "rsync timed out"
    return done.returncode, done.stderr.decode(errors="replace").strip().replace("\n", " | ")


def main():
    p = argparse.ArgumentParser(
        description="copy this box's headcount state file to its HA peer on every change")
    p.add_argument("file", help="this box's --state-file")
    p.add_argument("dest", help="rsync://USER@PEER/MODULE/NAME: the peer's --peer-state-file")
    p.add_argument("--password-file", help="rsync's --password-file (mode 600)")
    p.add_argument("--interval", type=float, default=0.2, help="seconds between looks [0.2]")
    p.add_argument("--repush", type=float, default=30.0,
                   help="seconds after which an unchanged file is sent again [30]")
    p.add_argument("--log", help="one line per send (default: stderr)")
    p.add_argument("--once", action="store_true", help="send once, exit with rsync's status")
    args = p.parse_args()
    if not 0.01 <= args.interval <= 60 or not 1 <= args.repush <= 86400:
        p.error("--interval 0.01..60, --repush 1..86400")
    log = open(args.log, "a", buffering=1) if args.log else sys.stderr

    def note(rc, err):
        print("%d sent=%s gateways=%d rsync=%d%s" % (
            int(time.time() * 1000), args.file, gateways_in(args.file), rc,
            (" " + err) if rc != 0 and err else ""), file=log, flush=True)

    if args.once:
        if stamp(args.file) is None:
            print("hc-state-sync: %s: no such file (nothing to send)" % args.file, file=sys.stderr)
            return 1
        rc, err = send(args)
        note(rc, err)
        return rc

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sent = None   # the stamp of the file last sent successfully
    sent_at = 0.0
    retry_at = 0.0
    while not stopping:
        now = time.monotonic()
        cur = stamp(args.file)
        if cur is not None and now >= retry_at and (cur != sent or now - sent_at >= args.repush):
            rc, err = send(args)
            note(rc, err)
            if rc == 0:
                sent, sent_at = cur, now
            else:
                sent = None          # whatever it was: send again
                retry_at = now + 1.0
        time.sleep(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
