#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""hc-ha-notify.py PREFIX LOG [INSTANCE] FIFO - keepalived's notify_fifo_script for a
headcount appliance of an active/standby pair (docs/scaling.md, "High
availability").  hc-ha-notify.py --alive PREFIX: its vrrp_script (exit 0
if the appliance answers its telemetry).

keepalived starts it once and writes every state change to FIFO, in order,
as lines 'INSTANCE "name" STATE PRIORITY' (notify scripts, one process per
change, may finish out of order: a late BACKUP of the start would undo a
MASTER).  One process for the life of keepalived: no interpreter starts
between a VRRP decision and the appliance hearing it.
  MASTER                -> /headcount/ha,master (a new epoch, ARP for the
                           service address, gratuitous ARPs)
  BACKUP, FAULT, STOP   -> /headcount/ha,backup (release the address;
                           place, balance and send nothing)
  the FIFO closed        -> /headcount/ha,backup unless backup was the
                           last word, then exit: keepalived stopped
                           without its STOP, or died, and sends no VRRP
                           advert any more, so the peer takes over; this
                           box must not stay master beside it
Every second it also reads the appliance's role and, when it is not the
one keepalived last said, says it again (logged as RESENT): an appliance
restarted under a keepalived MASTER comes back as backup (every start
does), and a word that found no appliance (restarting, its socket not
there yet) would otherwise be lost for good - no box would serve, or two.
PREFIX: the appliance's EAL --file-prefix (its telemetry socket,
/var/run/dpdk/PREFIX/dpdk_telemetry.v2, root-only: being able to reach it
is the authentication).  INSTANCE: only that vrrp_instance's lines count
(keepalived writes every instance's; without it, all do).  LOG ("-":
none) gets one line per change: wall
clock (ms), state, the appliance's reply; a log that cannot be written
is skipped, never the end of the reader.
"""
import json
import os
import select
import socket
import sys
import time

ROLES = {"MASTER": "master", "BACKUP": "backup", "FAULT": "backup", "STOP": "backup"}


# connect() refused because the telemetry socket's backlog (DPDK listens
# with 1) is full while other clients are served, or a connection closed
# before its greeting (DPDK serves 10 clients at most): tried again, 0.1 s
# apart, 50 times at the most (a lost MASTER would leave no serving box)
BUSY = (BlockingIOError, ConnectionRefusedError)
TRIES = 50


def tell(prefix, role, busy=BUSY, timeout=10.0):
    """/headcount/ha,ROLE (ROLE "": only read it); the reply's dict, or the
    error as text.  Connects refused with BUSY are tried again."""
    cmd = "/headcount/ha" + ("," + role if role else "")
    for attempt in range(TRIES):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                s.settimeout(timeout)
                try:
                    s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix)
                except busy:
                    if attempt + 1 < TRIES:
                        time.sleep(0.1)
                        continue
                    raise
                greeting = s.recv(1024)
                if not greeting:
                    # closed before its greeting: DPDK serves 10 clients
                    # at most and closes the 11th at once; tried again
                    if attempt + 1 < TRIES:
                        time.sleep(0.1)
                        continue
                    return "error: the telemetry socket closed the connection (too many clients)"
                hello = json.loads(greeting.decode())
                s.send(cmd.encode())
                return json.loads(s.recv(hello["max_output_len"]).decode())["/headcount/ha"]
        except (OSError, ValueError, KeyError) as e:
            return "error: %s" % e
    return "error: unreachable"


def alive(prefix):
    """--alive PREFIX (keepalived's vrrp_script): exit 0 if the appliance
    answers /headcount/ha.  A connect refused for a full backlog (another
    telemetry client served), or a connection closed before its greeting
    (10 clients served), is tried again: the appliance lives; refused
    for no listener, or no answer (keepalived's timeout ends us): a FAULT."""
    reply = tell(prefix, "", busy=BlockingIOError)
    return 0 if isinstance(reply, dict) else 1


RECHECK_S = 1.0       # how often the appliance's role is compared
MAX_LINE = 4096       # a FIFO line longer than this is dropped


def note(log, what, reply):
    if log == "-":
        return
    try:
        with open(log, "a") as out:
            out.write("%d %s %s\n" % (time.time() * 1000, what, reply))
    except OSError:
        pass    # a full or missing log must not end the reader


def recheck(prefix, log, want):
    """Say want again if the appliance answers with another role.  Only
    a quick look (no retries, 1 s at most): keepalived's next word must
    not wait behind it; a busy or slow appliance is looked at next time."""
    reply = tell(prefix, "", busy=(), timeout=1.0)
    if isinstance(reply, dict) and reply.get("role") not in (want, "standalone"):
        note(log, "RESENT " + want, tell(prefix, want))


def main(argv):
    if len(argv) == 3 and argv[1] == "--alive":
        return alive(argv[2])
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    # keepalived appends the FIFO's name to the command: it comes last
    prefix, log, fifo = argv[1], argv[2], argv[-1]
    instance = '"%s"' % argv[3] if len(argv) == 5 else None
    want = None                     # the role keepalived last said
    fd = os.open(fifo, os.O_RDONLY)  # (waits for keepalived to open it)
    buf = b""
    next_check = time.monotonic() + RECHECK_S
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], max(0.0, next_check - time.monotonic()))
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    # keepalived closed the FIFO: it stopped (its STOP
                    # said backup) or died (nothing said): the peer,
                    # hearing no advert, takes over
                    if want != "backup":
                        note(log, "EOF", tell(prefix, "backup"))
                    return 0
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    words = line.decode("utf-8", "replace").split()
                    if len(words) < 3 or words[0] != "INSTANCE" or words[2] not in ROLES:
                        continue
                    if instance is not None and words[1] != instance:
                        continue    # another vrrp_instance of this keepalived
                    want = ROLES[words[2]]
                    note(log, words[2], tell(prefix, want))
                if len(buf) > MAX_LINE:
                    buf = b""
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + RECHECK_S
                if want is not None:
                    recheck(prefix, log, want)
    finally:
        os.close(fd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
