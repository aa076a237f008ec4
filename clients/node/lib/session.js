// SPDX-License-Identifier: BSD-3-Clause
// session.js - one gateway's session with a headcount appliance: the Node
// port of libheadcount (gateway/hc_gw_session.c, docs/gateway.md), on a
// dgram socket and one re-armed timer, as an EventEmitter.
//
// Owns the socket, the batches being filled (EVENTS, PLACE: sent when a
// datagram is full or flushUs after the first record), the sequence
// counter and the history of sent sequenced datagrams (resent byte for
// byte on a NACK), the pending PLACEs (resent, then TIMEOUT), snapshots
// (at open, on RESYNC, on a new appliance incarnation, on a digest that
// disagrees in three settled heartbeats), heartbeats, the user table
// with its session stamps and membership digest, authentication (tags,
// the control counter, the replay window over reply counters) and the
// session's state.  A datagram received is acted on only after, in this
// order: it came from the appliance's address and port (rx_wrong_source),
// it is a well-formed A->G datagram for us (rx_bad), its tag is good
// (rx_bad_auth), its appliance incarnation is not older (rx_stale; with
// fenceAppliance, not older than the newest ever heard; the ASSIGN and
// MOVE records of a refused datagram are counted in stale_directives),
// its reply counter is fresh (rx_replayed) — exactly as the C library.
'use strict';

const crypto = require('node:crypto');
const dgram = require('node:dgram');
const dns = require('node:dns');
const net = require('node:net');
const { EventEmitter } = require('node:events');
const { performance } = require('node:perf_hooks');
const P = require('./proto');

const STATE = { CONNECTING: 'connecting', CONNECTED: 'connected', LOST: 'lost',
	ID_CONFLICT: 'id_conflict' };
const SETTLING_PATIENCE = 10;
const APPL_PAST = 16;          // appliance incarnations replaced: windows kept

function nowUs() {
	return Math.floor(performance.now() * 1000);
}

// A new connection's stamp: the wall clock in microseconds (a safe
// integer until the year 2255), above this process's last one.  The wall
// clock is read at every stamp (Date.now), as libheadcount reads
// CLOCK_REALTIME: a clock stepped after the start (NTP at boot, a VM
// resumed) is in the next stamp.  (timeOrigin + performance.now() alone
// never sees a step: its stamps could lag a C or Elixir gateway's by the
// step, and a user's newer connection here lose to its older one there.)
// Date.now has milliseconds only: while that estimate is within its
// millisecond (or a millisecond either side: the two are read apart, and
// the estimate runs a few microseconds ahead) it gives the microseconds;
// else (a step) the estimate's microseconds within the millisecond are
// added to Date.now's.
let lastSession = 0;
function newSession() {
	const wall = Date.now(), est = performance.timeOrigin + performance.now();
	let us = est > wall - 1 && est < wall + 2 ? Math.floor(est * 1000) :
		wall * 1000 + Math.floor(est * 1000) % 1000;
	if (us <= lastSession)
		us = lastSession + 1;
	lastSession = us;
	return us;
}

// An incarnation: the wall clock in eighths of a second, larger than any
// this process picked before.
let lastIncarnation = 0;
function newIncarnation() {
	let inc = Math.floor(Date.now() / 125) >>> 0;
	if (lastIncarnation !== 0 && !P.seqAfter(inc, lastIncarnation))
		inc = (lastIncarnation + 1) >>> 0;
	if (inc === 0)
		inc = 1;
	lastIncarnation = inc;
	return inc;
}

// HOST, HOST:PORT, [IPV6], [IPV6]:PORT or a bare IPv6 -> {host, port}.
function splitAddress(s, defaultPort = P.DEFAULT_PORT) {
	let host = s, port = defaultPort;
	const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
	if (m) {
		host = m[1];
		if (m[2] !== undefined)
			port = Number(m[2]);
	} else if (s.indexOf(':') >= 0 && s.indexOf(':') === s.lastIndexOf(':')) {
		host = s.slice(0, s.indexOf(':'));
		port = Number(s.slice(s.indexOf(':') + 1));
		if (!/^\d+$/.test(s.slice(s.indexOf(':') + 1)))
			port = NaN;
	}
	if (host === '' || !Number.isInteger(port) || port < 0 || port > 65535)
		throw new Error(`address '${s}': HOST, HOST:PORT, [IPV6] or [IPV6]:PORT`);
	return { host, port };
}

function newStats() {
	return { joins: 0, leaves: 0, event_datagrams: 0, retransmits: 0, nacks: 0, snapshots: 0,
		snapshot_members: 0, resync_requests: 0, appliance_restarts: 0, places: 0,
		place_resends: 0, place_timeouts: 0, assigns: 0, new_topics: 0, moves: 0,
		moves_ignored: 0, heartbeats_sent: 0, heartbeats_received: 0, rx_bad: 0,
		send_errors: 0, digest_mismatches: 0, digest_snapshots: 0, sequence: 0, acked: 0,
		appliance_incarnation: 0, appliance_users: 0, appliance_digest: "0", rx_bad_auth: 0, rx_wrong_source: 0,
		rx_stale: 0, rx_replayed: 0, id_conflicts: 0, refusals: 0, superseded: 0, lost: 0,
		appliance_switches: 0, stale_directives: 0, send_skipped: 0, acks_ahead: 0 };
}

