-- SPDX-License-Identifier: BSD-3-Clause
-- hc-soak.lua - Pktgen-DPDK 23.06 scenario: loop a headcount pcap for a
-- set time. After the first pass every EVENTS datagram is a duplicate and
-- every malformed frame a counted drop: this loads the appliance's
-- validation and duplicate-suppression path and shows that replayed or
-- bad input never changes its state (its --dump-rooms must still equal
-- the scenario's truth.csv afterwards).
--
-- Environment:
--   HC_RATE     percent of the port's link speed, fractional allowed [100]
--   HC_SECONDS  how long to send                                      [60]
--   HC_PCAP     the pcap given to -s 0:FILE (optional: passes= counted)
-- Output (stdout), key=value after "hc-soak: ":
--   rate=R seconds=S     what it does
--   sent=N pps=P oerrors=E [passes=X]   Pktgen's counters at the end
--   error=...            a setting is wrong: nothing is sent
local here = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./")
package.path = here .. "?.lua;" .. package.path
local hc = require "hc_lib"

local port = "0"
local function say(...) hc.say("hc-soak", ...) end

local rate, err = hc.num("HC_RATE", 100, 0.001, 100)
local seconds, err2 = hc.num("HC_SECONDS", 60, 1, 86400)
err = err or err2
local frames
local pcap = os.getenv("HC_PCAP")
if err == nil and pcap ~= nil and pcap ~= "" then frames, err = hc.pcap_frames(pcap) end
if err ~= nil then
	say("error=%s", err)
	pktgen.quit()
	return
end
seconds = math.floor(seconds)

pktgen.screen("off")
pktgen.stop(port)
pktgen.clr()
pktgen.pcap(port, "on")
pktgen.set(port, "count", 0) -- 0: send until stopped
pktgen.set(port, "rate", rate)
say("rate=%s seconds=%d", tostring(rate), seconds)
pktgen.start(port)
for _ = 1, seconds do pktgen.delay(1000) end
pktgen.stop(port)
pktgen.delay(1500) -- Pktgen refreshes its counters about once a second
local st = pktgen.portStats(port, "port")[tonumber(port)] or {}
local sent = st.opackets or 0
local line = string.format("sent=%d pps=%d oerrors=%d", sent, sent // seconds, st.oerrors or 0)
if frames ~= nil and frames > 0 then
	line = line .. string.format(" passes=%.2f", sent / frames)
end
say("%s", line)
pktgen.quit()
