#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""hc-ha-notify.py PREFIX LOG [INSTANCE] FIFO - keepalived's notify_fifo_script for a
headcount appliance of an active/standby pair (docs/scaling.md, "High
availability").  hc-ha-notify.py --alive PREFIX: its vrrp_script (exit 0
if the appliance answers its telemetry as one of an HA pair and every data
port has its link: a standalone appliance, ha not set in its
configuration, is a FAULT, and the reader logs it as an ERROR; a port
without its link is a FAULT too).

keepalived starts it once and writes every state change to FIFO, in order,
as lines 'INSTANCE "name" STATE PRIORITY' (notify scripts, one process per
change, may finish out of order: a late BACKUP of the start would undo a
MASTER).  One process for the life of keepalived: no interpreter starts
between a VRRP decision and the appliance hearing it.
  MASTER                -> /headcount/ha,master (a new epoch, ARP for the
                           service address, gratuitous ARPs)
  BACKUP, FAULT, STOP   -> /headcount/ha,backup (release the address;
                           place, balance and send nothing)
How keepalived (2.2.7, Debian 12) ends a reader, measured: a stop sends
it SIGTERM, then writes STOP (tens of ms later), then closes the FIFO; a
reload (SIGHUP) sends SIGTERM and closes the FIFO, then starts a new
reader, to which it writes no state (fifo_write_vrrp_states_on_reload did
not either), on the same FIFO if keepalived did not create it (one left
by a keepalived that was killed); keepalived killed sends SIGTERM too
(its children's death signal); keepalived kills its reader 1 s after the
SIGTERM.  The FIFO's close says nothing reliable (a reused FIFO is open
again before the reader may look), so the reader holds it open for
writing too (it never reads an end, and opening it never waits) and
tells the three apart otherwise.  Once it has the FIFO open it leaves
FIFO.reader (its pid, written whole); on SIGTERM it reads on for up to TERM_GRACE_S:
  STOP                   -> ,backup (as any STOP), then exit
  a new reader started (FIFO.reader names another pid: no clock),
  keepalived (our parent) alive: a reload
                         -> nothing said; the last word is left in
                           FIFO.want for the new reader, which takes it
                           as its own (its recheck then goes on)
  keepalived gone (our parent), or the grace over without either (a
  slow stop)             -> ,backup unless backup was the last word: no
                           VRRP advert of this box can be counted on, the
                           peer takes over, and this box must not stay
                           master beside it
keepalived gone without a SIGTERM is seen within a second the same way.
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
import signal
import socket
import stat
import sys
import tempfile
import time

ROLES = {"MASTER": "master", "BACKUP": "backup", "FAULT": "backup", "STOP": "backup"}


# connect() refused because the telemetry socket's backlog (DPDK listens
# with 1) is full while other clients are served, or a connection closed
# before its greeting (DPDK serves 10 clients at most): tried again, 0.1 s
# apart, 50 times at the most (a lost MASTER would leave no serving box)
BUSY = (BlockingIOError, ConnectionRefusedError)
TRIES = 50


def tell(prefix, role, busy=BUSY, timeout=10.0, deadline=lambda: None):
    """/headcount/ha,ROLE (ROLE "": only read it); the reply's dict, or the
    error as text.  Connects refused with BUSY are tried again, until
    deadline() (time.monotonic(); None: none), asked before each try: a
    reader keepalived is ending has a second before it is killed."""
    cmd = "/headcount/ha" + ("," + role if role else "")
    until = time.monotonic() + timeout     # the whole exchange, every try

    def left():
        """time for the next socket operation (asked before each: a
        SIGTERM meanwhile brings the deadline in)"""
        end = deadline()
        end = until if end is None else min(until, end)
        rest = end - time.monotonic()
        if rest <= 0:
            raise TimeoutError("out of time")
        return rest

    for attempt in range(TRIES):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                s.settimeout(left())
                try:
                    s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix)
                except busy:
                    if attempt + 1 < TRIES:
                        time.sleep(0.1)
                        continue
                    raise
                s.settimeout(left())
                greeting = s.recv(1024)
                if not greeting:
                    # closed before its greeting: DPDK serves 10 clients
                    # at most and closes the 11th at once; tried again
                    if attempt + 1 < TRIES:
                        time.sleep(0.1)
                        continue
                    return "error: the telemetry socket closed the connection (too many clients)"
                hello = json.loads(greeting.decode())
                s.settimeout(left())
                s.send(cmd.encode())
                s.settimeout(left())
                size = min(int(hello["max_output_len"]), 1 << 20)
                return json.loads(s.recv(size).decode())["/headcount/ha"]
        except (OSError, ValueError, KeyError, TypeError, OverflowError) as e:
            return "error: %s" % e
    return "error: unreachable"


