-- SPDX-License-Identifier: BSD-3-Clause
-- pktgen_stub.lua - a small stand-in for Pktgen-DPDK 23.06's Lua API, so
-- that CI can run the scenario scripts with plain lua5.3 (no DPDK, no
-- Pktgen): `lua5.3 -l pktgen_stub SCRIPT` with LUA_PATH naming this
-- directory.  Every call a script makes is printed as one line
--   CALL name(arg1,arg2,...)
-- in the order made, and the script's own output passes through, so a
-- test can compare the whole transcript exactly.
--
-- It models only what the scripts read back: ports that, once started,
-- sends at a fixed number of frames per simulated second (the rate,
-- percent of a 10 Gb/s link of 64-byte frames: 14,880,952 frames/s at
-- 100 %, cut to whole frames per millisecond of delay) until the count
-- set with set(port, "count", N) is reached, or forever with count 0.
-- pktgen.delay(ms) advances that simulated clock; nothing sleeps.
-- Like Pktgen, set() takes (portlist, what, number) and rate is read as a
-- string, so a fractional rate is kept as given.
-- PKTGEN_STUB_PORTS=N: ports 0..N-1 (default 1), each with its own
-- count, rate and counters.  PKTGEN_STUB_STALL=N: every port stops
-- sending after N frames (a lost transmitter), to test a bounded wait.

local stub = {rate = 100, stall = tonumber(os.getenv("PKTGEN_STUB_STALL") or ""),
	      ports = tonumber(os.getenv("PKTGEN_STUB_PORTS") or "1"), port = {}}
for i = 0, stub.ports - 1 do
	stub.port[i] = {count = 0, rate = 100, sent = 0, sending = false, pcap = false}
end

local function record(name, ...)
	local args = {...}
	for i = 1, select("#", ...) do args[i] = tostring(args[i]) end
	io.write("CALL ", name, "(", table.concat(args, ","), ")\n")
	io.flush()
end

-- the ports a portlist names: "N", N, "all"
local function ports_of(p)
	if p == "all" then
		local all = {}
		for i = 0, stub.ports - 1 do all[#all + 1] = stub.port[i] end
		return all
	end
	local n = tonumber(p)
	if n == nil or stub.port[n] == nil then
		error("pktgen_stub: no port " .. tostring(p) .. " (PKTGEN_STUB_PORTS=" ..
		      stub.ports .. ")", 3)
	end
	return {stub.port[n]}
end

pktgen = {}

function pktgen.screen(s) record("screen", s) end
function pktgen.clr()
	record("clr")
	for i = 0, stub.ports - 1 do stub.port[i].sent = 0 end
end
function pktgen.quit() record("quit") end
function pktgen.pcap(p, s)
	record("pcap", p, s)
	for _, pt in ipairs(ports_of(p)) do pt.pcap = (s == "on" or s == "enable") end
end
function pktgen.set(p, what, v)
	record("set", p, what, v)
	assert(select("#", p, what, v) == 3 and type(v) == "number",
	       "pktgen_stub: set wants (portlist, what, number)")
	for _, pt in ipairs(ports_of(p)) do
		if what == "count" then pt.count = math.floor(v)
		elseif what == "rate" then
			local r = tonumber(tostring(v))
			if r == 0 then r = 0.01 elseif r > 100 then r = 100 end
			pt.rate = r
		end
	end
end
function pktgen.start(p)
	record("start", p)
	for _, pt in ipairs(ports_of(p)) do pt.sending = true end
end
function pktgen.stop(p)
	record("stop", p)
	for _, pt in ipairs(ports_of(p)) do pt.sending = false end
end
function pktgen.delay(ms)
	record("delay", ms)
	for i = 0, stub.ports - 1 do
		local pt = stub.port[i]
		if pt.sending then
			local n = math.floor(14880952 * pt.rate / 100 / 1000) * ms
			if pt.count > 0 then n = math.min(n, pt.count - pt.sent) end
			if stub.stall ~= nil then n = math.min(n, math.max(0, stub.stall - pt.sent)) end
			pt.sent = pt.sent + n
			if pt.count > 0 and pt.sent >= pt.count then pt.sending = false end
		end
	end
end
function pktgen.sleep(s) pktgen.delay(s * 1000) end
function pktgen.portStats(p, kind)
	record("portStats", p, kind)
	local t = {n = 0}
	for i = 0, stub.ports - 1 do
		if p == "all" or tonumber(p) == i then
			t[i] = {opackets = stub.port[i].sent, ipackets = 0, oerrors = 0,
				imissed = 0, ierrors = 0, rx_nombuf = 0}
			t.n = t.n + 1
		end
	end
	if t.n == 0 then error("pktgen_stub: no port " .. tostring(p), 2) end
	return t
end

-- what `require "Pktgen"` (Pktgen's own Pktgen.lua) gives a script
function printf(...) io.write(string.format(...)); io.flush() end
package.loaded["Pktgen"] = true
