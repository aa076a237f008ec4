#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""rx-rate.py COUNTER OUT STOP [INTERVAL_S] - the rate frames arrived at,
from a kernel interface's counter (run.sh: the appliance's veth,
/sys/class/net/IF/statistics/rx_packets, read inside its namespace).

Pktgen's own figures only bound its rate from below (hc-apply.lua waits on
counters Pktgen refreshes once a second).  This reads COUNTER every
INTERVAL_S (0.002) until the file STOP exists (or 900 s), and writes to OUT
one line 'NS VALUE' (CLOCK_MONOTONIC nanoseconds) for the first reading
(at once: OUT not empty says the reader runs) and for every reading that
differs from the one before, then, at the end, the rate between the first
and the last reading that moved:

  rx_moved_frames=N rx_moved_ms=M rx_fps=F

(rx_fps 0 when fewer than two readings moved: a pass shorter than two
intervals).  The frames counted before the first moving reading and after
the last are left out, so the rate is that of the middle of the pass, to
within two intervals of its time.  Exit 2 on bad usage or an unreadable
counter."""
import os
import sys
import time


def read(path):
    with open(path) as f:
        return int(f.read())


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    counter, out, stop = argv[1], argv[2], argv[3]
    try:
        interval = float(argv[4]) if len(argv) == 5 else 0.002
        if not 0.0001 <= interval <= 1.0:
            raise ValueError("between 0.0001 and 1")
        last = read(counter)
    except (OSError, ValueError) as e:
        print("rx-rate.py: %s" % e, file=sys.stderr)
        return 2
    moved = []          # (ns, value) of the readings that moved
    with open(out, "w") as f:
        # the first reading at once: its line says the reader runs
        f.write("%d %d\n" % (time.monotonic_ns(), last))
        f.flush()
        end = time.monotonic() + 900
        while not os.path.exists(stop) and time.monotonic() < end:
            time.sleep(interval)
            try:
                now, v = time.monotonic_ns(), read(counter)
            except (OSError, ValueError) as e:   # (the interface went)
                f.write("# %s\n" % e)
                break
            if v != last:
                f.write("%d %d\n" % (now, v))
                moved.append((now, v))
                last = v
        frames = ms = fps = 0
        if len(moved) >= 2:
            (t0, v0), (t1, v1) = moved[0], moved[-1]
            frames, ms = v1 - v0, (t1 - t0) / 1e6
            fps = int(frames * 1000 / ms) if ms > 0 else 0
        f.write("rx_moved_frames=%d rx_moved_ms=%.1f rx_fps=%d\n" % (frames, ms, fps))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
