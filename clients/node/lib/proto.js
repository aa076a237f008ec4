// SPDX-License-Identifier: BSD-3-Clause
// proto.js - the wire protocol v3 for JavaScript: constants, the 40-byte
// header, sealing and checking tags, serial-number order, the replay
// window and the membership digest.  The single definition of every byte
// is proto/hc_proto.h; docs/protocol.md says the same in prose, and the
// unit tests check this file against every vector in that document.
'use strict';

const { keyWords, siphash128 } = require('./siphash');

const MAGIC = 0x48434e54;
const VERSION = 3;
const HDR = 40;
const DEFAULT_PORT = 7100;
const MTU_PAYLOAD = 1472;            // a 1500-byte MTU
const MAX_PAYLOAD = 8972;

const T = { EVENTS: 1, PLACE: 2, ASSIGN: 3, MOVE: 4, HEARTBEAT: 5, SNAPSHOT: 6, RESYNC: 7 };
const F = { AUTH: 1, KEY_SLOT: 2, A2G: 4, KNOWN: 7 };
const HB = { RESYNC_NEEDED: 1, SHUTDOWN: 2, ID_CONFLICT: 4, SETTLING: 8 };
const OP = { JOIN: 1, LEAVE: 2 };
const STATUS = { PLACED: 1, NEW_TOPIC: 2, NO_ROOM: 3, TIMEOUT: 4, FULL: 5, SUPERSEDED: 6 };
const STATUS_NAME = ['?', 'placed', 'new_topic', 'no_room', 'timeout', 'full', 'superseded'];
const RESYNC = { GAP: 1, INCARNATION: 2, RESTART: 3 };
const REC = { EVENT: 24, PLACE: 16, ASSIGN: 24, MOVE: 24, HEARTBEAT: 24, MEMBER: 24, RESYNC: 16,
	SNAPSHOT_PREFIX: 16 };
const EVENTS_PER = Math.floor((MTU_PAYLOAD - HDR) / REC.EVENT);                          // 59
const PLACES_PER = Math.floor((MTU_PAYLOAD - HDR) / REC.PLACE);                          // 89
const MEMBERS_PER = Math.floor((MTU_PAYLOAD - HDR - REC.SNAPSHOT_PREFIX) / REC.MEMBER);  // 59
const A2G_RECORD = { [T.ASSIGN]: REC.ASSIGN, [T.MOVE]: REC.MOVE, [T.HEARTBEAT]: REC.HEARTBEAT,
	[T.RESYNC]: REC.RESYNC };

// RFC 1982 order of 32-bit serial numbers: a is after b.
function seqAfter(a, b) {
	return ((a - b) | 0) > 0;
}

// The header of a datagram (flags 0: seal() sets AUTH and KEY_SLOT).
function fillHdr(b, type, gatewayId, count, gwInc, applInc, sequence) {
	b.writeUInt32BE(MAGIC, 0);
	b[4] = VERSION;
	b[5] = type;
	b.writeUInt16BE(0, 6);
	b.writeUInt16BE(gatewayId, 8);
	b.writeUInt16BE(count, 10);
	b.writeUInt32BE(gwInc >>> 0, 12);
	b.writeUInt32BE(applInc >>> 0, 16);
	b.writeUInt32BE(sequence >>> 0, 20);
	b.fill(0, 24, 40);
}

// A sealer/verifier for one key and slot (0 or 1).
class Auth {
	constructor(key, slot) {
		this.kw = keyWords(key);
		this.slot = slot;
		this.tmp = Buffer.alloc(16);
	}

	// flags |= AUTH (| KEY_SLOT); tag over the datagram with bytes 24..39 zero
	seal(b, len) {
		b.writeUInt16BE(b.readUInt16BE(6) | F.AUTH | (this.slot ? F.KEY_SLOT : 0), 6);
		b.fill(0, 24, 40);
		siphash128(this.kw, b, 0, len, b, 24);
	}