class Session extends EventEmitter {
	// Use Session.open(options): it resolves the addresses and binds.
	constructor(o, appl, family) {
		super();
		this.cfg = o;
		this.appl = appl;              // [{text, host, port}]
		this.cur = 0;
		this.family = family;
		this.auth = o.key ? new P.Auth(o.key, o.keySlot) : null;
		this.incarnation = o.incarnation ? o.incarnation >>> 0 : newIncarnation();
		this.applInc = 0;
		this.applNewest = 0;           // the newest ever accepted (from any
		                               // address), 0: none: the fence
		this.applHeardUs = 0;
		this.applPast = [];            // incarnations replaced by another (any
		                               // address, the last APPL_PAST), each
		                               // {inc, replay}: the window it had then
		this.talkSinceUs = nowUs();
		this.switched = false;
		this.seq = 0;
		this.ctl = 0;
		this.replay = new P.Replay();
		this.state = STATE.CONNECTING;
		// user table: keyed by _key(user), not the user: V8 hashes a
		// BigInt key with an unseeded function of its value, so ids chosen
		// to collide (users pick their ids in some services) would make
		// every lookup walk one chain.  _key multiplies by a random odd
		// 64-bit number: one key a user, and no collision known outside
		this.users = new Map();        // _key(user) -> {room, pool, session, hi, lo}
		this.mix = crypto.randomBytes(8).readBigUInt64BE(0) | 1n;
		this.dh = 0;                   // digest of our membership (hi, lo)
		this.dl = 0;
		this.dscratch = [0, 0];
		this.ev = Buffer.alloc(P.MTU_PAYLOAD);
		this.nEv = 0;
		this.evSinceUs = 0;
		this.pl = Buffer.alloc(P.MTU_PAYLOAD);
		this.nPl = 0;
		this.plSinceUs = 0;
		this.hist = new Array(o.history).fill(null);  // by seq & mask: {seq, buf}
		this.histMask = o.history - 1;
		this.pending = new Map();      // request id -> {user, pool, tries, deadlineUs}
		this.nextRequest = 0;
		this.nextPlaceScanUs = 0;
		this.nextHbUs = 0;
		this.snapshotLastSeq = 0;
		this.snapshotSentUs = 0;
		this.snapshotOwed = false;     // a snapshot (new incarnation, asked) waits
		                               // for the newest to settle
		this.snapshotId = 0;
		this.digestMismatches = 0;
		this.digestSnapshotUs = -1e12;
		this.settlingRun = 0;
		this.st = newStats();
		this.closed = false;
		this.timer = null;
		this.timerAt = Infinity;
		this.inflight = 0;             // sends not yet completed by the socket
		this.lostRecheck = false;      // LOST judged again after the socket is read
		this.drainWaiters = [];
		// (a listener that throws from the timer's work, an 'assign'
		// TIMEOUT or a 'state' SWITCHED, must not leave the session with
		// no timer: nothing else re-arms it while the appliance is silent,
		// and heartbeats, flushes, resends and LOST would stop for good)
		this.onTimer = () => {
			this.timer = null;
			this.timerAt = Infinity;
			try {
				this._tick();
			} finally {
				this._schedule();
			}
		};
	}

	// options: appliance (string "A[,B...]" or array), gatewayId, key (16
	// bytes: Buffer/Uint8Array or 32 hex digits) and keySlot, or noAuth:
	// true; incarnation, flushUs (1000), heartbeatMs (100), placeTimeoutMs
	// (250), placeRetries (8), history (16384, a power of 2), lostMs (1000),
	// fenceAppliance (false: an HA pair behind one address, docs/scaling.md:
	// never accept an appliance incarnation older than the newest heard,
	// however long that one is silent, so a demoted master's ASSIGNs and
	// MOVEs are never obeyed, counted in stale_directives; without it an
	// older incarnation is taken as a restart once the current one has
	// been silent for 3 s, as libheadcount's fence_appliance), maxRoom
	// (none: the highest room id the appliance takes, its --max-rooms less
	// one, 262143 on its default; a JOIN above it throws, as libheadcount's
	// max_room: the appliance drops a datagram holding one whole, every
	// resend and every snapshot naming the user), bind (local address).
	// Resolves to an open session.
	static async open(options) {
		const o = Object.assign({ keySlot: 0, incarnation: 0, flushUs: 1000, heartbeatMs: 100,
			placeTimeoutMs: 250, placeRetries: 8, history: 16384, lostMs: 1000,
			fenceAppliance: false, maxRoom: 0xffffffff }, options);
		if (typeof o.fenceAppliance !== 'boolean')
			throw new Error('fenceAppliance must be true or false');
		// (0: from the clock; past 32 bits is refused, not cut: 2^32 would
		// be 0, which the appliance drops)
		if (o.incarnation === undefined || o.incarnation === null)
			o.incarnation = 0;
		if (!Number.isInteger(o.incarnation) || o.incarnation < 0 || o.incarnation > 0xffffffff)
			throw new Error(`incarnation must be 0..2^32-1 (0: from the clock), not ${o.incarnation}`);
		if (!Number.isInteger(o.maxRoom) || o.maxRoom < 1 || o.maxRoom > 0xffffffff)
			throw new Error(`maxRoom must be 1..2^32-1, not ${o.maxRoom}`);
		if (!Number.isInteger(o.gatewayId) || o.gatewayId < 1 || o.gatewayId > 65535)
			throw new Error('need a gateway id (1..65535)');
		if (typeof o.key === 'string') {
			if (!/^[0-9a-fA-F]{32}$/.test(o.key))
				throw new Error('the key must be 32 hex digits (16 bytes)');
			o.key = Buffer.from(o.key, 'hex');
		}
		if (o.key && o.noAuth)
			throw new Error('a key and noAuth: set one or the other');
		if (o.key && o.key.length !== 16)
			throw new Error(`the key must be 16 bytes, not ${o.key.length}`);
		if (!o.key && !o.noAuth)
			throw new Error(`no key: set key (the appliance's key for gateway ${o.gatewayId} ` +
				'in slot keySlot), or noAuth to run without authentication');
		if (o.keySlot !== 0 && o.keySlot !== 1)
			throw new Error('keySlot must be 0 or 1');
		// (a power of 2 tested on an integer below 2^31 first: the bit
		// test is 32-bit, and 3 * 2^32 would pass it; past 2^24 entries
		// the array would cost gigabytes, which V8 does not throw for
		// but aborts the process on)
		if (!Number.isInteger(o.history) || o.history < 64 || o.history > 1 << 24 ||
		    (o.history & (o.history - 1)) !== 0)
			throw new Error('history must be a power of 2 from 64 to 2^24');
		if (!(o.heartbeatMs > 0 && o.placeTimeoutMs > 0 && o.lostMs > 0))
			throw new Error('heartbeatMs, placeTimeoutMs and lostMs must be > 0');
		if (!(o.flushUs >= 1))
			o.flushUs = 1;
		const list = Array.isArray(o.appliance) ? o.appliance :
			String(o.appliance || '').split(',').map((s) => s.trim()).filter((s) => s !== '');
		if (list.length === 0 || list.length > 8)
			throw new Error('need 1 to 8 appliance addresses');
		// (one newest incarnation for every address: a standby started
		// before the first would be refused as older, for good)
		if (o.fenceAppliance && list.length > 1)
			throw new Error('fenceAppliance is for an HA pair behind one address: ' +
				'give one appliance address');
		const appl = [];
		for (const text of list) {
			const { host, port } = splitAddress(text);
			// a name: its IPv4 address first (the appliance speaks UDP
			// over IPv4; resolvers often list AAAA first), as libheadcount
			const found = net.isIP(host) ? host :
				(await dns.promises.lookup(host, { family: 4 })
					.catch(() => dns.promises.lookup(host))).address;
			// IPv6 in its canonical text, as a datagram's source reads
			// (rinfo.address): "0:0:0:0:0:0:0:1" is "::1"
			const address = net.isIPv6(found) ?
				new net.SocketAddress({ address: found, family: 'ipv6' }).address : found;
			appl.push({ text, address, port, v6: net.isIPv6(address) });
		}
		let local = null;
		if (o.bind) {
			// (no port: any free one, as libheadcount; '::1' and
			// '[fd00::2]' included, which took the appliance's 7100)
			local = splitAddress(o.bind, 0);
			if (!net.isIP(local.host))
				local.host = (await dns.promises.lookup(local.host)).address;
		}
		const v6 = appl.some((a) => a.v6) || (local !== null && net.isIPv6(local.host));
		if (v6) {
			for (const a of appl)
				if (!a.v6)
					a.address = `::ffff:${a.address}`;
			if (local && !net.isIPv6(local.host))
				local.host = `::ffff:${local.host}`;
		}
		const s = new Session(o, appl, v6 ? 'udp6' : 'udp4');
		await s._bind(local);
		return s;
	}

