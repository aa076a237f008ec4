// SPDX-License-Identifier: BSD-3-Clause
// vectors.test.js - the codec and the MAC against docs/protocol.md itself:
// every "vector TYPE HEX" line and the two sealed examples are read from
// the document, built again with this package's encoder (fillHdr, the
// record writers, Auth.seal) and compared byte for byte; their tags
// verify and a flipped bit does not; SipHash-2-4-128 against the
// reference implementation's first vectors; the digest formula's vector.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const P = require('../lib/proto');
const { keyWords, siphash128 } = require('../lib/siphash');

const doc = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'protocol.md'), 'utf8');
const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const USER = [0x11223344, 0x55667788];
const SESSION = 0x0006123456789abc;

function vectors() {
	const v = {};
	for (const m of doc.matchAll(/^\s*vector (\w+) ([0-9a-f]+)$/gm))
		v[m[1]] = Buffer.from(m[2], 'hex');
	return v;
}

// The two examples of "Test vectors": "datagram" lines up to "tag".
function examples() {
	const out = [];
	for (const m of doc.matchAll(/^ +datagram ((?:[0-9a-f ]+\n)+?) +tag\s+([0-9a-f]{32})$/gm))
		out.push({ bytes: Buffer.from(m[1].replace(/\s+/g, ''), 'hex'), tag: m[2] });
	return out;
}

function dgram(type, count, recordBytes, seq, a2g) {
	const b = Buffer.alloc(P.HDR + recordBytes);
	P.fillHdr(b, type, 3, count, 0x01020304, 0x0a0b0c0d, seq);
	if (a2g)
		b.writeUInt16BE(P.F.A2G, 6);
	return b;
}

// each vector of "Vectors for every message type", built by the encoder
const build = {
	EVENTS() {
		const b = dgram(P.T.EVENTS, 2, 48, 7, false);
		P.writeEvent(b, 40, USER[0], USER[1], 42, P.OP.JOIN, 0, SESSION);
		P.writeEvent(b, 64, 0, 99, 7, P.OP.LEAVE, 1, 0x0006123400000001);
		return b;
	},
	PLACE() {
		const b = dgram(P.T.PLACE, 1, 16, 2, false);
		P.writePlace(b, 40, USER[0], USER[1], 5, 0);
		return b;
	},
	ASSIGN() {
		const b = dgram(P.T.ASSIGN, 1, 24, 1, true);
		P.writeAssign(b, 40, USER[0], USER[1], 5, 42, 0, 0, P.STATUS.PLACED);
		return b;
	},
	MOVE() {
		const b = dgram(P.T.MOVE, 1, 24, 2, true);
		P.writeMove(b, 40, USER[0], USER[1], 42, 43, 9, 0, 0);
		return b;
	},
	HEARTBEAT() {
		const b = dgram(P.T.HEARTBEAT, 1, 24, 3, true);
		const d = P.memberDigest(USER[0], USER[1], 42, [0, 0]);
		P.writeHeartbeat(b, 40, 7, 1, 100, 0, d[0], d[1]);
		return b;
	},
	SNAPSHOT() {
		const b = dgram(P.T.SNAPSHOT, 1, 16 + 24, 8, false);
		P.writeSnapshotPrefix(b, 40, 1, 0, 1, 1);
		P.writeMember(b, 56, USER[0], USER[1], 42, 0, SESSION);
		return b;
	},
	RESYNC() {
		const b = dgram(P.T.RESYNC, 1, 16, 4, true);
		P.writeResync(b, 40, P.RESYNC.GAP, 5, 6, 0);
		return b;
	},
};

test('the document holds a vector for every message type', () => {
	assert.deepStrictEqual(Object.keys(vectors()).sort(), Object.keys(P.T).sort());
});

for (const name of Object.keys(build)) {
	test(`vector ${name}: the encoder and the seal give the document's bytes`, () => {
		const want = vectors()[name];
		assert.ok(want, `no vector ${name} in docs/protocol.md`);
		const b = build[name]();
		new P.Auth(KEY, 0).seal(b, b.length);
		assert.strictEqual(b.toString('hex'), want.toString('hex'));
		assert.strictEqual(b[5], P.T[name]);
	});
	test(`vector ${name}: its tag verifies, a flipped bit or the other slot does not`, () => {
		const want = Buffer.from(vectors()[name]);
		const auth = new P.Auth(KEY, 0);
		assert.strictEqual(auth.verify(want, want.length), true);
		assert.strictEqual(want.toString('hex'), vectors()[name].toString('hex'), 'restored');
		for (const at of [0, 23, 24, 39, want.length - 1]) {
			const bad = Buffer.from(want);
			bad[at] ^= 0x01;
			assert.strictEqual(auth.verify(bad, bad.length), false, `byte ${at}`);
		}
		assert.strictEqual(new P.Auth(KEY, 1).verify(want, want.length), false);
	});
}

