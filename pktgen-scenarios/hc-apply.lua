-- SPDX-License-Identifier: BSD-3-Clause
-- hc-apply.lua - Pktgen-DPDK 23.06 scenario: send one headcount scenario
-- pcap (from hc-scenario, loaded with -s 0:FILE.pcap) at a set rate for a
-- set time, then stop and quit.
--
-- Environment (optional):
--   HC_RATE     percent of the port's link speed       [10]
--   HC_SECONDS  how long to send                       [10]
--
-- Every EVENTS datagram of the pcap carries a gateway sequence number, so
-- only the first pass over the file changes the appliance's state; later
-- passes are counted as duplicates (seq_duplicates).  Size the pcap and
-- HC_SECONDS so that one pass covers the measurement (see README.md).
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local port = "0"
local rate = tonumber(os.getenv("HC_RATE") or "10")
local seconds = tonumber(os.getenv("HC_SECONDS") or "10")

pktgen.screen("off")
pktgen.stop(port)
pktgen.clr()
pktgen.set(port, "rate", rate)
pktgen.pcap(port, "on")
printf("hc-apply: sending the pcap on port %s at %d%% for %d s\n", port, rate, seconds)
pktgen.start(port)
pktgen.delay(seconds * 1000)
pktgen.stop(port)
pktgen.delay(500)
local st = pktgen.portStats(port, "port")[tonumber(port)]
if st ~= nil then
	printf("hc-apply: port %s sent %d packets\n", port, st.opackets)
end
pktgen.quit()
