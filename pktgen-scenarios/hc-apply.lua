-- SPDX-License-Identifier: BSD-3-Clause
-- hc-apply.lua - Pktgen-DPDK 23.06 scenario: send exactly one pass of a
-- headcount scenario pcap (from hc-scenario, loaded with -s 0:FILE.pcap)
-- at a set rate, wait until Pktgen has sent it all, then stop and quit.
--
-- Every EVENTS datagram carries a gateway sequence number, so only the
-- first pass changes the appliance's state and only one pass matches the
-- scenario's .expect: the script sends by count (set 0 count N, N = the
-- pcap's frames), never by time.
--
-- Environment:
--   HC_PCAP       the pcap given to -s 0:FILE: its frames are counted here
--   HC_COUNT      frames to send (instead of counting HC_PCAP)
--   HC_RATE       percent of the port's link speed, fractional allowed [1]
--   HC_TIMEOUT_S  give up waiting for the count after this long     [600]
-- Output (stdout), one line each, key=value after "hc-apply: ":
--   count=N rate=R       what it sends
--   sent=N complete=1|0 waited_ms=T   Pktgen's opackets at the end
--   error=...            a setting is wrong: nothing is sent
local here = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./")
package.path = here .. "?.lua;" .. package.path
local hc = require "hc_lib"

local port = "0"
local function say(...) hc.say("hc-apply", ...) end

local rate, err = hc.num("HC_RATE", 1, 0.001, 100)
local timeout_s, err2 = hc.num("HC_TIMEOUT_S", 600, 1, 86400)
local count, err3 = hc.num("HC_COUNT", nil, 1, 2 ^ 53)
err = err or err2 or err3
if err == nil and count == nil then
	local pcap = os.getenv("HC_PCAP")
	if pcap == nil or pcap == "" then
		err = "set HC_PCAP (the pcap given to -s 0:FILE) or HC_COUNT"
	else
		count, err = hc.pcap_frames(pcap)
	end
end
if err ~= nil then
	say("error=%s", err)
	pktgen.quit()
	return
end
count = math.floor(count)

pktgen.screen("off")
pktgen.stop(port)
pktgen.clr()
pktgen.pcap(port, "on")
pktgen.set(port, "count", count)
pktgen.set(port, "rate", rate)
say("count=%d rate=%s", count, tostring(rate))
pktgen.start(port)
-- Pktgen stops by itself after the count; its counters are refreshed
-- about once a second, so poll them, bounded in time
local waited, step, sent = 0, 250, 0
repeat
	pktgen.delay(step)
	waited = waited + step
	local st = pktgen.portStats(port, "port")[tonumber(port)]
	sent = st and st.opackets or 0
until sent >= count or waited >= timeout_s * 1000
pktgen.stop(port)
say("sent=%d complete=%d waited_ms=%d", sent, sent == count and 1 or 0, waited)
pktgen.quit()
