#!/usr/bin/env node
// SPDX-License-Identifier: BSD-3-Clause
// bench.js - events per second through one Node session: JOINs, moves and
// LEAVEs of U users, batched, sequenced, sealed (SipHash) and sent over
// loopback UDP to a sink that counts the datagrams and events it gets.
// Also the raw MAC speed (tags per second for 64- and 1,440-byte
// datagrams), against the same SipHash on BigInt lanes (the obvious way,
// for the record).  The sink is a child process (its own event loop).
// Brief by default (a few seconds): the lead measures.
//   node bench.js [--seconds S (3)] [--users U (100000)] [--no-auth]
'use strict';

const dgram = require('node:dgram');
const { fork } = require('node:child_process');
const { Session } = require('./lib/session');
const { keyWords, siphash128 } = require('./lib/siphash');

const args = process.argv.slice(2);
const opt = (name, def) => {
	const i = args.indexOf(name);
	return i >= 0 ? Number(args[i + 1]) : def;
};
const SECONDS = opt('--seconds', 3), USERS = opt('--users', 100000);
const noAuth = args.includes('--no-auth');
const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

function macSpeed(len) {
	const kw = keyWords(KEY), msg = Buffer.alloc(len, 7), out = Buffer.alloc(16);
	let n = 0;
	const t0 = process.hrtime.bigint(), end = t0 + BigInt(Math.round(SECONDS * 1e9 / 4));
	while (process.hrtime.bigint() < end) {
		for (let i = 0; i < 1000; i++)
			siphash128(kw, msg, 0, len, out, 0);
		n += 1000;
	}
	const s = Number(process.hrtime.bigint() - t0) / 1e9;
	return { perSecond: Math.round(n / s), nsEach: Math.round(s * 1e9 / n) };
}

// SipHash-2-4-128 on BigInt lanes: the straightforward JavaScript.
const M64 = (1n << 64n) - 1n;
function siphashBigInt(key, msg, len) {
	const k0 = key.readBigUInt64LE(0), k1 = key.readBigUInt64LE(8);
	let v0 = k0 ^ 0x736f6d6570736575n, v1 = k1 ^ 0x646f72616e646f6dn ^ 0xeen;
	let v2 = k0 ^ 0x6c7967656e657261n, v3 = k1 ^ 0x7465646279746573n;
	const rotl = (x, b) => ((x << b) | (x >> (64n - b))) & M64;
	const round = () => {
		v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n) ^ v0; v0 = rotl(v0, 32n);
		v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n) ^ v2;
		v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n) ^ v0;
		v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n) ^ v2; v2 = rotl(v2, 32n);
	};
	const tail = Buffer.alloc(8);
	for (let i = 0; i <= len; i += 8) {
		let m;
		if (i + 8 <= len) {
			m = msg.readBigUInt64LE(i);
		} else {
			tail.fill(0);
			msg.copy(tail, 0, i, len);
			tail[7] = len & 0xff;
			m = tail.readBigUInt64LE(0);
			i = len; // last
		}
		v3 ^= m; round(); round(); v0 ^= m;
	}
	v2 ^= 0xeen;
	round(); round(); round(); round();
	const a = v0 ^ v1 ^ v2 ^ v3;
	v1 ^= 0xddn;
	round(); round(); round(); round();
	return [a, v0 ^ v1 ^ v2 ^ v3];
}

function bigIntSpeed(len) {
	const msg = Buffer.alloc(len, 7);
	let n = 0;
	const t0 = process.hrtime.bigint(), end = t0 + BigInt(Math.round(SECONDS * 1e9 / 4));
	while (process.hrtime.bigint() < end) {
		for (let i = 0; i < 100; i++)
			siphashBigInt(KEY, msg, len);
		n += 100;
	}
	const s = Number(process.hrtime.bigint() - t0) / 1e9;
	return { perSecond: Math.round(n / s), nsEach: Math.round(s * 1e9 / n) };
}

// the sink: a child process that counts datagrams and events
function sinkMain() {
	const sink = dgram.createSocket({ type: 'udp4', recvBufferSize: 16 << 20 });
	let datagrams = 0, events = 0;
	sink.on('message', (b) => {
		datagrams++;
		if (b[5] === 1)
			events += b.readUInt16BE(10);
	});
	sink.bind(0, '127.0.0.1', () => process.send({ port: sink.address().port }));
	process.on('message', () => {
		process.send({ datagrams, events });
		process.exit(0);
	});
}

async function main() {
	const check = Buffer.alloc(16), msg64 = Buffer.alloc(64, 7);
	siphash128(keyWords(KEY), msg64, 0, 64, check, 0);
	const [a, b] = siphashBigInt(KEY, msg64, 64);
	const same = check.readBigUInt64LE(0) === a && check.readBigUInt64LE(8) === b;
	for (const len of [64, 1440]) {
		const m = macSpeed(len), g = bigIntSpeed(len);
		console.log(`siphash128 ${len} B: ${m.perSecond} tags/s (${m.nsEach} ns each); on BigInt lanes ` +
			`${g.perSecond} tags/s (${g.nsEach} ns each, ${(g.nsEach / m.nsEach).toFixed(1)}x; same tags: ${same})`);
	}
	const child = fork(__filename, ['--sink']);
	const port = await new Promise((r) => child.once('message', (m) => r(m.port)));
	const s = await Session.open({ appliance: `127.0.0.1:${port}`, gatewayId: 1,
		key: noAuth ? undefined : KEY, noAuth, heartbeatMs: 100 });
	let made = 0, u = 0;
	const t0 = process.hrtime.bigint(), end = t0 + BigInt(Math.round(SECONDS * 1e9));
	// rounds of 10,000 calls, yielding to the event loop in between (the
	// socket sends, the timers run); each user joins, moves, leaves
	while (process.hrtime.bigint() < end) {
		for (let i = 0; i < 10000; i++, made++) {
			const user = u % USERS + 1, phase = Math.floor(u / USERS) % 3;
			if (phase === 0)
				s.join(user, 1 + user % 1000);
			else if (phase === 1)
				s.join(user, 1 + (user + 1) % 1000);
			else
				s.leave(user);
			u++;
		}
		await new Promise((r) => setImmediate(r));
	}
	s.flush();
	const secs = Number(process.hrtime.bigint() - t0) / 1e9;
	await new Promise((r) => setTimeout(r, 500));
	child.send('count');
	const { datagrams, events } = await new Promise((r) => child.once('message', r));
	const st = s.stats();
	console.log(`session: ${made} events in ${secs.toFixed(2)} s = ${Math.round(made / secs)} events/s ` +
		`(${noAuth ? 'no auth' : 'sealed'}), ${st.event_datagrams} EVENTS datagrams; the sink got ` +
		`${events} events in ${datagrams} datagrams`);
	await s.close(false);
}

if (args.includes('--sink'))
	sinkMain();
else
	main();
