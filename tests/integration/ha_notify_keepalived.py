#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ha_notify_keepalived.py - deploy/keepalived/hc-ha-notify.py under the
real keepalived (Debian's, as the pair runs it: notify_fifo_script, VRRP
v3, unicast to a peer that never answers, so this box becomes master), in
a network namespace of its own, against ha_notify_check.py's fake
appliance.  hc-ha-notify.py tells a reload from a stop from keepalived's
death by what keepalived does to its reader (SIGTERM, STOP, the FIFO
closed, its parent gone); this checks those, end to end:

  keepalived elects itself     -> the appliance is master
  a reload (SIGHUP)            -> nothing said (the role stays master);
                                  the new reader takes the word, and says
                                  it again when the appliance restarts
  a stop (SIGTERM)             -> the appliance is backup
  started again on a FIFO it did not create (one a killed keepalived
  left), reloaded              -> master, the role kept
  killed (SIGKILL, both        -> backup (the peer takes over: this box
  processes)                      must not stay master)

Every wait is on a condition, bounded (20 s).  Needs root, keepalived and
ip(8)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ha_notify_check as fake  # noqa: E402  (its fake appliance, its waits)

NOTIFY = os.path.join(HERE, "..", "..", "deploy", "keepalived", "hc-ha-notify.py")
NS = "hcnotify-%d" % os.getpid()


def sh(*cmd):
    subprocess.run(cmd, check=True)


def keepalived_conf(tmp):
    return """global_defs {
	router_id hc-notify-check
	script_user root
	vrrp_version 3
	notify_fifo %(tmp)s/notify.fifo
	notify_fifo_script "%(notify)s %(prefix)s %(tmp)s/notify.log hc"
}
vrrp_instance hc {
	state BACKUP
	interface hcn0
	virtual_router_id 51
	priority 100
	advert_int 0.1
	unicast_src_ip 198.18.9.1
	unicast_peer {
		198.18.9.2
	}
	virtual_ipaddress {
		198.18.9.100/32 dev hcn0
	}
}
""" % {"tmp": tmp, "notify": os.path.abspath(NOTIFY), "prefix": fake.PREFIX}


SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def start(tmp):
    """keepalived in the namespace (its own session: killed whole at the
    end); the PATH systemd gives it, so its scripts start Debian's python3"""
    env = dict(os.environ, PATH=SYSTEMD_PATH)
    for f in ("keepalived.pid", "vrrp.pid"):
        try:
            os.unlink(os.path.join(tmp, f))
        except OSError:
            pass
    return subprocess.Popen(
        ["ip", "netns", "exec", NS, "keepalived", "-n", "-l", "-P", "-f", tmp + "/keepalived.conf",
         "-p", tmp + "/keepalived.pid", "-r", tmp + "/vrrp.pid"],
        env=env, stdout=open(tmp + "/keepalived.log", "a"), stderr=subprocess.STDOUT,
        start_new_session=True)


def pid_of(path):
    fake.wait(os.path.basename(path) + " written", lambda: os.path.exists(path) and
              open(path).read().strip().isdigit())
    return int(open(path).read())


def taken_count(tmp):
    try:
        with open(tmp + "/notify.log") as f:
            return f.read().count("TAKEN master")
    except OSError:
        return 0


def reload_kept_master(app, n):
    """nothing said at a reload; on a loaded box the new reader may start
    after the old one's grace: then backup, and master again at once"""
    fake.wait("nothing said, or said again", lambda: app.role == "master" and
              app.requests[n:] in ([], ["backup", "master"]))


def main():
    if shutil.which("keepalived", path=SYSTEMD_PATH) is None:
        print("SKIP: no keepalived")
        return 77
    tmp = tempfile.mkdtemp(prefix="hc-notify-k-")
    with open(tmp + "/keepalived.conf", "w") as f:
        f.write(keepalived_conf(tmp))
    sh("ip", "netns", "add", NS)
    app = fake.FakeAppliance()
    k = None
    try:
        sh("ip", "-n", NS, "link", "add", "hcn0", "type", "veth", "peer", "name", "hcn1")
        sh("ip", "-n", NS, "addr", "add", "198.18.9.1/24", "dev", "hcn0")
        for ifc in ("lo", "hcn0", "hcn1"):
            sh("ip", "-n", NS, "link", "set", ifc, "up")
        app.up()
        k = start(tmp)

        print("keepalived elects itself (its peer never answers)")
        fake.wait("the appliance is master", lambda: app.role == "master")

        print("a reload (SIGHUP): nothing said, the word handed to the new reader")
        n = len(app.requests)
        taken = taken_count(tmp)
        os.kill(pid_of(tmp + "/keepalived.pid"), signal.SIGHUP)
        fake.wait("the new reader took the word", lambda: taken_count(tmp) > taken)
        reload_kept_master(app, n)
        app.down()
        app.up("backup")    # the appliance restarts: back as backup
        fake.wait("the new reader says master again", lambda: app.role == "master")

        print("a stop (SIGTERM): backup")
        n = len(app.requests)
        os.kill(pid_of(tmp + "/keepalived.pid"), signal.SIGTERM)
        fake.wait("the appliance is backup", lambda: app.role == "backup")
        fake.need("said once", app.requests[n:] == ["backup"], app.requests[n:])
        fake.wait("keepalived ended", lambda: k.poll() is not None)

        print("started again on a FIFO it did not create (as after a kill), reloaded")
        if not os.path.exists(tmp + "/notify.fifo"):
            os.mkfifo(tmp + "/notify.fifo")
        k = start(tmp)
        fake.wait("the appliance is master", lambda: app.role == "master")
        n = len(app.requests)
        taken = taken_count(tmp)
        os.kill(pid_of(tmp + "/keepalived.pid"), signal.SIGHUP)
        fake.wait("the new reader took the word", lambda: taken_count(tmp) > taken)
        reload_kept_master(app, n)

        print("then killed (SIGKILL): backup")
        n = len(app.requests)
        # (both keepalived processes at once: killed one by one, the main
        # one would respawn its VRRP child, whose new reader says BACKUP
        # itself; the reader left its process group and lives on)
        os.killpg(k.pid, signal.SIGKILL)
        fake.wait("the appliance is backup", lambda: app.role == "backup")
        fake.need("said once", app.requests[n:] == ["backup"], app.requests[n:])
    finally:
        if k is not None:
            try:
                os.killpg(k.pid, signal.SIGKILL)
            except OSError:
                pass
        app.running = False
        for path in (fake.SOCK, ):
            try:
                os.unlink(path)
            except OSError:
                pass
        try:
            os.rmdir(fake.SOCK_DIR)
        except OSError:
            pass
        subprocess.run(["ip", "netns", "del", NS])
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS: hc-ha-notify.py under keepalived: a reload keeps the role, a stop "
          "and keepalived's death leave this box a backup")
    return 0


if __name__ == "__main__":
    sys.exit(main())