test('the two sealed examples (slot 0 and slot 1) and their tags', () => {
	const ex = examples();
	assert.strictEqual(ex.length, 2);
	for (const { bytes, tag } of ex) {
		assert.strictEqual(bytes.length, 64);
		assert.strictEqual(bytes.subarray(24, 40).toString('hex'), tag);
		const slot = bytes.readUInt16BE(6) & P.F.KEY_SLOT ? 1 : 0;
		const again = Buffer.from(bytes);
		again.writeUInt16BE(0, 6);
		again.fill(0, 24, 40);
		new P.Auth(KEY, slot).seal(again, again.length);
		assert.strictEqual(again.toString('hex'), bytes.toString('hex'));
		assert.strictEqual(new P.Auth(KEY, slot).verify(bytes, bytes.length), true);
	}
	// the second: one JOIN of user 1122334455667788 into 42, slot 1
	const b = Buffer.alloc(64);
	P.fillHdr(b, P.T.EVENTS, 3, 1, 0x01020304, 0x0a0b0c0d, 7);
	P.writeEvent(b, 40, USER[0], USER[1], 42, P.OP.JOIN, 0, SESSION);
	new P.Auth(KEY, 1).seal(b, 64);
	assert.strictEqual(b.toString('hex'), ex[1].bytes.toString('hex'));
});

test('SipHash-2-4-128: the reference implementation vectors (key 00..0f, message 00..n-1)', () => {
	const want = { 0: 'a3817f04ba25a8e66df67214c7550293', 1: 'da87c1d86b99af44347659119b22fc45',
		7: 'a1f1ebbed8dbc153c0b84aa61ff08239', 8: '3b62a9ba6258f5610f83e264f31497b4',
		15: '5493e99933b0a8117e08ec0f97cfc3d9', 63: '5150d1772f50834a503e069a973fbd7c' };
	const kw = keyWords(KEY);
	for (const [n, tag] of Object.entries(want)) {
		const msg = Uint8Array.from({ length: Number(n) }, (_, i) => i);
		const out = new Uint8Array(16);
		siphash128(kw, msg, 0, msg.length, out, 0);
		assert.strictEqual(Buffer.from(out).toString('hex'), tag, `length ${n}`);
	}
});

test('the digest formula: its vector and 64-bit arithmetic against BigInt', () => {
	const m = /hc_member_digest\(0x1122334455667788, 42\)` = `0x([0-9a-f]{16})`/.exec(doc);
	assert.ok(m, 'the digest vector is in the document');
	const d = P.memberDigest(USER[0], USER[1], 42, [0, 0]);
	assert.strictEqual(d[0].toString(16).padStart(8, '0') + d[1].toString(16).padStart(8, '0'), m[1]);
	const M = (1n << 64n) - 1n;
	const ref = (u, r) => {
		let h = ((u * 0x9E3779B97F4A7C15n) ^ (r * 0xC2B2AE3D27D4EB4Fn)) & M;
		h ^= h >> 31n;
		h = (h * 0xBF58476D1CE4E5B9n) & M;
		return h ^ (h >> 29n);
	};
	let x = 0x243f6a8885a308d3n; // a fixed sequence of users and rooms
	for (let i = 0; i < 2000; i++) {
		x = (x * 6364136223846793005n + 1442695040888963407n) & M;
		const room = Number(x >> 40n) >>> 0;
		P.memberDigest(Number(x >> 32n), Number(x & 0xffffffffn), room, d);
		assert.strictEqual(BigInt(d[0]) << 32n | BigInt(d[1]), ref(x, BigInt(room)));
	}
});

test('serial-number order and the replay window', () => {
	assert.ok(P.seqAfter(1, 0xffffffff));
	assert.ok(!P.seqAfter(0xffffffff, 1));
	assert.ok(P.seqAfter(5, 4) && !P.seqAfter(4, 4));
	const r = new P.Replay();
	assert.strictEqual(r.fresh(0), false);
	for (const c of [5, 3, 70, 40, 7])
		if (r.fresh(c))
			r.commit(c);
	assert.strictEqual(r.fresh(70), false);  // seen
	assert.strictEqual(r.fresh(40), false);  // seen, 30 below
	assert.strictEqual(r.fresh(7), false);   // seen, 63 below
	assert.strictEqual(r.fresh(6), false);   // 64 below: beyond the window
	assert.strictEqual(r.fresh(8), true);    // 62 below, never seen
	assert.strictEqual(r.fresh(71), true);
	r.commit(71 + 40);                       // shift by 40: bits move to the high word
	assert.strictEqual(r.fresh(70), false);
	assert.strictEqual(r.fresh(72), true);
	r.commit(72);
	assert.strictEqual(r.fresh(72), false);
	r.commit(1000);                          // far ahead: a new window
	assert.strictEqual(r.fresh(999), true);
	assert.strictEqual(r.fresh(1000), false);
	assert.strictEqual(r.fresh(936), false);
});

test('user ids: bigint, number, decimal and hex strings; out of range refused', () => {
	assert.strictEqual(P.toUser(5), 5n);
	assert.strictEqual(P.toUser('18446744073709551615'), 0xffffffffffffffffn);
	assert.strictEqual(P.toUser('0x1122334455667788'), 0x1122334455667788n);
	assert.throws(() => P.toUser('18446744073709551616'), TypeError);
	assert.throws(() => P.toUser(-1), TypeError);
	assert.throws(() => P.toUser(1.5), TypeError);
});