STANDALONE = ("the appliance runs standalone (no ha = backup in its configuration, "
              "no --ha backup): keepalived's word cannot move its service address, "
              "and the peer box may answer for the same address")


def alive(prefix):
    """--alive PREFIX (keepalived's vrrp_script): exit 0 if the appliance
    answers /headcount/ha as one of an HA pair with every data port's link
    up (a standalone one, which takes no role from keepalived, is a FAULT;
    so is a port without its link, links_down, read once a second).  A connect refused for a full backlog (another
    telemetry client served), or a connection closed before its greeting
    (10 clients served), is tried again: the appliance lives; refused
    for no listener, or no answer (keepalived's timeout ends us): a FAULT."""
    reply = tell(prefix, "", busy=BlockingIOError)
    if isinstance(reply, dict) and reply.get("role") == "standalone":
        # (under keepalived always a misconfiguration: a FAULT, so that
        # keepalived's state says so, not a healthy pair)
        print("hc-ha-notify: " + STANDALONE, file=sys.stderr)
        return 1
    if isinstance(reply, dict) and reply.get("links_down", 0) != 0:
        # a data port without its link (a vfio NIC's cable, an af_packet
        # port's interface down): this box cannot serve, the peer can
        print("hc-ha-notify: %s of the appliance's %s data ports have no link"
              % (reply.get("links_down"), reply.get("ports")), file=sys.stderr)
        return 1
    return 0 if isinstance(reply, dict) else 1


RECHECK_S = 1.0       # how often the appliance's role is compared
MAX_LINE = 4096       # a FIFO line longer than this is dropped
TERM_GRACE_S = 0.5    # read on after SIGTERM (keepalived kills after 1 s;
                      # its STOP comes tens of ms after the SIGTERM)
KILL_AFTER_S = 0.95   # what is said after a SIGTERM, said by then
HANDOFF_WAIT_S = 2.0  # a new reader looks this long for its predecessor's word
HANDOFF_MAX_AGE_S = 30.0  # a FIFO.want older than this is not taken


def handoff_path(fifo):
    return fifo + ".want"


def take_handoff(fifo):
    """The role the reader before us left at a reload, or None (none,
    too old, not a regular file, or unreadable); the file is removed.
    (No symlink followed, nothing that could block: a FIFO planted there.)"""
    path = handoff_path(fifo)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        role = os.read(fd, 64).decode("ascii", "replace").strip() if stat.S_ISREG(st.st_mode) else ""
        age = time.time() - st.st_mtime
        os.unlink(path)
    except OSError:
        return None
    finally:
        os.close(fd)
    return role if role in ("master", "backup") and 0 <= age < HANDOFF_MAX_AGE_S else None


def write_whole(path, text):
    """text into path: written aside (a name of its own) and renamed, so
    a reader reads all of it or none"""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".",
                                   dir=os.path.dirname(os.path.abspath(path)))
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False


def leave_handoff(fifo, want):
    """want, for the next reader"""
    write_whole(handoff_path(fifo), want + "\n")


def reader_path(fifo):
    return fifo + ".reader"