	async _bind(local) {
		const sock = dgram.createSocket({ type: this.family, ipv6Only: false,
			recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
		this.sock = sock;
		sock.on('message', (msg, rinfo) => this._onMessage(msg, rinfo));
		sock.on('error', (e) => { this.st.send_errors++; this.emit('socketError', e); });
		await new Promise((resolve, reject) => {
			sock.once('error', reject);
			sock.bind(local ? { address: local.host, port: local.port } : { port: 0 }, () => {
				sock.removeListener('error', reject);
				resolve();
			});
		});
		this.talkSinceUs = nowUs();
		// every incarnation starts by stating its (empty) membership:
		// sequence 1 is a snapshot, the appliance's reset point
		this._sendSnapshot();
		this._sendHeartbeat(0);
		this.nextHbUs = nowUs() + 1000 * this.cfg.heartbeatMs;
		this._schedule();
	}

	// ------------------------------------------------------- sending --

	_send(buf) {
		if (this.closed)
			return;
		// A full socket buffer makes libuv queue what it cannot send, in
		// memory: no more than a history's worth in flight (libheadcount
		// bounds its queues likewise; the history grows to hold a whole
		// snapshot). A sequenced datagram skipped is in the history (the
		// appliance NACKs the gap), a HEARTBEAT goes again at its timer, a
		// PLACE at its resend.
		if (this.inflight > this.histMask) {
			this.st.send_skipped++;
			return;
		}
		const a = this.appl[this.cur];
		this.inflight++;
		this.sock.send(buf, 0, buf.length, a.port, a.address, (err) => {
			this.inflight--;
			if (err)
				this.st.send_errors++; // e.g. the appliance is away: NACKs repair
			if (this.inflight === 0 && this.drainWaiters.length > 0)
				this.drainWaiters.splice(0).forEach((f) => f());
		});
	}

	_seal(b, len) {
		if (this.auth !== null)
			this.auth.seal(b, len);
	}

	_nextCtl() {
		this.ctl = (this.ctl + 1) >>> 0;
		if (this.ctl === 0)
			this.ctl = 1;
		return this.ctl;
	}

	// Number a sequenced datagram, seal it, keep it in the history, send.
	_sendSequenced(src, len, type, count) {
		this.seq = (this.seq + 1) >>> 0;
		if (this.seq === 0)
			this.seq = 1;
		const buf = Buffer.allocUnsafe(len);
		src.copy(buf, 0, 0, len);
		P.fillHdr(buf, type, this.cfg.gatewayId, count, this.incarnation, this.applInc, this.seq);
		this._seal(buf, len);
		this.hist[this.seq & this.histMask] = { seq: this.seq, buf };
		this._send(buf);
		return this.seq;
	}

	_flushEvents() {
		if (this.nEv === 0)
			return;
		this._sendSequenced(this.ev, P.HDR + this.nEv * P.REC.EVENT, P.T.EVENTS, this.nEv);
		this.st.event_datagrams++;
		this.nEv = 0;
	}

	_flushPlaces() {
		if (this.nPl === 0)
			return;
		const len = P.HDR + this.nPl * P.REC.PLACE;
		const buf = Buffer.allocUnsafe(len);
		this.pl.copy(buf, 0, 0, len);
		P.fillHdr(buf, P.T.PLACE, this.cfg.gatewayId, this.nPl, this.incarnation, this.applInc,
			this._nextCtl());
		this._seal(buf, len);
		this._send(buf);
		this.nPl = 0;
	}

	// Send the open batches now.
	flush() {
		this._flushEvents();
		this._flushPlaces();
	}

	_addEvent(e, user, room, op) {
		if (this.nEv === P.EVENTS_PER)
			this._flushEvents();
		if (this.nEv === 0)
			this.evSinceUs = nowUs();
		P.writeEvent(this.ev, P.HDR + this.nEv * P.REC.EVENT, e.hi, e.lo, room, op, e.pool,
			e.session);
		this.nEv++;
		if (this.nEv === P.EVENTS_PER)
			this._flushEvents();
		else if (this.nEv === 1)
			this._schedule();
	}

	_digestAdd(e, room, sign) {
		const d = P.memberDigest(e.hi, e.lo, room, this.dscratch);
		if (sign > 0) {
			const l = this.dl + d[1];
			this.dh = (this.dh + d[0] + (l > 0xffffffff ? 1 : 0)) >>> 0;
			this.dl = l >>> 0;
		} else {
			const l = this.dl - d[1];
			this.dh = (this.dh - d[0] - (l < 0 ? 1 : 0)) >>> 0;
			this.dl = l >>> 0;
		}
	}

	// ------------------------------------------------------ snapshots --

	// The history must hold a whole snapshot and what follows it.
	_growHistory(need) {
		let size = this.histMask + 1;
		if (need <= size)
			return;
		while (size < need)
			size *= 2;
		const h = new Array(size).fill(null);
		for (const x of this.hist)
			if (x !== null)
				h[x.seq & (size - 1)] = x;
		this.hist = h;
		this.histMask = size - 1;
	}

	// State the whole membership, after everything sent so far.
	_sendSnapshot() {
		this._flushEvents();
		const total = this.users.size;
		const chunks = total === 0 ? 1 : Math.ceil(total / P.MEMBERS_PER);
		this._growHistory(2 * chunks + 1024);
		const id = this.snapshotId = (this.snapshotId + 1) >>> 0;
		const base = P.HDR + P.REC.SNAPSHOT_PREFIX;
		const buf = Buffer.alloc(P.MTU_PAYLOAD);
		let n = 0, index = 0;
		const emit = () => {
			P.writeSnapshotPrefix(buf, P.HDR, id, index, chunks, total);
			this.snapshotLastSeq = this._sendSequenced(buf, base + n * P.REC.MEMBER,
				P.T.SNAPSHOT, n);
			index++;
			n = 0;
		};
		for (const e of this.users.values()) {
			P.writeMember(buf, base + n * P.REC.MEMBER, e.hi, e.lo, e.room, e.pool, e.session);
			if (++n === P.MEMBERS_PER)
				emit();
		}
		if (n > 0 || index === 0)
			emit();
		this.snapshotSentUs = nowUs();
		this.snapshotOwed = false;
		this.st.snapshots++;
		this.st.snapshot_members += total;
	}

	// The newest snapshot is on its way: sent recently and not yet
	// acknowledged.  (An acknowledgement of 0: none yet, as after a
	// restart; in serial order 0 comes after a last chunk past 2^31.)
	_snapshotInFlight(now) {
		return this.snapshotSentUs !== 0 &&
			(this.st.acked === 0 || P.seqAfter(this.snapshotLastSeq, this.st.acked)) &&
			now - this.snapshotSentUs < this._snapshotYoungUs();
	}

	_snapshotYoungUs() {
		return 1000 * (200 + 2 * this.cfg.heartbeatMs);
	}

	// Asked for a snapshot: send one unless the newest is still on its way.
	_wantSnapshot() {
		if (!this._snapshotInFlight(nowUs()))
			this._sendSnapshot();
	}

	// A snapshot that must follow the newest even while it is on its
	// way: a new appliance incarnation's (or the first answer's after a
	// move), and one the appliance asks for (RESYNC other than GAP: it
	// abandoned the one it was taking).  Not a second time while the
	// newest is on its way (inFlight; a new incarnation's judged as
	// before it changed: without keys anyone can name a new one, or ask,
	// in every datagram, each costing the whole membership): then it is
	// owed, one at most, and sent once the newest settles (as
	// want_snapshot_or_owe in the C library).
	_wantSnapshotOrOwe(inFlight) {
		if (inFlight)
			this.snapshotOwed = true;
		else
			this._sendSnapshot();
	}

	// An owed snapshot whose newest one settled (acknowledged, or old).
	_sendOwedSnapshot(now) {
		if (this.snapshotOwed && !this._snapshotInFlight(now))
			this._sendSnapshot();
	}

	// ------------------------------------------------------- receiving --

	_onMessage(b, rinfo) {
		if (this.closed)
			return;
		const a = this.appl[this.cur];
		if (rinfo.port !== a.port || rinfo.address !== a.address) {
			this.st.rx_wrong_source++;
			return;
		}
		this._handle(b);
		this._schedule();
	}

	_handle(b) {
		const len = b.length;
		if (len < P.HDR) {
			this.st.rx_bad++;
			return;
		}
		const type = b[5], flags = b.readUInt16BE(6), count = b.readUInt16BE(10);
		const rec = P.A2G_RECORD[type] || 0;
		const appl = b.readUInt32BE(16);
		if (b.readUInt32BE(0) !== P.MAGIC || b[4] !== P.VERSION || rec === 0 ||
		    (flags & ~P.F.KNOWN) !== 0 || !(flags & P.F.A2G) || appl === 0 ||
		    b.readUInt16BE(8) !== this.cfg.gatewayId || len !== P.HDR + count * rec ||
		    len > P.MAX_PAYLOAD || ((type === P.T.HEARTBEAT || type === P.T.RESYNC) && count !== 1) ||
		    b.readUInt32BE(12) !== this.incarnation) {
			this.st.rx_bad++;
			return;
		}
		if (this.auth !== null && !this.auth.verify(b, len)) {
			this.st.rx_bad_auth++;
			return;
		}
		const known = this.applInc, ctr = b.readUInt32BE(20), now = nowUs();
		// fenced (an HA pair): older than the newest ever heard is never
		// taken, however long the newest is silent
		const fenced = this.cfg.fenceAppliance && this.applNewest !== 0 &&
			P.seqAfter(this.applNewest, appl);
		const newer = !fenced && (known === 0 || P.seqAfter(appl, known) ||
			(appl !== known && now - this.applHeardUs > 3000000));
		if (fenced || (!newer && appl !== known)) {
			this.st.rx_stale++;
			if (type === P.T.ASSIGN || type === P.T.MOVE)
				this.st.stale_directives += count;
			return;
		}
		// a newer one taken before (and replaced) starts from the window it
		// had then, not an empty one: a recording of it, replayed once the
		// current one is silent 3 s, is old (or it would obey its MOVEs a
		// second time and keep us CONNECTED to an appliance gone); what it
		// sends anew is taken
		const win = newer ? this._pastWindow(appl) : this.replay;
		if (!win.fresh(ctr)) {
			this.st.rx_replayed++;
			return;
		}
		let restarted = false;
		if (newer) {
			if (known !== 0)
				this._pastKeep(known, this.replay);
			this.replay = win;
			this.applInc = appl;
			if (this.applNewest === 0 || P.seqAfter(appl, this.applNewest))
				this.applNewest = appl;
			// the appliance restarted and lost everything (or another one
			// answers): state it all again
			restarted = known !== 0 || this.switched;
			if (restarted)
				this.st.appliance_restarts++;
		}
		if (restarted || this.switched) {
			// and on any first answer after a move to another address:
			// the one there may hold an old view of us
			const inFlight = this._snapshotInFlight(nowUs());
			this.st.acked = 0;
			this._wantSnapshotOrOwe(inFlight);
		}
		this.switched = false;
		this.replay.commit(ctr);
		this.applHeardUs = now;
		// (a listener that throws must not cost the datagram's records:
		// the replay window has taken it, nothing resends them; its first
		// exception is thrown once all are handled; a 'state' listener's
		// too)
		let thrown = null;
		try {
			if (restarted)
				this._setState(STATE.CONNECTED, 'restarted');
			else if (this.state === STATE.CONNECTING || this.state === STATE.LOST)
				this._setState(STATE.CONNECTED, 'heard');
		} catch (e) {
			thrown = e;
		}
		for (let i = 0, o = P.HDR; i < count && !this.closed; i++, o += rec) {
			try {
				switch (type) {
				case P.T.ASSIGN: this._onAssign(b, o); break;
				case P.T.MOVE: this._onMove(b, o); break;
				case P.T.HEARTBEAT: this._onHeartbeat(b, o); break;
				default: this._onResync(b, o); break;
				}
			} catch (e) {
				if (thrown === null)
					thrown = e;
			}
		}
		if (!this.closed)
			this._sendOwedSnapshot(nowUs()); // (acknowledged by this one)
		if (thrown !== null)
			throw thrown;
	}

	// the replay window a newer incarnation starts from: the one it had
	// when another replaced it (a copy), else an empty one
	_pastWindow(appl) {
		const had = this.applPast.find((e) => e.inc === appl);
		return had ? Object.assign(new P.Replay(), had.replay) : new P.Replay();
	}

	// incarnation inc, with its window, replaced: kept in its own entry if
	// it has one (its age kept), else as the newest, the oldest forgotten
	// past APPL_PAST (as libheadcount's appl_past_keep)
	_pastKeep(inc, replay) {
		const kept = Object.assign(new P.Replay(), replay);
		const own = this.applPast.find((e) => e.inc === inc);
		if (own)
			own.replay = kept;
		else if (this.applPast.push({ inc, replay: kept }) > APPL_PAST)
			this.applPast.shift();
	}

	_onResync(b, o) {
		const reason = b.readUInt32BE(o);
		if (reason !== P.RESYNC.GAP) {
			// asked while the newest is on its way: owed, not dropped
			// (an abandoned snapshot is asked for again at once)
			this.st.resync_requests++;
			this._wantSnapshotOrOwe(this._snapshotInFlight(nowUs()));
			return;
		}
		this.st.nacks++;
		const first = b.readUInt32BE(o + 4), last = b.readUInt32BE(o + 8);
		if (P.seqAfter(first, last) || P.seqAfter(last, this.seq) ||
		    ((last - first) >>> 0) > this.histMask) {
			this._wantSnapshot(); // not a range we can resend
			return;
		}
		const n = ((last - first) >>> 0) + 1;
		for (let i = 0; i < n; i++) {
			const q = (first + i) >>> 0, h = this.hist[q & this.histMask];
			if (h === null || h.seq !== q) {
				this._wantSnapshot(); // gone from the history
				return;
			}
		}
		for (let i = 0; i < n; i++) {
			this._send(this.hist[((first + i) >>> 0) & this.histMask].buf);
			this.st.retransmits++;
		}
	}

	_onAssign(b, o) {
		const hi = b.readUInt32BE(o), lo = b.readUInt32BE(o + 4);
		const x = { user: BigInt(hi) << 32n | BigInt(lo), requestId: b.readUInt32BE(o + 8),
			room: b.readUInt32BE(o + 12), refusedRoom: b.readUInt32BE(o + 16),
			pool: b.readUInt16BE(o + 20), status: P.STATUS_NAME[b[o + 22]] || String(b[o + 22]) };
		this.st.assigns++;
		if ((b[o + 22] === P.STATUS.NEW_TOPIC || b[o + 22] === P.STATUS.PLACED) &&
		    (x.room === 0 || x.room > this.cfg.maxRoom)) {
			// a room to go to (a NEW_TOPIC's) or to join (a PLACED one's)
			// that is none (never sent), or beyond maxRoom (the
			// appliance's --max-rooms is larger than configured here): the
			// JOIN it asks for would throw.  A PLACE stays pending: sent
			// again, and answered by a timeout at its end
			this.st.rx_bad++;
			return;
		}
		if (b[o + 22] === P.STATUS.NEW_TOPIC) {
			// our JOIN was refused (full): move the user to the offered room
			this.st.new_topics++;
			const e = this.users.get(this._key(x.user));
			if (e === undefined || e.room !== x.refusedRoom)
				return; // the user moved on meanwhile
			this.join(x.user, x.room, x.pool);
		} else if (x.requestId === 0 && x.refusedRoom !== 0) {
			// NO_ROOM, FULL, SUPERSEDED answering a JOIN: the appliance holds
			// the user in no room of ours, so neither do we (no LEAVE).
			// Another status here is never sent
			const st = b[o + 22];
			if (st !== P.STATUS.NO_ROOM && st !== P.STATUS.FULL && st !== P.STATUS.SUPERSEDED) {
				this.st.rx_bad++;
				return;
			}
			const k = this._key(x.user), e = this.users.get(k);
			if (e === undefined || e.room !== x.refusedRoom)
				return;
			this.users.delete(k);
			this._digestAdd(e, e.room, -1);
			if (b[o + 22] === P.STATUS.SUPERSEDED)
				this.st.superseded++;
			else
				this.st.refusals++;
		} else {
			const p = this.pending.get(x.requestId);
			if (p === undefined || p.user !== x.user)
				return; // a duplicate, or answered already
			this.pending.delete(x.requestId);
		}
		this.emit('assign', x);
	}

	_onMove(b, o) {
		const hi = b.readUInt32BE(o), lo = b.readUInt32BE(o + 4);
		const x = { user: BigInt(hi) << 32n | BigInt(lo), from: b.readUInt32BE(o + 8),
			to: b.readUInt32BE(o + 12), directiveId: b.readUInt32BE(o + 16),
			pool: b.readUInt16BE(o + 20), attempt: b.readUInt16BE(o + 22) };
		const e = this.users.get(this._key(x.user));
		if (e === undefined || e.room !== x.from || x.to === 0 || x.to > this.cfg.maxRoom) {
			this.st.moves_ignored++; // (to room 0: never sent; beyond maxRoom: see open)
			return;
		}
		this.st.moves++;
		if (this.listenerCount('move') > 0)
			this.emit('move', x);
		else // in the user's own pool (as libheadcount: a MOVE never
			// crosses pools; for a pool it does not know the appliance
			// names its first pool's)
			this.join(x.user, x.to, e.pool);
	}

	_onHeartbeat(b, o) {
		this.st.heartbeats_received++;
		const acked = b.readUInt32BE(o), users = b.readUInt32BE(o + 4);
		const flags = b.readUInt32BE(o + 12);
		const dh = b.readUInt32BE(o + 16), dl = b.readUInt32BE(o + 20);
		if (acked !== 0 && P.seqAfter(acked, this.seq))
			this._ackAhead(acked); // (0: nothing applied yet)
		else
			this.st.acked = acked;
		this.st.appliance_users = users;
		this.st.appliance_digest = ((BigInt(dh) << 32n) | BigInt(dl)).toString();
		if (flags & P.HB.RESYNC_NEEDED)
			this._wantSnapshot();
		if (flags & P.HB.ID_CONFLICT) {
			this.st.id_conflicts++;
			if (this.state !== STATE.ID_CONFLICT)
				this._setState(STATE.ID_CONFLICT, 'id_conflict');
		} else if (this.state === STATE.ID_CONFLICT) {
			this._setState(STATE.CONNECTED, 'conflict_over');
		}
		this._checkDigest(acked, users, dh, dl, flags);
	}

	// The appliance acknowledges a sequence (not 0) past the last we
	// numbered (a datagram forged in our name reset it there, or an
	// earlier process of this incarnation numbered further): everything
	// below it is a duplicate there, for good.  Number on from it and
	// state everything again; a snapshot on its way is judged as before
	// the acknowledgement (one more owed however many such heartbeats
	// come), and what was acknowledged is none (0) until the appliance
	// acknowledges in the new numbering (as ack_ahead in libheadcount).
	_ackAhead(acked) {
		const inFlight = this._snapshotInFlight(nowUs());
		this.st.acks_ahead++;
		this.st.acked = 0;
		this.seq = acked;
		this._wantSnapshotOrOwe(inFlight);
	}

	// Anti-entropy (as check_digest in hc_gw_session.c): three settled
	// heartbeats in a row whose users or digest differ from ours mean
	// something was lost that no sequence shows: a snapshot, at most 1/s.
	_checkDigest(acked, users, dh, dl, flags) {
		if (acked !== this.seq || this.nEv !== 0) {
			this.digestMismatches = 0;
			this.settlingRun = 0;
			return;
		}
		if ((flags & P.HB.SETTLING) && ++this.settlingRun < SETTLING_PATIENCE) {
			this.digestMismatches = 0;
			return;
		}
		if (!(flags & P.HB.SETTLING))
			this.settlingRun = 0;
		if (users === this.users.size && dh === this.dh && dl === this.dl) {
			this.digestMismatches = 0;
			return;
		}
		this.st.digest_mismatches++;
		const now = nowUs();
		if (++this.digestMismatches >= 3 && now - this.digestSnapshotUs >= 1000000) {
			this.digestMismatches = 0;
			this.digestSnapshotUs = now;
			this.st.digest_snapshots++;
			this._sendSnapshot();
		}
	}

	_setState(state, reason) {
		const previous = this.state;
		this.state = state;
		if (!this.closed)
			this.emit('state', { state, previous, reason, appliance: this.appl[this.cur].text,
				applianceIndex: this.cur, applianceIncarnation: this.applInc });
	}

	// ---------------------------------------------------------- timers --

	_sendHeartbeat(flags) {
		const buf = Buffer.allocUnsafe(P.HDR + P.REC.HEARTBEAT);
		P.fillHdr(buf, P.T.HEARTBEAT, this.cfg.gatewayId, 1, this.incarnation, this.applInc,
			this._nextCtl());
		P.writeHeartbeat(buf, P.HDR, this.seq, this.users.size, this.cfg.heartbeatMs, flags,
			this.dh, this.dl);
		this._seal(buf, buf.length);
		this._send(buf);
		this.st.heartbeats_sent++;
	}

	_placeRecord(id, p) {
		if (this.nPl === P.PLACES_PER)
			this._flushPlaces();
		if (this.nPl === 0)
			this.plSinceUs = nowUs();
		P.writePlace(this.pl, P.HDR + this.nPl * P.REC.PLACE, Number(p.user >> 32n),
			Number(p.user & 0xffffffffn), id, p.pool);
		this.nPl++;
	}

	// LOST, or a switch to the next address, is judged after the socket
	// is read: timers run before I/O in Node's loop, so after a stall
	// longer than lostMs the datagrams that came meanwhile would be read
	// only after LOST was said (a LOST and a CONNECTED for nothing), or
	// after a switch away from the address that sent them (dropped,
	// rx_wrong_source; libheadcount reads the socket first).  setImmediate
	// runs after this turn's I/O: true if the decision waits for it.
	_recheckAfterIo() {
		if (this.lostRecheck)
			return false; // (this is the recheck: decide)
		this.lostRecheck = true;
		setImmediate(() => {
			try {
				if (!this.closed)
					this._watchAppliance(nowUs()); // (decides)
			} finally {
				this.lostRecheck = false;
			}
		});
		return true;
	}

	// Nothing good for lostMs: LOST; while LOST with several addresses,
	// the next one every lostMs.
	_watchAppliance(now) {
		const lostUs = 1000 * this.cfg.lostMs;
		const last = Math.max(this.applHeardUs, this.talkSinceUs);
		if (this.state !== STATE.LOST) {
			if (now - last < lostUs)
				return;
			if (this._recheckAfterIo())
				return;
			this.st.lost++;
			this._setState(STATE.LOST, 'silent');
			return;
		}
		if (this.appl.length < 2 || now - this.talkSinceUs < lostUs)
			return;
		if (this._recheckAfterIo()) // (an answer of this address may wait)
			return;
		// keep what we know of this address (its incarnation and replay
		// window: an old datagram of it replayed later is still old),
		// resume what we knew of the next (switch_appliance in libheadcount)
		const was = this.appl[this.cur];
		was.inc = this.applInc;
		was.heardUs = this.applHeardUs;
		was.replay = this.replay;
		this.cur = (this.cur + 1) % this.appl.length;
		const to = this.appl[this.cur];
		this.applInc = to.inc || 0;
		this.applHeardUs = to.heardUs || 0;
		this.replay = to.replay || new P.Replay();
		this.talkSinceUs = now;
		this.switched = true;
		this.st.appliance_switches++;
		this.nextHbUs = now;
		this._setState(STATE.LOST, 'switched');
	}

	_tick() {
		if (this.closed)
			return;
		const now = nowUs();
		this._watchAppliance(now);
		this._sendOwedSnapshot(now);
		if (this.nEv > 0 && now - this.evSinceUs >= this.cfg.flushUs)
			this._flushEvents();
		if (this.nPl > 0 && now - this.plSinceUs >= this.cfg.flushUs)
			this._flushPlaces();
		if (now >= this.nextHbUs) {
			this._sendHeartbeat(0);
			this.nextHbUs = now + 1000 * this.cfg.heartbeatMs;
		}
		if (this.pending.size > 0 && now >= this.nextPlaceScanUs) {
			for (const [id, p] of this.pending) {
				if (this.closed)
					break;
				if (now < p.deadlineUs)
					continue;
				if (p.tries >= this.cfg.placeRetries) { // sent 1 + retries times
					this.pending.delete(id);
					this.st.place_timeouts++;
					this.emit('assign', { user: p.user, requestId: id, room: 0, refusedRoom: 0,
						pool: p.pool, status: 'timeout' });
					continue;
				}
				p.tries++;
				p.deadlineUs = now + 1000 * this.cfg.placeTimeoutMs;
				this._placeRecord(id, p);
				this.st.place_resends++;
			}
			this.nextPlaceScanUs = now + 500 * this.cfg.placeTimeoutMs;
		}
		this._schedule();
	}

	// When the next timer falls due (as next_timer_us in the C library).
	_nextTimerUs() {
		let next = this.nextHbUs;
		const lostUs = 1000 * this.cfg.lostMs;
		const watch = this.state === STATE.LOST ? this.talkSinceUs + lostUs :
			Math.max(this.applHeardUs, this.talkSinceUs) + lostUs;
		if ((this.state !== STATE.LOST || this.appl.length > 1) && watch < next)
			next = watch;
		if (this.nEv > 0 && this.evSinceUs + this.cfg.flushUs < next)
			next = this.evSinceUs + this.cfg.flushUs;
		if (this.nPl > 0 && this.plSinceUs + this.cfg.flushUs < next)
			next = this.plSinceUs + this.cfg.flushUs;
		if (this.pending.size > 0 && this.nextPlaceScanUs < next)
			next = this.nextPlaceScanUs;
		if (this.snapshotOwed && this.snapshotSentUs + this._snapshotYoungUs() < next)
			next = this.snapshotSentUs + this._snapshotYoungUs();
		return next;
	}

	// Arm the one timer for the next deadline (kept if it fires earlier).
	_schedule() {
		if (this.closed)
			return;
		const at = this._nextTimerUs();
		if (this.timer !== null && this.timerAt <= at)
			return;
		if (this.timer !== null)
			clearTimeout(this.timer);
		this.timerAt = at;
		this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil((at - nowUs()) / 1000)));
	}

