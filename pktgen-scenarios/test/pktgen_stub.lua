-- SPDX-License-Identifier: BSD-3-Clause
-- pktgen_stub.lua - a small stand-in for Pktgen-DPDK 23.06's Lua API, so
-- that CI can run the scenario scripts with plain lua5.3 (no DPDK, no
-- Pktgen): `lua5.3 -l pktgen_stub SCRIPT` with LUA_PATH naming this
-- directory.  Every call a script makes is printed as one line
--   CALL name(arg1,arg2,...)
-- in the order made, and the script's own output passes through, so a
-- test can compare the whole transcript exactly.
--
-- It models only what the scripts read back: a port that, once started,
-- sends at a fixed number of frames per simulated second (the rate,
-- percent of a 10 Gb/s link of 64-byte frames: 14,880,952 frames/s at
-- 100 %, cut to whole frames per millisecond of delay) until the count
-- set with set(port, "count", N) is reached, or forever with count 0.
-- pktgen.delay(ms) advances that simulated clock; nothing sleeps.
-- Like Pktgen, set() takes (portlist, what, number) and rate is read as a
-- string, so a fractional rate is kept as given.
-- PKTGEN_STUB_STALL=N: the port stops sending after N frames (a lost
-- transmitter), to test a script's bounded wait.

local stub = {count = 0, rate = 100, sent = 0, sending = false, pcap = false,
	      stall = tonumber(os.getenv("PKTGEN_STUB_STALL") or "")}

local function record(name, ...)
	local args = {...}
	for i = 1, select("#", ...) do args[i] = tostring(args[i]) end
	io.write("CALL ", name, "(", table.concat(args, ","), ")\n")
	io.flush()
end

local function port_ok(p)
	if p ~= "0" and p ~= 0 and p ~= "all" then
		error("pktgen_stub: only port 0 exists, got " .. tostring(p), 3)
	end
end

pktgen = {}

function pktgen.screen(s) record("screen", s) end
function pktgen.clr() record("clr"); stub.sent = 0 end
function pktgen.quit() record("quit") end
function pktgen.pcap(p, s)
	record("pcap", p, s); port_ok(p)
	stub.pcap = (s == "on" or s == "enable")
end
function pktgen.set(p, what, v)
	record("set", p, what, v); port_ok(p)
	assert(select("#", p, what, v) == 3 and type(v) == "number",
	       "pktgen_stub: set wants (portlist, what, number)")
	if what == "count" then stub.count = math.floor(v)
	elseif what == "rate" then
		local r = tonumber(tostring(v))
		if r == 0 then r = 0.01 elseif r > 100 then r = 100 end
		stub.rate = r
	end
end
function pktgen.start(p) record("start", p); port_ok(p); stub.sending = true end
function pktgen.stop(p) record("stop", p); port_ok(p); stub.sending = false end
function pktgen.delay(ms)
	record("delay", ms)
	if not stub.sending then return end
	local per_ms = math.floor(14880952 * stub.rate / 100 / 1000)
	local n = per_ms * ms
	if stub.count > 0 then n = math.min(n, stub.count - stub.sent) end
	if stub.stall ~= nil then n = math.min(n, math.max(0, stub.stall - stub.sent)) end
	stub.sent = stub.sent + n
	if stub.count > 0 and stub.sent >= stub.count then stub.sending = false end
end
function pktgen.sleep(s) pktgen.delay(s * 1000) end
function pktgen.portStats(p, kind)
	record("portStats", p, kind); port_ok(p)
	return {[0] = {opackets = stub.sent, ipackets = 0, oerrors = 0, imissed = 0,
		       ierrors = 0, rx_nombuf = 0}, n = 1}
end

-- what `require "Pktgen"` (Pktgen's own Pktgen.lua) gives a script
function printf(...) io.write(string.format(...)); io.flush() end
package.loaded["Pktgen"] = true
