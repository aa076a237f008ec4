#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""hc_notify_listen.py SOCKET OUT PREFIX LOG - systemd's end of the
readiness protocol, for deploy_unit.sh: bind a unix datagram socket at
SOCKET (NOTIFY_SOCKET for the appliance) and write every message it gets
to OUT, one line each ("\\n" inside a message becomes " | ").  When a
message holds READY=1, look at once whether the appliance is ready as it
claims and add a line "at_ready telemetry=0|1 log_port=0|1 log_listening=0|1":
its telemetry (DPDK file prefix PREFIX) answers /headcount/stats, and its
log LOG already says a port started and that it listens.  Ends after
STOPPING=1, or after 300 s.
"""
import importlib.util
import os
import socket
import sys
import time


def main():
    path, out, prefix, log = sys.argv[1:5]
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "hctel", os.path.join(here, "..", "..", "tools", "hc-tel.py"))
    tel = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tel)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    end = time.monotonic() + 300
    with open(out, "a", buffering=1) as f:
        while time.monotonic() < end:
            s.settimeout(max(0.1, end - time.monotonic()))
            try:
                msg = s.recv(4096).decode()
            except socket.timeout:
                break
            lines = msg.split("\n")
            if "READY=1" in lines:
                try:
                    tel.command(prefix, "/headcount/stats")
                    answers = 1
                except Exception as e:
                    print("telemetry at READY=1: %r" % e, file=sys.stderr)
                    answers = 0
                text = open(log, errors="replace").read()
                port = int(" rx / " in text and "port 0 (" in text)
                listening = int("listening on " in text)
                f.write(" | ".join(lines) + "\n")
                f.write("at_ready telemetry=%d log_port=%d log_listening=%d\n"
                        % (answers, port, listening))
            else:
                f.write(" | ".join(lines) + "\n")
            if "STOPPING=1" in lines:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