	// --------------------------------------------------------- the API --

	// The user is in room of pool now (a move if elsewhere).  A user new
	// here begins a session; a move keeps it.
	join(user, room, pool = 0) {
		this._open();
		const u = P.toUser(user);
		if (!Number.isInteger(room) || room < 1 || room > this.cfg.maxRoom)
			throw new RangeError(`room must be 1..${this.cfg.maxRoom} (maxRoom), not ${room}`);
		if (!Number.isInteger(pool) || pool < 0 || pool > 65535)
			throw new RangeError(`pool must be 0..65535, not ${pool}`);
		const k = this._key(u);
		let e = this.users.get(k);
		if (e !== undefined && e.room === room)
			return false; // already there
		if (e === undefined) {
			e = { room, pool, session: newSession(), hi: Number(u >> 32n), lo: Number(u & 0xffffffffn) };
			this.users.set(k, e);
		} else {
			this._digestAdd(e, e.room, -1);
			e.room = room;
			e.pool = pool;
		}
		this._digestAdd(e, room, +1);
		this.st.joins++;
		this._addEvent(e, u, room, P.OP.JOIN);
		return true;
	}

	// The user left (false: not held).
	leave(user) {
		this._open();
		const u = P.toUser(user), k = this._key(u);
		const e = this.users.get(k);
		if (e === undefined)
			return false;
		this.users.delete(k);
		this._digestAdd(e, e.room, -1);
		this.st.leaves++;
		this._addEvent(e, u, e.room, P.OP.LEAVE);
		return true;
	}

