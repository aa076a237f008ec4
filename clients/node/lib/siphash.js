// SPDX-License-Identifier: BSD-3-Clause
// siphash.js - SipHash-2-4 with a 128-bit output (libsodium's
// crypto_shorthash_siphashx24), the datagram MAC of protocol v2+
// (docs/protocol.md, "Authentication"), in plain JavaScript.
//
// Each 64-bit lane is kept as two unsigned 32-bit halves in local
// variables: additions carry by hand, rotations are shifts of the halves.
// No BigInt (each BigInt operation allocates) and no native addon, so the
// package needs no build step; docs/node.md has the measurement.
'use strict';

// The key as four little-endian 32-bit words: k0 lo, k0 hi, k1 lo, k1 hi.
function keyWords(key) {
	if (!(key instanceof Uint8Array) || key.length !== 16)
		throw new TypeError('a SipHash key is 16 bytes');
	const w = new Uint32Array(4);
	for (let i = 0; i < 4; i++)
		w[i] = (key[4 * i] | key[4 * i + 1] << 8 | key[4 * i + 2] << 16 | key[4 * i + 3] << 24) >>> 0;
	return w;
}

// SipHash-2-4-128 of msg[start, end) under kw (keyWords()); the 16-byte
// tag is written to out at outOff (little endian, as the reference).
function siphash128(kw, msg, start, end, out, outOff) {
	let v0l = kw[0] ^ 0x70736575, v0h = kw[1] ^ 0x736f6d65;
	let v1l = kw[2] ^ 0x6e646f6d ^ 0xee, v1h = kw[3] ^ 0x646f7261;
	let v2l = kw[0] ^ 0x6e657261, v2h = kw[1] ^ 0x6c796765;
	let v3l = kw[2] ^ 0x79746573, v3h = kw[3] ^ 0x74656462;
	let t, l, h, rounds;
	const len = end - start;
	const full = start + (len & ~7);
	let i = start;
	let ml = 0, mh = 0;
	for (;;) {
		if (i < full) {
			ml = msg[i] | msg[i + 1] << 8 | msg[i + 2] << 16 | msg[i + 3] << 24;
			mh = msg[i + 4] | msg[i + 5] << 8 | msg[i + 6] << 16 | msg[i + 7] << 24;
			i += 8;
		} else if (i === full) {
			// the last block: the remaining bytes and the length in the top byte
			ml = 0;
			mh = (len & 0xff) << 24;
			const r = end - full;
			for (let j = 0; j < r; j++) {
				if (j < 4)
					ml |= msg[full + j] << (8 * j);
				else
					mh |= msg[full + j] << (8 * (j - 4));
			}
			i = full + 8; // marks "done" after this block
		} else {
			break;
		}
		v3l ^= ml; v3h ^= mh;
		for (rounds = 0; rounds < 2; rounds++) {
			// v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
			l = (v0l >>> 0) + (v1l >>> 0); v0h = (v0h + v1h + (l > 0xffffffff ? 1 : 0)) | 0; v0l = l | 0;
			t = v1h << 13 | v1l >>> 19; v1l = v1l << 13 | v1h >>> 19; v1h = t;
			v1l ^= v0l; v1h ^= v0h;
			t = v0l; v0l = v0h; v0h = t;
			// v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
			l = (v2l >>> 0) + (v3l >>> 0); v2h = (v2h + v3h + (l > 0xffffffff ? 1 : 0)) | 0; v2l = l | 0;
			t = v3h << 16 | v3l >>> 16; v3l = v3l << 16 | v3h >>> 16; v3h = t;
			v3l ^= v2l; v3h ^= v2h;
			// v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
			l = (v0l >>> 0) + (v3l >>> 0); v0h = (v0h + v3h + (l > 0xffffffff ? 1 : 0)) | 0; v0l = l | 0;
			t = v3h << 21 | v3l >>> 11; v3l = v3l << 21 | v3h >>> 11; v3h = t;
			v3l ^= v0l; v3h ^= v0h;
			// v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
			l = (v2l >>> 0) + (v1l >>> 0); v2h = (v2h + v1h + (l > 0xffffffff ? 1 : 0)) | 0; v2l = l | 0;
			t = v1h << 17 | v1l >>> 15; v1l = v1l << 17 | v1h >>> 15; v1h = t;
			v1l ^= v2l; v1h ^= v2h;
			t = v2l; v2l = v2h; v2h = t;
		}
		v0l ^= ml; v0h ^= mh;
	}
	v2l ^= 0xee;
	for (let half = 0; half < 2; half++) {
		// the same SipRound as above, written out again: the eight lanes
		// stay in locals (a function would have to return them)
		for (rounds = 0; rounds < 4; rounds++) {
			l = (v0l >>> 0) + (v1l >>> 0); v0h = (v0h + v1h + (l > 0xffffffff ? 1 : 0)) | 0; v0l = l | 0;
			t = v1h << 13 | v1l >>> 19; v1l = v1l << 13 | v1h >>> 19; v1h = t;
			v1l ^= v0l; v1h ^= v0h;
			t = v0l; v0l = v0h; v0h = t;
			l = (v2l >>> 0) + (v3l >>> 0); v2h = (v2h + v3h + (l > 0xffffffff ? 1 : 0)) | 0; v2l = l | 0;
			t = v3h << 16 | v3l >>> 16; v3l = v3l << 16 | v3h >>> 16; v3h = t;
			v3l ^= v2l; v3h ^= v2h;
			l = (v0l >>> 0) + (v3l >>> 0); v0h = (v0h + v3h + (l > 0xffffffff ? 1 : 0)) | 0; v0l = l | 0;
			t = v3h << 21 | v3l >>> 11; v3l = v3l << 21 | v3h >>> 11; v3h = t;
			v3l ^= v0l; v3h ^= v0h;
			l = (v2l >>> 0) + (v1l >>> 0); v2h = (v2h + v1h + (l > 0xffffffff ? 1 : 0)) | 0; v2l = l | 0;
			t = v1h << 17 | v1l >>> 15; v1l = v1l << 17 | v1h >>> 15; v1h = t;
			v1l ^= v2l; v1h ^= v2h;
			t = v2l; v2l = v2h; v2h = t;
		}
		l = v0l ^ v1l ^ v2l ^ v3l;
		h = v0h ^ v1h ^ v2h ^ v3h;
		const o = outOff + 8 * half;
		out[o] = l; out[o + 1] = l >>> 8; out[o + 2] = l >>> 16; out[o + 3] = l >>> 24;
		out[o + 4] = h; out[o + 5] = h >>> 8; out[o + 6] = h >>> 16; out[o + 7] = h >>> 24;
		v1l ^= 0xdd;
	}
}

module.exports = { keyWords, siphash128 };
