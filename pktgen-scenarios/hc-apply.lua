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
--   HC_PCAP       the pcap given to -s 0:FILE: its frames are counted here;
--                 several, comma-separated: ports 0, 1, ... (-s 1:FILE ...)
--   HC_COUNT      frames to send (instead of counting HC_PCAP), one per port
--   HC_RATE       percent of the port's link speed, fractional allowed [1]
--   HC_TIMEOUT_S  give up waiting for the count after this long     [600]
-- Output (stdout), one line each, key=value after "hc-apply: ":
--   count=N rate=R       what it sends (count: all ports together;
--                        with several ports, then "port=P count=N" each)
--   sent=N complete=1|0 waited_ms=T   Pktgen's opackets at the end
--   error=...            a setting is wrong: nothing is sent
local here = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./")
package.path = here .. "?.lua;" .. package.path
local hc = require "hc_lib"

local function say(...) hc.say("hc-apply", ...) end
local function list(s)
	local t = {}
	for v in string.gmatch(s or "", "[^,]+") do t[#t + 1] = v end
	return t
end

local rate, err = hc.num("HC_RATE", 1, 0.001, 100)
local timeout_s, err2 = hc.num("HC_TIMEOUT_S", 600, 1, 86400)
err = err or err2
-- counts[i]: the frames port i - 1 sends
local counts = {}
local given = list(os.getenv("HC_COUNT"))
local pcaps = list(os.getenv("HC_PCAP"))
if err == nil and #given > 0 then
	for i, c in ipairs(given) do
		local v = tonumber(c)
		if v == nil or v < 1 or v ~= math.floor(v) then
			err = string.format("HC_COUNT=%s: not a list of whole numbers >= 1",
					    os.getenv("HC_COUNT"))
			break
		end
		counts[i] = math.floor(v)
	end
elseif err == nil and #pcaps > 0 then
	for i, f in ipairs(pcaps) do
		counts[i], err = hc.pcap_frames(f)
		if err ~= nil then break end
	end
elseif err == nil then
	err = "set HC_PCAP (the pcap given to -s 0:FILE) or HC_COUNT"
end
if err == nil and #counts > 8 then err = "at most 8 ports" end
if err ~= nil then
	say("error=%s", err)
	pktgen.quit()
	return
end

local total = 0
for _, c in ipairs(counts) do total = total + c end
pktgen.screen("off")
for i = 1, #counts do pktgen.stop(tostring(i - 1)) end
pktgen.clr()
for i, c in ipairs(counts) do
	local port = tostring(i - 1)
	pktgen.pcap(port, "on")
	pktgen.set(port, "count", c)
	pktgen.set(port, "rate", rate)
end
say("count=%d rate=%s", total, tostring(rate))
if #counts > 1 then
	for i, c in ipairs(counts) do say("port=%d count=%d", i - 1, c) end
end
for i = 1, #counts do pktgen.start(tostring(i - 1)) end
-- Pktgen stops each port by itself after its count; its counters are
-- refreshed about once a second, so poll them, bounded in time
local waited, step, sent, done = 0, 250, 0, false
repeat
	pktgen.delay(step)
	waited = waited + step
	sent, done = 0, true
	for i, c in ipairs(counts) do
		local st = pktgen.portStats(tostring(i - 1), "port")[i - 1]
		local n = st and st.opackets or 0
		sent = sent + n
		done = done and n >= c
	end
until done or waited >= timeout_s * 1000
for i = 1, #counts do pktgen.stop(tostring(i - 1)) end
say("sent=%d complete=%d waited_ms=%d", sent, sent == total and 1 or 0, waited)
pktgen.quit()
