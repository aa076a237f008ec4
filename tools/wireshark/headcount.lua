-- SPDX-License-Identifier: BSD-3-Clause
-- headcount.lua - a Wireshark/tshark dissector for the headcount protocol,
-- version 3 (docs/protocol.md, proto/hc_proto.h): the 40-byte header with
-- its flags, every message type's records (EVENTS, PLACE, ASSIGN, MOVE,
-- HEARTBEAT with its flags, SNAPSHOT with its prefix, RESYNC), and expert
-- notes for what the appliance would drop (bad magic or version, unknown
-- flags, a length that is not header + prefix + count * record).  Tags are
-- shown, not checked (that needs the gateway's key).
--
-- Use: wireshark -X lua_script:tools/wireshark/headcount.lua capture.pcap
--      (or copy it to ~/.local/lib/wireshark/plugins/).  UDP port 7100 by
--      default (Preferences > Protocols > HEADCOUNT), and any UDP payload
--      that starts with the magic "HCNT" and version 3 (heuristic).
-- Filter fields: hc.type, hc.gateway_id, hc.sequence, hc.flags.a2g,
-- hc.user, hc.room (any record's user or room), hc.event.op, ...

local hc = Proto("headcount", "headcount presence protocol")

local MAGIC = 0x48434E54
local VERSION = 3
local HDR = 40

local types = { [1] = "EVENTS", [2] = "PLACE", [3] = "ASSIGN", [4] = "MOVE",
	[5] = "HEARTBEAT", [6] = "SNAPSHOT", [7] = "RESYNC" }
local ops = { [1] = "JOIN", [2] = "LEAVE" }
local statuses = { [1] = "PLACED", [2] = "NEW_TOPIC", [3] = "NO_ROOM", [5] = "FULL",
	[6] = "SUPERSEDED" }
local reasons = { [1] = "GAP", [2] = "INCARNATION", [3] = "RESTART", [4] = "CHUNK (reserved)" }
-- record size by type; SNAPSHOT has a 16-byte prefix first
local record_size = { [1] = 24, [2] = 16, [3] = 24, [4] = 24, [5] = 24, [6] = 24, [7] = 16 }

local f = {
	magic = ProtoField.uint32("hc.magic", "Magic", base.HEX),
	version = ProtoField.uint8("hc.version", "Version", base.DEC),
	type = ProtoField.uint8("hc.type", "Type", base.DEC, types),
	flags = ProtoField.uint16("hc.flags", "Flags", base.HEX),
	f_auth = ProtoField.bool("hc.flags.auth", "AUTH (tag present)", 16, nil, 0x0001),
	f_slot = ProtoField.bool("hc.flags.key_slot", "KEY_SLOT (key slot 1)", 16, nil, 0x0002),
	f_a2g = ProtoField.bool("hc.flags.a2g", "A2G (sent by the appliance)", 16, nil, 0x0004),
	f_unknown = ProtoField.uint16("hc.flags.unknown", "Unknown flags", base.HEX, nil, 0xfff8),
	gateway_id = ProtoField.uint16("hc.gateway_id", "Gateway id", base.DEC),
	record_count = ProtoField.uint16("hc.record_count", "Record count", base.DEC),
	gw_inc = ProtoField.uint32("hc.gateway_incarnation", "Gateway incarnation", base.DEC),
	appl_inc = ProtoField.uint32("hc.appliance_incarnation", "Appliance incarnation", base.DEC),
	sequence = ProtoField.uint32("hc.sequence", "Sequence / counter", base.DEC),
	tag = ProtoField.bytes("hc.auth_tag", "Auth tag (SipHash-2-4-128)"),

	user = ProtoField.uint64("hc.user", "User", base.DEC),
	room = ProtoField.uint32("hc.room", "Room", base.DEC),
	pool = ProtoField.uint16("hc.pool", "Pool", base.DEC),
	session = ProtoField.uint64("hc.session", "Session (us since the epoch)", base.DEC),
	rflags8 = ProtoField.uint8("hc.record_flags8", "Record flags", base.HEX),
	rflags16 = ProtoField.uint16("hc.record_flags", "Record flags", base.HEX),

	ev_op = ProtoField.uint8("hc.event.op", "Op", base.DEC, ops),
	request = ProtoField.uint32("hc.request_id", "Request id", base.DEC),
	refused = ProtoField.uint32("hc.assign.refused_room", "Refused room", base.DEC),
	status = ProtoField.uint8("hc.assign.status", "Status", base.DEC, statuses),
	from_room = ProtoField.uint32("hc.move.from_room", "From room", base.DEC),
	to_room = ProtoField.uint32("hc.move.to_room", "To room", base.DEC),
	directive = ProtoField.uint32("hc.move.directive_id", "Directive id", base.DEC),
	attempt = ProtoField.uint16("hc.move.attempt", "Attempt", base.DEC),

	hb_last = ProtoField.uint32("hc.hb.last_sequence", "Last sequence", base.DEC),
	hb_users = ProtoField.uint32("hc.hb.user_count", "User count", base.DEC),
	hb_interval = ProtoField.uint32("hc.hb.interval_ms", "Interval (ms)", base.DEC),
	hb_flags = ProtoField.uint32("hc.hb.flags", "Heartbeat flags", base.HEX),
	hb_resync = ProtoField.bool("hc.hb.flags.resync_needed", "RESYNC_NEEDED", 32, nil, 0x1),
	hb_shutdown = ProtoField.bool("hc.hb.flags.shutdown", "SHUTDOWN", 32, nil, 0x2),
	hb_conflict = ProtoField.bool("hc.hb.flags.id_conflict", "ID_CONFLICT", 32, nil, 0x4),
	hb_settling = ProtoField.bool("hc.hb.flags.settling", "SETTLING", 32, nil, 0x8),
	hb_digest = ProtoField.uint64("hc.hb.digest", "Membership digest", base.HEX),

	snap_id = ProtoField.uint32("hc.snap.snapshot_id", "Snapshot id", base.DEC),
	snap_index = ProtoField.uint32("hc.snap.chunk_index", "Chunk index", base.DEC),
	snap_count = ProtoField.uint32("hc.snap.chunk_count", "Chunk count", base.DEC),
	snap_total = ProtoField.uint32("hc.snap.total_users", "Total users", base.DEC),

	rs_reason = ProtoField.uint32("hc.resync.reason", "Reason", base.DEC, reasons),
	rs_first = ProtoField.uint32("hc.resync.first_sequence", "First sequence", base.DEC),
	rs_last = ProtoField.uint32("hc.resync.last_sequence", "Last sequence", base.DEC),
	rs_snap = ProtoField.uint32("hc.resync.snapshot_id", "Snapshot id", base.DEC),
}
hc.fields = f

local e_malformed = ProtoExpert.new("hc.malformed", "Malformed headcount datagram",
	expert.group.MALFORMED, expert.severity.ERROR)
local e_flags = ProtoExpert.new("hc.unknown_flags", "Unknown header flags (the receiver drops it)",
	expert.group.PROTOCOL, expert.severity.WARN)
hc.experts = { e_malformed, e_flags }

hc.prefs.port = Pref.uint("UDP port", 7100, "The appliance's UDP port")

local record = {}

record[1] = function(t, b) -- EVENTS
	local op = b(12, 1):uint()
	t:add(f.user, b(0, 8))
	t:add(f.room, b(8, 4))
	t:add(f.ev_op, b(12, 1))
	t:add(f.rflags8, b(13, 1))
	t:add(f.pool, b(14, 2))
	t:add(f.session, b(16, 8))
	return string.format("%s user %s room %u", ops[op] or ("op " .. op), b(0, 8):uint64(),
		b(8, 4):uint())
end

record[2] = function(t, b) -- PLACE
	t:add(f.user, b(0, 8))
	t:add(f.request, b(8, 4))
	t:add(f.pool, b(12, 2))
	t:add(f.rflags16, b(14, 2))
	return string.format("PLACE user %s pool %u", b(0, 8):uint64(), b(12, 2):uint())
end

record[3] = function(t, b) -- ASSIGN
	local st = b(22, 1):uint()
	t:add(f.user, b(0, 8))
	t:add(f.request, b(8, 4))
	t:add(f.room, b(12, 4))
	t:add(f.refused, b(16, 4))
	t:add(f.pool, b(20, 2))
	t:add(f.status, b(22, 1))
	t:add(f.rflags8, b(23, 1))
	return string.format("%s user %s room %u", statuses[st] or ("status " .. st),
		b(0, 8):uint64(), b(12, 4):uint())
end

record[4] = function(t, b) -- MOVE
	t:add(f.user, b(0, 8))
	t:add(f.from_room, b(8, 4))
	t:add(f.to_room, b(12, 4))
	t:add(f.directive, b(16, 4))
	t:add(f.pool, b(20, 2))
	t:add(f.attempt, b(22, 2))
	return string.format("MOVE user %s %u -> %u", b(0, 8):uint64(), b(8, 4):uint(),
		b(12, 4):uint())
end

record[5] = function(t, b) -- HEARTBEAT
	t:add(f.hb_last, b(0, 4))
	t:add(f.hb_users, b(4, 4))
	t:add(f.hb_interval, b(8, 4))
	local ft = t:add(f.hb_flags, b(12, 4))
	ft:add(f.hb_resync, b(12, 4))
	ft:add(f.hb_shutdown, b(12, 4))
	ft:add(f.hb_conflict, b(12, 4))
	ft:add(f.hb_settling, b(12, 4))
	t:add(f.hb_digest, b(16, 8))
	return string.format("last %u, %u users", b(0, 4):uint(), b(4, 4):uint())
end

record[6] = function(t, b) -- SNAPSHOT member
	t:add(f.user, b(0, 8))
	t:add(f.room, b(8, 4))
	t:add(f.pool, b(12, 2))
	t:add(f.rflags16, b(14, 2))
	t:add(f.session, b(16, 8))
	return string.format("member %s room %u", b(0, 8):uint64(), b(8, 4):uint())
end

record[7] = function(t, b) -- RESYNC
	local r = b(0, 4):uint()
	t:add(f.rs_reason, b(0, 4))
	t:add(f.rs_first, b(4, 4))
	t:add(f.rs_last, b(8, 4))
	t:add(f.rs_snap, b(12, 4))
	return string.format("%s %u..%u", reasons[r] or ("reason " .. r), b(4, 4):uint(),
		b(8, 4):uint())
end

local function dissect(buf, pinfo, tree)
	local len = buf:len()
	if len < HDR then
		return 0
	end
	pinfo.cols.protocol = "HEADCOUNT"
	local t = tree:add(hc, buf(), "headcount")
	t:add(f.magic, buf(0, 4))
	t:add(f.version, buf(4, 1))
	t:add(f.type, buf(5, 1))
	local ft = t:add(f.flags, buf(6, 2))
	ft:add(f.f_auth, buf(6, 2))
	ft:add(f.f_slot, buf(6, 2))
	ft:add(f.f_a2g, buf(6, 2))
	ft:add(f.f_unknown, buf(6, 2))
	t:add(f.gateway_id, buf(8, 2))
	t:add(f.record_count, buf(10, 2))
	t:add(f.gw_inc, buf(12, 4))
	t:add(f.appl_inc, buf(16, 4))
	t:add(f.sequence, buf(20, 4))
	t:add(f.tag, buf(24, 16))

	local typ = buf(5, 1):uint()
	local flags = buf(6, 2):uint()
	local count = buf(10, 2):uint()
	local name = types[typ] or ("type " .. typ)
	local dir = bit.band(flags, 0x4) ~= 0 and "A->G" or "G->A"
	local info = string.format("%s %s gw %u seq %u, %u records", dir, name, buf(8, 2):uint(),
		buf(20, 4):uint(), count)
	if buf(0, 4):uint() ~= MAGIC or buf(4, 1):uint() ~= VERSION then
		t:add_proto_expert_info(e_malformed, "bad magic or version")
	end
	if bit.band(flags, 0xfff8) ~= 0 then
		t:add_proto_expert_info(e_flags)
	end
	local size = record_size[typ]
	local off = HDR
	if size == nil then
		t:add_proto_expert_info(e_malformed, "unknown message type " .. typ)
		pinfo.cols.info = info
		return len
	end
	if typ == 6 then
		if len < HDR + 16 then
			t:add_proto_expert_info(e_malformed, "SNAPSHOT without its prefix")
			pinfo.cols.info = info
			return len
		end
		local pt = t:add(hc, buf(HDR, 16), "Snapshot chunk")
		pt:add(f.snap_id, buf(HDR, 4))
		pt:add(f.snap_index, buf(HDR + 4, 4))
		pt:add(f.snap_count, buf(HDR + 8, 4))
		pt:add(f.snap_total, buf(HDR + 12, 4))
		info = info .. string.format(", snapshot %u chunk %u/%u", buf(HDR, 4):uint(),
			buf(HDR + 4, 4):uint(), buf(HDR + 8, 4):uint())
		off = HDR + 16
	end
	if len ~= off + count * size then
		t:add_proto_expert_info(e_malformed, string.format(
			"length %u is not %u + %u x %u: the receiver drops it", len, off, count, size))
	end
	local i = 0
	while i < count and off + size <= len do
		local rt = t:add(hc, buf(off, size), "Record " .. i)
		local what = record[typ](rt, buf(off, size))
		rt:append_text(": " .. what)
		if count == 1 then
			info = info .. ": " .. what
		end
		off = off + size
		i = i + 1
	end
	pinfo.cols.info = info
	return len
end

function hc.dissector(buf, pinfo, tree)
	return dissect(buf, pinfo, tree)
end

local function heuristic(buf, pinfo, tree)
	if buf:len() < HDR or buf(0, 4):uint() ~= MAGIC or buf(4, 1):uint() ~= VERSION then
		return false
	end
	dissect(buf, pinfo, tree)
	pinfo.conversation = hc
	return true
end

local registered_port = 0
function hc.init()
	local udp = DissectorTable.get("udp.port")
	if registered_port ~= 0 then
		udp:remove(registered_port, hc)
	end
	registered_port = hc.prefs.port
	udp:add(registered_port, hc)
end

hc:register_heuristic("udp", heuristic)
