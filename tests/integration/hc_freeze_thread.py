#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""hc_freeze_thread.py PID NAME THAW_FILE - stop one thread of a process,
not the process: the thread of PID whose name (comm) is NAME (a DPDK
lcore, "rte-worker-1") is seized with ptrace(2) and interrupted, so it
sits in a ptrace stop while every other thread runs on (a stuck worker,
for deploy_unit.sh's watchdog check).  Prints "frozen TID" once it is
stopped, then waits until THAW_FILE exists (at most 120 s), detaches
(the thread runs again) and prints "thawed TID".  Exit 1 if the thread
is not found or cannot be stopped.
"""
import ctypes
import os
import sys
import time

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000


def main():
    pid, name, thaw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    tid = None
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
            if f.read().strip() == name:
                tid = int(t)
    if tid is None:
        print("no thread named %s in %d" % (name, pid), file=sys.stderr)
        return 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    libc.ptrace.restype = ctypes.c_long
    for req in (PTRACE_SEIZE, PTRACE_INTERRUPT):
        if libc.ptrace(req, tid, None, None) != 0:
            print("ptrace %#x on %d: %s" % (req, tid, os.strerror(ctypes.get_errno())),
                  file=sys.stderr)
            return 1
    _, status = os.waitpid(tid, WALL)
    if not os.WIFSTOPPED(status):
        print("thread %d did not stop (status %#x)" % (tid, status), file=sys.stderr)
        return 1
    print("frozen %d" % tid, flush=True)
    end = time.monotonic() + 120
    while not os.path.exists(thaw) and time.monotonic() < end:
        time.sleep(0.05)
    rc = libc.ptrace(PTRACE_DETACH, tid, None, None)
    print("thawed %d%s" % (tid, "" if rc == 0 else
                           " (detach: %s)" % os.strerror(ctypes.get_errno())), flush=True)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