	// Ask for a placement; the answer comes as an 'assign' event with this
	// request id (placed, no_room, timeout, ...).
	place(user, pool = 0) {
		this._open();
		const u = P.toUser(user);
		if (!Number.isInteger(pool) || pool < 0 || pool > 65535)
			throw new RangeError(`pool must be 0..65535, not ${pool}`);
		if (this.pending.size >= 65536)
			throw new Error('too many placements pending (65536)');
		let id;
		do {
			this.nextRequest = (this.nextRequest + 1) >>> 0;
			id = this.nextRequest;
		} while (id === 0 || this.pending.has(id));
		const p = { user: u, pool, tries: 0, deadlineUs: nowUs() + 1000 * this.cfg.placeTimeoutMs };
		this.pending.set(id, p);
		if (this.pending.size === 1)
			this.nextPlaceScanUs = p.deadlineUs;
		this._placeRecord(id, p);
		this.st.places++;
		this._schedule();
		return id;
	}

	// the user table's key of user u (a bigint): see this.users
	_key(u) {
		return BigInt.asUintN(64, u * this.mix);
	}

	roomOf(user) {
		const e = this.users.get(this._key(P.toUser(user)));
		return e === undefined ? 0 : e.room;
	}

	poolOf(user) {
		const e = this.users.get(this._key(P.toUser(user)));
		return e === undefined ? -1 : e.pool;
	}

