-- SPDX-License-Identifier: BSD-3-Clause
-- hc-soak.lua - Pktgen-DPDK 23.06 scenario: loop a headcount pcap at full
-- rate for HC_SECONDS (default 60). After the first pass every EVENTS
-- datagram is a duplicate and every malformed frame a counted drop: this
-- measures the appliance's validation and duplicate-suppression path at
-- line rate, and shows it never changes state on replayed or bad input
-- (compare --dump-rooms with the scenario's truth.csv afterwards).
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local port = "0"
local seconds = tonumber(os.getenv("HC_SECONDS") or "60")

pktgen.screen("off")
pktgen.stop(port)
pktgen.clr()
pktgen.set(port, "rate", 100)
pktgen.pcap(port, "on")
printf("hc-soak: looping the pcap on port %s for %d s\n", port, seconds)
pktgen.start(port)
pktgen.delay(seconds * 1000)
pktgen.stop(port)
pktgen.quit()