	// the datagram names our slot and its tag is good (constant time)
	verify(b, len) {
		const flags = b.readUInt16BE(6);
		if (!(flags & F.AUTH) || ((flags & F.KEY_SLOT) ? 1 : 0) !== this.slot)
			return false;
		const tag = this.tmp;
		b.copy(tag, 0, 24, 40);
		b.fill(0, 24, 40);
		const calc = Buffer.alloc(16);
		siphash128(this.kw, b, 0, len, calc, 0);
		tag.copy(b, 24);
		let d = 0;
		for (let i = 0; i < 16; i++)
			d |= tag[i] ^ calc[i];
		return d === 0;
	}
}

// The 64-wide window over reply counters (hc_replay in proto/hc_auth.h):
// accepted once, if newer than the highest or one of the 63 below it not
// yet seen; 0 never.  seen is two 32-bit words (bit i: top - i).
class Replay {
	constructor() { this.reset(); }
	reset() { this.top = 0; this.lo = 0; this.hi = 0; }
	fresh(ctr) {
		if (ctr === 0)
			return false;
		if (this.top === 0 || seqAfter(ctr, this.top))
			return true;
		const back = (this.top - ctr) >>> 0;
		if (back >= 64)
			return false;
		return back < 32 ? !((this.lo >>> back) & 1) : !((this.hi >>> (back - 32)) & 1);
	}
	commit(ctr) {
		if (this.top === 0 || seqAfter(ctr, this.top)) {
			const shift = this.top === 0 ? 64 : (ctr - this.top) >>> 0;
			if (shift >= 64) {
				this.lo = 1; this.hi = 0;
			} else if (shift >= 32) {
				this.hi = this.lo << (shift - 32); this.lo = 1;
			} else {
				this.hi = (this.hi << shift | (shift ? this.lo >>> (32 - shift) : 0)) >>> 0;
				this.lo = (this.lo << shift | 1) >>> 0;
			}
			this.top = ctr >>> 0;
		} else {
			const back = (this.top - ctr) >>> 0;
			if (back < 32)
				this.lo = (this.lo | 1 << back) >>> 0;
			else
				this.hi = (this.hi | 1 << (back - 32)) >>> 0;
		}
	}
}

// 64-bit arithmetic on (hi, lo) pairs of unsigned 32-bit numbers.
// The low 64 bits of a * b.
function mul64(ah, al, bh, bl, out) {
	const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
	const mid = a0 * b1 + a1 * b0;                       // < 2^33
	const lo = a0 * b0 + (mid % 65536) * 65536;           // < 2^33
	const carry = Math.floor(lo / 4294967296);
	const hi = a1 * b1 + Math.floor(mid / 65536) + carry + Math.imul(ah, bl) + Math.imul(al, bh);
	out[0] = hi >>> 0;
	out[1] = lo >>> 0;
}

const scratch = [0, 0];
// hc_member_digest(user, room) as [hi, lo] (docs/protocol.md):
//   h = user * 0x9E3779B97F4A7C15 XOR room * 0xC2B2AE3D27D4EB4F
//   h ^= h >> 31; h *= 0xBF58476D1CE4E5B9; h ^= h >> 29
function memberDigest(uh, ul, room, out) {
	mul64(uh, ul, 0x9e3779b9, 0x7f4a7c15, scratch);
	let hh = scratch[0], hl = scratch[1];
	mul64(0, room >>> 0, 0xc2b2ae3d, 0x27d4eb4f, scratch);
	hh = (hh ^ scratch[0]) >>> 0; hl = (hl ^ scratch[1]) >>> 0;
	hl = (hl ^ (hl >>> 31 | hh << 1)) >>> 0; hh = (hh ^ (hh >>> 31)) >>> 0;
	mul64(hh, hl, 0xbf58476d, 0x1ce4e5b9, scratch);
	hh = scratch[0]; hl = scratch[1];
	hl = (hl ^ (hl >>> 29 | hh << 3)) >>> 0; hh = (hh ^ (hh >>> 29)) >>> 0;
	out[0] = hh;
	out[1] = hl;
	return out;
}

// A user id (bigint, safe integer number, or decimal/0x string) as a
// bigint in 0 .. 2^64-1; a TypeError otherwise.
function toUser(u) {
	let v;
	if (typeof u === 'bigint')
		v = u;
	else if (typeof u === 'number' && Number.isSafeInteger(u))
		v = BigInt(u);
	else if (typeof u === 'string' && /^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(u))
		v = BigInt(u);
	else
		throw new TypeError(`not a user id: ${String(u)}`);
	if (v < 0n || v > 0xffffffffffffffffn)
		throw new TypeError(`user id out of range: ${v}`);
	return v;
}