	get size() {
		return this.users.size;
	}

	// [user, room, pool] for every user held (a copy)
	members() {
		const out = [];
		for (const e of this.users.values())
			out.push([BigInt(e.hi) << 32n | BigInt(e.lo), e.room, e.pool]);
		return out;
	}

	// the membership digest (sum of hc_member_digest), a bigint
	digest() {
		return BigInt(this.dh) << 32n | BigInt(this.dl);
	}

	localPort() {
		return this.sock.address().port;
	}

	appliance() {
		return this.appl[this.cur].text;
	}

	stats() {
		return Object.assign({}, this.st, { sequence: this.seq, appliance_incarnation: this.applInc,
			fence_appliance: this.cfg.fenceAppliance,
			users: this.users.size, pending_places: this.pending.size, state: this.state });
	}

	_open() {
		if (this.closed)
			throw new Error('the session is closed');
	}

	// clean: flush and say SHUTDOWN (the appliance drops our users at
	// once), resolved when the socket has sent it; else like a crash (the
	// appliance drops them after its gateway timeout).
	async close(clean = true) {
		if (this.closed)
			return;
		if (this.timer !== null)
			clearTimeout(this.timer);
		this.timer = null;
		if (clean) {
			this.flush();
			this._sendHeartbeat(P.HB.SHUTDOWN);
		}
		// closed from here: nothing received, timed or sent after the
		// SHUTDOWN while it drains (a datagram handled meanwhile re-armed
		// the timer, whose heartbeat took the gateway back)
		this.closed = true;
		if (clean && this.inflight > 0)
			await new Promise((resolve) => {
				const t = setTimeout(resolve, 1000);
				this.drainWaiters.push(() => { clearTimeout(t); resolve(); });
			});
		this.sock.close();
	}
}

module.exports = { Session, STATE, splitAddress, newSession };
