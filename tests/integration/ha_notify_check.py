#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ha_notify_check.py - deploy/keepalived/hc-ha-notify.py against a fake
appliance: a telemetry socket (AF_UNIX SEQPACKET, DPDK's greeting, the
/headcount/ha command) under a private prefix in /var/run/dpdk, and a FIFO
written as keepalived writes it.  Checks that keepalived's word reaches
the appliance, and that it reaches it again when the appliance lost it:

  MASTER                      -> ,master
  the appliance restarts      -> it comes back as backup (every start
                                 does); the reader says master again
  BACKUP                      -> ,backup
  MASTER while no appliance   -> said once the appliance answers
  a standalone appliance      -> logged once as an ERROR; --alive exits 1
  a data port without a link  -> --alive exits 1
  the log becomes unwritable  -> the reader goes on
  another vrrp_instance's line -> ignored (the reader is given its own)
  as keepalived 2.2.7 ends a reader (measured: hc-ha-notify.py's text):
  a reload: SIGTERM, a new reader on the same FIFO
                              -> nothing said, exit 0; the word left for
                                 the new reader, which takes it (and says
                                 it again when the appliance lost it)
  a stop: SIGTERM, STOP      -> backup, exit 0
  a slow stop: SIGTERM, no STOP within the grace -> backup
  keepalived gone, with or without the SIGTERM of its death
                              -> backup (the peer takes over)

Every wait is on a condition, bounded (20 s).  Needs root (/var/run/dpdk)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NOTIFY = os.path.join(HERE, "..", "..", "deploy", "keepalived", "hc-ha-notify.py")
PREFIX = "hc-notify-check-%d" % os.getpid()
SOCK_DIR = "/var/run/dpdk/" + PREFIX
SOCK = SOCK_DIR + "/dpdk_telemetry.v2"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def need(what, ok, got=""):
    if not ok:
        fail("%s (got %r)" % (what, got))
    print("  ok: " + what)


class FakeAppliance:
    """A telemetry socket that answers /headcount/ha as the appliance
    (control/hc_telemetry.c:tel_ha_cmd): a role, ,master and ,backup."""

    def __init__(self):
        self.role = "backup"
        self.links_down = 0     # /headcount/ha's, of 2 ports
        self.requests = []
        self.lock = threading.Lock()
        self.srv = None
        self.thread = None

    def up(self, role="backup"):
        self.role = role
        os.makedirs(SOCK_DIR, exist_ok=True)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.srv.bind(SOCK)
        self.srv.listen(4)
        self.srv.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def down(self):
        self.running = False
        self.thread.join(5)
        self.srv.close()
        os.unlink(SOCK)

    def serve(self):
        while self.running:
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(2)
                try:
                    c.send(json.dumps({"version": "fake", "pid": os.getpid(),
                                       "max_output_len": 16384}).encode())
                    cmd = c.recv(1024).decode()
                except OSError:
                    continue
                name, _, param = cmd.partition(",")
                if name != "/headcount/ha":
                    c.send(json.dumps({name: None}).encode())
                    continue
                reply = {}
                with self.lock:
                    if param in ("master", "backup") and self.role == "standalone":
                        reply["requested"] = 0    # (hc_ha_request refuses it)
                    elif param in ("master", "backup"):
                        self.requests.append(param)
                        self.role = param
                        reply["requested"] = 1
                    reply.update(role=self.role, serving=int(self.role == "master"), epoch=1,
                                 ports=2, links_down=self.links_down)
                c.send(json.dumps({"/headcount/ha": reply}).encode())


def wait(what, cond, limit=20.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            print("  ok: " + what)
            return
        time.sleep(0.05)
    fail("within %.0f s: %s" % (limit, what))


def ended(proc):
    try:
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        fail("the reader did not end")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        return str(e)


def open_writer(fifo, reader):
    """The FIFO's write end once the reader has opened it (bounded: a
    reader that died fails the test, not a hang)"""
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:      # ENXIO: no reader yet
            if reader is not None and reader.poll() is not None:
                fail("the reader ended before it opened the FIFO")
            time.sleep(0.02)
            continue
        os.set_blocking(fd, True)
        return os.fdopen(fd, "w", buffering=1)
    fail("within 20 s: the reader opened the FIFO")


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] == "Z"
    except OSError:
        return True


def log_has(path, text):
    try:
        with open(path) as f:
            return text in f.read()
    except OSError:
        return False


def main():
    tmp = tempfile.mkdtemp(prefix="hc-notify-")
    fifo, log = tmp + "/notify.fifo", tmp + "/notify.log"
    os.mkfifo(fifo)
    app = FakeAppliance()
    app.up()
    reader = subprocess.Popen([sys.executable, NOTIFY, PREFIX, log, "hc", fifo])
    keeper = None
    try:
        w = open_writer(fifo, reader)

        print("keepalived's word reaches the appliance")
        w.write('INSTANCE "hc" MASTER 100\n')
        wait("MASTER -> the appliance is master", lambda: app.role == "master")
        need("one request: master", app.requests == ["master"], app.requests)
        wait("logged", lambda: log_has(log, " MASTER {"))

        print("an appliance restarted under a keepalived MASTER comes back as backup")
        app.down()
        app.up("backup")
        wait("the reader said master again", lambda: app.role == "master")
        wait("logged as RESENT", lambda: log_has(log, " RESENT master {"))

        print("BACKUP")
        w.write('INSTANCE "hc" BACKUP 100\n')
        wait("BACKUP -> the appliance is backup", lambda: app.role == "backup")
        n = len(app.requests)
        time.sleep(2.5)   # two rechecks: the role is the one said, nothing resent
        need("nothing said again while the roles agree", len(app.requests) == n, app.requests)

        print("MASTER while the appliance is down (restarting)")
        app.down()
        w.write('INSTANCE "hc" MASTER 100\n')
        wait("the word that found no appliance is logged", lambda: log_has(log, " MASTER error"))
        app.up("backup")
        wait("said once the appliance answers", lambda: app.role == "master")

        print("an appliance started standalone (ha not set): an ERROR, --alive a FAULT")
        app.down()
        app.up("standalone")
        wait("logged as an ERROR", lambda: log_has(log, " ERROR the appliance runs standalone"))
        time.sleep(2.5)   # two rechecks more: logged once
        need("logged once", read(log).count(" ERROR ") == 1, read(log))
        alive = subprocess.run([sys.executable, NOTIFY, "--alive", PREFIX],
                               capture_output=True, text=True, timeout=30)
        need("--alive exits 1 (keepalived: FAULT)", alive.returncode == 1, alive.returncode)
        need("and says why", "runs standalone" in alive.stderr, alive.stderr)
        app.down()
        app.up("backup")
        wait("a master again once it runs in a pair", lambda: app.role == "master")
        alive = subprocess.run([sys.executable, NOTIFY, "--alive", PREFIX],
                               capture_output=True, text=True, timeout=30)
        need("--alive exits 0", alive.returncode == 0, (alive.returncode, alive.stderr))
        print("a data port without its link: --alive a FAULT")
        with app.lock:
            app.links_down = 1
        alive = subprocess.run([sys.executable, NOTIFY, "--alive", PREFIX],
                               capture_output=True, text=True, timeout=30)
        need("--alive exits 1 (keepalived: FAULT)", alive.returncode == 1, alive.returncode)
        need("and says why", "1 of the appliance's 2 data ports have no link" in alive.stderr,
             alive.stderr)
        with app.lock:
            app.links_down = 0

        print("another vrrp_instance's word")
        n = len(app.requests)
        w.write('INSTANCE "other" BACKUP 100\n')
        w.write('INSTANCE "hc" MASTER 100\n')    # (read after the other's)
        wait("its own MASTER said", lambda: len(app.requests) > n)
        need("the other instance's BACKUP ignored", app.requests[n:] == ["master"],
             app.requests[n:])

        print("the log becomes unwritable")
        os.remove(log)
        os.mkdir(log)     # open(log, "a") fails from now on
        w.write('INSTANCE "hc" FAULT 100\n')
        wait("FAULT -> backup, the reader alive", lambda: app.role == "backup")
        need("the reader runs", reader.poll() is None, reader.poll())

        print("keepalived reloads: SIGTERM, a new reader on the same FIFO")
        w.write('INSTANCE "hc" MASTER 100\n')
        wait("MASTER again", lambda: app.role == "master")
        n = len(app.requests)
        old = reader
        log = tmp + "/notify2.log"
        # (the new reader's start made certain before the old one's
        # SIGTERM, whatever the machine's load: the logic, not keepalived's
        # order, which ha-notify-keepalived runs)
        reader = subprocess.Popen([sys.executable, NOTIFY, PREFIX, log, "hc", fifo])
        wait("the new reader has the FIFO", lambda: read(fifo + ".reader") == "%d\n" % reader.pid)
        old.send_signal(signal.SIGTERM)
        need("the old reader exits 0", ended(old) == 0, old.poll())
        wait("the new reader took the word", lambda: log_has(log, "TAKEN master"))
        need("nothing said", app.requests[n:] == [] and app.role == "master", app.requests[n:])
        need("the word taken away", not os.path.exists(fifo + ".want"))
        app.down()
        app.up("backup")    # (keepalived wrote the new reader no state)
        wait("the new reader says master again", lambda: app.role == "master")

        print("keepalived stops: SIGTERM, then STOP")
        n = len(app.requests)
        reader.send_signal(signal.SIGTERM)
        w.write('INSTANCE "hc" STOP 100\n')
        need("the reader exits 0", ended(reader) == 0, reader.poll())
        need("it said backup", app.requests[n:] == ["backup"] and app.role == "backup",
             app.requests[n:])

        def master_reader():
            """a reader under a parent of its own (keepalived), told MASTER"""
            k = subprocess.Popen(
                [sys.executable, "-c", "import subprocess, sys, time\n"
                 "r = subprocess.Popen(sys.argv[1:])\nprint(r.pid, flush=True)\ntime.sleep(60)",
                 sys.executable, NOTIFY, PREFIX, log, "hc", fifo], stdout=subprocess.PIPE)
            pid = int(k.stdout.readline())
            wait("the reader has the FIFO", lambda: read(fifo + ".reader") == "%d\n" % pid)
            w.write('INSTANCE "hc" MASTER 100\n')
            wait("MASTER", lambda: app.role == "master")
            return k, pid, len(app.requests)

        print("a slow stop: SIGTERM, no STOP within the grace, no new reader")
        keeper, pid, n = master_reader()
        os.kill(pid, signal.SIGTERM)
        wait("the reader ended", lambda: gone(pid))
        need("it said backup", app.requests[n:] == ["backup"] and app.role == "backup",
             app.requests[n:])
        keeper.kill()
        keeper.wait(10)
        # (or a reload whose new reader started after the grace, on a
        # loaded box: it has the word, and says it again at its recheck)
        need("the word left for a late new reader", read(fifo + ".want") == "master\n",
             read(fifo + ".want"))
        late = subprocess.Popen([sys.executable, NOTIFY, PREFIX, log, "hc", fifo])
        wait("the late reader says master again", lambda: app.role == "master")
        late.send_signal(signal.SIGTERM)
        w.write('INSTANCE "hc" STOP 100\n')
        need("and ends at a STOP", ended(late) == 0 and app.role == "backup", app.role)

        print("keepalived gone without a signal: its reader orphaned")
        keeper, pid, n = master_reader()
        keeper.kill()
        keeper.wait(10)
        wait("it said backup", lambda: app.requests[n:] == ["backup"] and app.role == "backup")
        wait("the reader ended", lambda: gone(pid))

        print("keepalived killed: its reader orphaned, then SIGTERM")
        keeper, pid, n = master_reader()
        keeper.kill()
        keeper.wait(10)
        os.kill(pid, signal.SIGTERM)
        wait("it said backup", lambda: app.requests[n:] == ["backup"] and app.role == "backup")
        wait("the reader ended", lambda: gone(pid))
        w.close()
    finally:
        if reader.poll() is None:
            reader.kill()
        if keeper is not None and keeper.poll() is None:
            keeper.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        app.running = False
        try:
            os.unlink(SOCK)
        except OSError:
            pass
        try:
            os.rmdir(SOCK_DIR)
        except OSError:
            pass
    print("PASS: hc-ha-notify.py says keepalived's role, and says it again when the appliance lost it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