// Record writers (offsets into a Buffer b); 64-bit fields as (hi, lo)
// unsigned 32-bit halves, sessions as safe-integer microseconds.
function writeU64(b, o, hi, lo) {
	b.writeUInt32BE(hi >>> 0, o);
	b.writeUInt32BE(lo >>> 0, o + 4);
}
function writeEvent(b, o, hi, lo, room, op, pool, session) {
	writeU64(b, o, hi, lo);
	b.writeUInt32BE(room >>> 0, o + 8);
	b[o + 12] = op;
	b[o + 13] = 0;
	b.writeUInt16BE(pool, o + 14);
	writeU64(b, o + 16, Math.floor(session / 4294967296), session % 4294967296);
}
function writeMember(b, o, hi, lo, room, pool, session) {
	writeU64(b, o, hi, lo);
	b.writeUInt32BE(room >>> 0, o + 8);
	b.writeUInt16BE(pool, o + 12);
	b.writeUInt16BE(0, o + 14);
	writeU64(b, o + 16, Math.floor(session / 4294967296), session % 4294967296);
}
function writePlace(b, o, hi, lo, requestId, pool) {
	writeU64(b, o, hi, lo);
	b.writeUInt32BE(requestId >>> 0, o + 8);
	b.writeUInt16BE(pool, o + 12);
	b.writeUInt16BE(0, o + 14);
}
function writeHeartbeat(b, o, lastSeq, users, intervalMs, flags, dh, dl) {
	b.writeUInt32BE(lastSeq >>> 0, o);
	b.writeUInt32BE(users >>> 0, o + 4);
	b.writeUInt32BE(intervalMs >>> 0, o + 8);
	b.writeUInt32BE(flags >>> 0, o + 12);
	writeU64(b, o + 16, dh, dl);
}
function writeSnapshotPrefix(b, o, id, index, count, total) {
	b.writeUInt32BE(id >>> 0, o);
	b.writeUInt32BE(index >>> 0, o + 4);
	b.writeUInt32BE(count >>> 0, o + 8);
	b.writeUInt32BE(total >>> 0, o + 12);
}
// A->G records (the appliance's side: for tests and tools)
function writeAssign(b, o, hi, lo, requestId, room, refusedRoom, pool, status) {
	writeU64(b, o, hi, lo);
	b.writeUInt32BE(requestId >>> 0, o + 8);
	b.writeUInt32BE(room >>> 0, o + 12);
	b.writeUInt32BE(refusedRoom >>> 0, o + 16);
	b.writeUInt16BE(pool, o + 20);
	b[o + 22] = status;
	b[o + 23] = 0;
}
function writeMove(b, o, hi, lo, from, to, directiveId, pool, attempt) {
	writeU64(b, o, hi, lo);
	b.writeUInt32BE(from >>> 0, o + 8);
	b.writeUInt32BE(to >>> 0, o + 12);
	b.writeUInt32BE(directiveId >>> 0, o + 16);
	b.writeUInt16BE(pool, o + 20);
	b.writeUInt16BE(attempt, o + 22);
}
function writeResync(b, o, reason, first, last, snapshotId) {
	b.writeUInt32BE(reason >>> 0, o);
	b.writeUInt32BE(first >>> 0, o + 4);
	b.writeUInt32BE(last >>> 0, o + 8);
	b.writeUInt32BE(snapshotId >>> 0, o + 12);
}

function hex(b) {
	return Buffer.from(b).toString('hex');
}

module.exports = {
	MAGIC, VERSION, HDR, DEFAULT_PORT, MTU_PAYLOAD, MAX_PAYLOAD, T, F, HB, OP, STATUS, STATUS_NAME,
	RESYNC, REC, EVENTS_PER, PLACES_PER, MEMBERS_PER, A2G_RECORD,
	seqAfter, fillHdr, Auth, Replay, mul64, memberDigest, toUser, hex, writeU64, writeEvent,
	writeMember, writePlace, writeHeartbeat, writeSnapshotPrefix, writeAssign, writeMove,
	writeResync,
};
