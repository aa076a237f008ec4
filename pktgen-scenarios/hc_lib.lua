-- SPDX-License-Identifier: BSD-3-Clause
-- hc_lib.lua - what the headcount Pktgen scenarios share: reading their
-- settings from the environment, counting a pcap's frames (so a script
-- sends exactly one pass with set(port, "count", N)) and printing result
-- lines.  Plain Lua 5.3: it needs nothing from Pktgen's own Pktgen.lua, so
-- the scripts run without LUA_PATH pointing at Pktgen's sources.
local M = {}

-- say(script, fmt, ...): one output line "script: ...", flushed at once
-- (Pktgen runs under `script`, its stdout a terminal).
function M.say(script, fmt, ...)
	io.write(script, ": ", string.format(fmt, ...), "\n")
	io.flush()
end

-- num(name, default, lo, hi): the environment variable NAME as a number in
-- [lo, hi] (default if unset); nil and a reason if it is not one.
function M.num(name, default, lo, hi)
	local s = os.getenv(name)
	if s == nil or s == "" then return default end
	local v = tonumber(s)
	if v == nil or v ~= v or v < lo or v > hi then
		return nil, string.format("%s=%s is not a number in [%s, %s]", name, s, lo, hi)
	end
	return v
end

-- pcap_frames(path): the number of frames in a classic pcap file (either
-- byte order, micro- or nanosecond stamps); nil and a reason otherwise.
function M.pcap_frames(path)
	local f, err = io.open(path, "rb")
	if f == nil then return nil, err end
	local hdr = f:read(24)
	if hdr == nil or #hdr < 24 then f:close(); return nil, path .. ": no pcap header" end
	local order
	local magic = string.unpack("<I4", hdr)
	if magic == 0xa1b2c3d4 or magic == 0xa1b23c4d then order = "<"
	elseif magic == 0xd4c3b2a1 or magic == 0x4d3cb2a1 then order = ">"
	else f:close(); return nil, path .. ": not a pcap file (pcapng is not read)" end
	local n = 0
	while true do
		local rec = f:read(16)
		if rec == nil then break end
		if #rec < 16 then f:close(); return nil, path .. ": truncated record header" end
		local incl = string.unpack(order .. "I4", rec, 9)
		local here = f:seek()
		local size = f:seek("end")
		if here + incl > size then f:close(); return nil, path .. ": truncated frame" end
		f:seek("set", here + incl)
		n = n + 1
	end
	f:close()
	return n
end

return M
