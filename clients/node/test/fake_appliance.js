// SPDX-License-Identifier: BSD-3-Clause
// fake_appliance.js - the appliance's side of the wire, for the session's
// unit tests: a UDP socket on loopback that checks and decodes what a
// gateway sends (tags under the gateway's key) and sends it sealed A->G
// datagrams (its incarnation, a reply counter), so each mechanism of the
// session can be driven and observed exactly.  Waits are bounded.
'use strict';

const dgram = require('node:dgram');
const P = require('../lib/proto');

function decode(b) {
	const d = { type: b[5], flags: b.readUInt16BE(6), gw: b.readUInt16BE(8), count: b.readUInt16BE(10),
		gwInc: b.readUInt32BE(12), applInc: b.readUInt32BE(16), seq: b.readUInt32BE(20),
		bytes: Buffer.from(b), records: [] };
	const u = (o) => BigInt(b.readUInt32BE(o)) << 32n | BigInt(b.readUInt32BE(o + 4));
	if (d.type === P.T.EVENTS) {
		for (let i = 0, o = 40; i < d.count; i++, o += 24)
			d.records.push({ user: u(o), room: b.readUInt32BE(o + 8), op: b[o + 12],
				pool: b.readUInt16BE(o + 14), session: u(o + 16) });
	} else if (d.type === P.T.PLACE) {
		for (let i = 0, o = 40; i < d.count; i++, o += 16)
			d.records.push({ user: u(o), requestId: b.readUInt32BE(o + 8), pool: b.readUInt16BE(o + 12) });
	} else if (d.type === P.T.HEARTBEAT) {
		d.hb = { lastSeq: b.readUInt32BE(40), users: b.readUInt32BE(44), interval: b.readUInt32BE(48),
			flags: b.readUInt32BE(52), digest: u(56) };
	} else if (d.type === P.T.SNAPSHOT) {
		d.prefix = { id: b.readUInt32BE(40), index: b.readUInt32BE(44), chunks: b.readUInt32BE(48),
			total: b.readUInt32BE(52) };
		for (let i = 0, o = 56; i < d.count; i++, o += 24)
			d.records.push({ user: u(o), room: b.readUInt32BE(o + 8), pool: b.readUInt16BE(o + 12),
				session: u(o + 16) });
	}
	return d;
}

class FakeAppliance {
	static async start(key, slot = 0) {
		const a = new FakeAppliance();
		a.auth = key ? new P.Auth(key, slot) : null;
		a.sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
		a.got = [];
		a.bad = 0;
		a.waiters = [];
		a.incarnation = 0x50000000;
		a.ctr = 0;
		a.sock.on('message', (msg, rinfo) => {
			a.peer = rinfo;
			if (a.auth !== null && !a.auth.verify(msg, msg.length)) {
				a.bad++;
				return;
			}
			a.got.push(decode(msg));
			for (const w of a.waiters.splice(0))
				w();
		});
		await new Promise((r) => a.sock.bind(0, '127.0.0.1', r));
		a.port = a.sock.address().port;
		return a;
	}

	// the first datagram received from index `from` on that matches pred
	async next(pred, from = 0, timeoutMs = 3000) {
		const end = Date.now() + timeoutMs;
		for (;;) {
			for (let i = from; i < this.got.length; i++)
				if (pred(this.got[i]))
					return Object.assign({ index: i }, this.got[i]);
			const left = end - Date.now();
			if (left <= 0)
				throw new Error('the fake appliance waited in vain');
			await new Promise((r) => {
				const t = setTimeout(r, left);
				this.waiters.push(() => { clearTimeout(t); r(); });
			});
		}
	}

	// an A->G datagram to the last peer: records written by fill(b, offset)
	send(gw, gwInc, type, count, recSize, fill, opt = {}) {
		const b = Buffer.alloc(P.HDR + count * recSize);
		const ctr = opt.ctr !== undefined ? opt.ctr : ++this.ctr;
		P.fillHdr(b, type, gw, count, gwInc, opt.incarnation || this.incarnation, ctr);
		b.writeUInt16BE(P.F.A2G, 6);
		for (let i = 0; i < count; i++)
			fill(b, P.HDR + i * recSize, i);
		if (this.auth !== null && !opt.unsealed)
			this.auth.seal(b, b.length);
		if (opt.corrupt)
			b[b.length - 1] ^= 1;
		this.raw(b);
		return b;
	}

	raw(b) {
		this.sock.send(b, this.peer.port, this.peer.address);
	}

	close() {
		this.sock.close();
	}
}

module.exports = { FakeAppliance, decode };