def newer_reader(fifo):
    """Has another reader of fifo started since ours?  (Each overwrites
    FIFO.reader with its pid once it has the FIFO open: no clock.)"""
    try:
        fd = os.open(reader_path(fifo), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        pid = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        return False
    finally:
        os.close(fd)
    return stat.S_ISREG(st.st_mode) and pid.isdigit() and pid != str(os.getpid())


def note(log, what, reply):
    if log == "-":
        return
    try:
        with open(log, "a") as out:
            out.write("%d %s %s\n" % (time.time() * 1000, what, reply))
    except OSError:
        pass    # a full or missing log must not end the reader


def recheck(prefix, log, want, deadline, said):
    """Say want again if the appliance answers with another role.  Only
    quick looks (no retries, 1 s at most; saying it 2 s at most a try):
    keepalived's next word, or its SIGTERM, must not wait behind them; a
    busy or slow appliance is looked at next time.  A standalone appliance
    takes no role: logged as an ERROR, once until it answers otherwise
    (said["standalone"])."""
    reply = tell(prefix, "", busy=(), timeout=1.0, deadline=deadline)
    if isinstance(reply, dict) and reply.get("role") == "standalone":
        if not said.get("standalone"):
            note(log, "ERROR", STANDALONE)
        said["standalone"] = True
        return
    if isinstance(reply, dict):
        said["standalone"] = False
    if isinstance(reply, dict) and reply.get("role") != want:
        note(log, "RESENT " + want, tell(prefix, want, busy=(), timeout=2.0, deadline=deadline))


def main(argv):
    if len(argv) == 3 and argv[1] == "--alive":
        return alive(argv[2])
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    # keepalived appends the FIFO's name to the command: it comes last
    prefix, log, fifo = argv[1], argv[2], argv[-1]
    instance = '"%s"' % argv[3] if len(argv) == 5 else None
    parent = os.getppid()           # keepalived's VRRP process
    term = []                       # when SIGTERM came (monotonic)
    signal.signal(signal.SIGTERM, lambda sig, frame: term.append(time.monotonic()))
    # (a handled signal does not end a select early, PEP 475: it writes
    # to this pipe, which the select watches)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    want = None                     # the role keepalived last said
    # (the reader before a reload leaves its word when it sees us: looked
    # for during HANDOFF_WAIT_S, until keepalived speaks)
    handoff_until = time.monotonic() + HANDOFF_WAIT_S

    spoke = False                   # keepalived has said a word to us
    said = {}                       # what recheck logged once

    def look_for_handoff():
        nonlocal want, handoff_until
        role = take_handoff(fifo)  # (taken away even after keepalived spoke)
        if role is not None and not spoke:
            want = role
            handoff_until = 0.0
            note(log, "TAKEN " + role, "(the word before keepalived's reload)")

    def deadline():
        """until when what we say may take: keepalived kills a reader a
        second after its SIGTERM; gone, it kills nothing"""
        if term and os.getppid() == parent:
            return term[0] + KILL_AFTER_S
        return None

    def end(why):
        """keepalived is done with us: a reload leaves the role to the
        new reader; anything else leaves this box a backup.  (With
        keepalived alive the word is left for a new reader either way:
        a reload whose new reader started later than the grace, on a
        loaded box, then has its role back at the new reader's first
        recheck; after a stop a new keepalived says BACKUP first.)"""
        if want is not None and os.getppid() == parent:
            leave_handoff(fifo, want)
        if why == "reload":
            note(log, "TERM (a reload: a new reader started)", "nothing said")
        elif want is None and os.getppid() == parent:
            note(log, why, "nothing said (keepalived said nothing to this reader)")
        elif want != "backup":
            note(log, why, tell(prefix, "backup", deadline=deadline))
        return 0

    look_for_handoff()
    # read and write: opening never waits for keepalived, and the FIFO
    # never reads as ended (keepalived's close says nothing reliable)
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    # (a reload's old reader looks: if this could not be written, a reload
    # is not told from a slow stop, and ends as one)
    marked = write_whole(reader_path(fifo), "%d\n" % os.getpid())
    buf = b""
    next_check = time.monotonic() + RECHECK_S
    try:
        while True:
            now = time.monotonic()
            if term:
                wait = term[0] + TERM_GRACE_S - now
            else:
                wait = next_check - now
            if (want is None or spoke) and now < handoff_until:
                look_for_handoff()
                wait = min(wait, 0.05)
            if term:
                wait = min(wait, 0.02)  # (looking for a new reader)
            ready, _, _ = select.select([fd, wake_r], [], [], max(0.0, wait))
            if wake_r in ready:
                os.read(wake_r, 64)
            if fd in ready:
                try:
                    chunk = os.read(fd, 4096)
                except BlockingIOError:
                    chunk = b""     # (another reader took it)
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    words = line.decode("utf-8", "replace").split()
                    if len(words) < 3 or words[0] != "INSTANCE" or words[2] not in ROLES:
                        continue
                    if instance is not None and words[1] != instance:
                        continue    # another vrrp_instance of this keepalived
                    want = ROLES[words[2]]
                    spoke = True    # keepalived's word rules (a late
                                    # hand-off is still taken away)
                    note(log, words[2], tell(prefix, want, deadline=deadline))
                    if words[2] == "STOP":
                        return 0    # keepalived stops: its last word said
                if len(buf) > MAX_LINE:
                    buf = b""
            if os.getppid() != parent:
                return end("keepalived gone")
            if term:
                if marked and newer_reader(fifo):
                    return end("reload")
                if time.monotonic() >= term[0] + TERM_GRACE_S:
                    return end("TERM, no STOP within the grace (a slow stop)")
                continue            # (no rechecks once told to end)
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + RECHECK_S
                if want is not None:
                    recheck(prefix, log, want, deadline, said)
    finally:
        os.close(fd)
        signal.set_wakeup_fd(-1)
        os.close(wake_r)
        os.close(wake_w)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
