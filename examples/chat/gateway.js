#!/usr/bin/env node
// SPDX-License-Identifier: BSD-3-Clause
// gateway.js - the reference chat gateway: browsers connect by WebSocket
// (the `ws` package), headcount places each user (the Node client,
// clients/node), the gateway fans chat messages out within the room, keeps
// a presence list per room, reports leaves on disconnect and obeys MOVE
// directives: the page switches room and says why.  It also serves the
// page (public/) over HTTP and its own view of the rooms (/api/rooms, and
// /api/rooms.csv in the appliance's "room,users" form) for tests.
//
// The session's user table is the gateway's truth (what it tells
// headcount); `rooms` (room -> the connections in it) is derived from it
// at every change, so the presence lists cannot drift from what headcount
// is told.  Listens on TCP (--listen HOST:PORT, repeatable) and/or a unix
// socket (--unix PATH: reachable from the host while the gateway runs in
// a network namespace; see tools/run-chat-demo.sh and proxy.js).
//
// A browser may be hostile (docs/chat.md, "A hostile page"): a request
// or a connection that throws is answered or closed, never the process;
// a reader too slow for its room's lines (send buffer past --slow-bytes) is
// closed; lines are rate-limited a connection; connections are capped
// (--max-connections) and pinged, and one that misses a pong is gone; a
// WebSocket from another site's page (its Origin not the host it asked)
// is refused, and so is every request naming a host the gateway was not
// told is its own (a DNS name rebound to it: --allow-host); names are
// unique in the gateway, as shown (spaces folded, case aside); a page
// that goes while it is being placed still counts against
// --max-connections until its answer, whose seat is then given back.
//
// One gateway's rooms: a line reaches the pages of the room connected to
// this gateway (the appliance counts a room's users across gateways; two
// gateways on one appliance need a pool each, or a bus between them).
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { Session } = require('../../clients/node');

function usage(msg) {
	process.stderr.write(`gateway.js: ${msg}\n` +
		'usage: gateway.js --appliance HOST[:PORT] --gateway-id N (--key HEX32 | --keys FILE | --no-auth)\n' +
		'       [--key-slot S] [--listen HOST:PORT ...] [--unix PATH] [--pool N] [--ready FILE]\n' +
		'       [--max-connections N] [--ping-ms MS] [--slow-bytes N] [--allow-host NAME ...]\n' +
		'       [--max-room N]\n');
	process.exit(2);
}

const MAX_ROOM = 262143;      // the appliance's largest room id (--max-room: its --max-rooms - 1):
                             // a NEW_TOPIC or MOVE beyond it, forged without keys, is not obeyed
const SLOW_BYTES = 1 << 20;  // a connection's unsent bytes past this (--slow-bytes): closed (too slow)
const LINES_PER_S = 5;       // chat lines a connection may send a second ...
const LINES_BURST = 20;      // ... and at once
const PING_MS = 20000;       // pings this far apart (--ping-ms): one missed, the connection is gone
const PRESENCE_MIN_MS = 100; // a room's presence lists at most this often (the later ones
                             // sent once, at the end of the wait): pages that come and go
                             // fast cost every page in the room a list each, not one a change
const OVER_LIMIT_CLOSE_MS = 1000; // a page refused for the cap is cut this long after its
                             // close frame (its handshake would not count against the cap)

function parseArgs(argv) {
	const o = { appliance: [], listen: [], pool: 0, keySlot: undefined, maxConnections: 10000,
		pingMs: PING_MS, slowBytes: SLOW_BYTES, allowHosts: [], maxRoom: MAX_ROOM };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i], v = argv[i + 1];
		if (a !== '--no-auth' && v === undefined)
			usage(`${a} needs a value`);
		switch (a) {
		case '--appliance': o.appliance.push(v); i++; break;
		case '--gateway-id': o.gatewayId = Number(v); i++; break;
		case '--key': o.key = v; i++; break;
		case '--keys': o.keys = v; i++; break;
		case '--key-slot': o.keySlot = Number(v); i++; break;
		case '--no-auth': o.noAuth = true; break;
		case '--listen': o.listen.push(v); i++; break;
		case '--unix': o.unix = v; i++; break;
		case '--pool': o.pool = Number(v); i++; break;
		case '--ready': o.ready = v; i++; break;
		case '--max-connections': o.maxConnections = Number(v); i++; break;
		case '--ping-ms': o.pingMs = Number(v); i++; break;
		case '--slow-bytes': o.slowBytes = Number(v); i++; break;
		case '--max-room': o.maxRoom = Number(v); i++; break;
		case '--allow-host': o.allowHosts.push(v.toLowerCase().replace(/\.$/, '')); i++; break;
		default: usage(`unknown option '${a}'`);
		}
	}
	if (o.appliance.length === 0 || !Number.isInteger(o.gatewayId))
		usage('need --appliance and --gateway-id');
	if (!Number.isInteger(o.pool) || o.pool < 0 || o.pool > 65535)
		usage('--pool: 0..65535');
	if (!Number.isInteger(o.maxConnections) || o.maxConnections < 1)
		usage('--max-connections: a positive integer');
	if (!Number.isInteger(o.pingMs) || o.pingMs < 100)
		usage('--ping-ms: at least 100');
	if (!Number.isInteger(o.slowBytes) || o.slowBytes < 4096)
		usage('--slow-bytes: at least 4096');
	if (!Number.isInteger(o.maxRoom) || o.maxRoom < 1 || o.maxRoom > 0xffffffff)
		usage('--max-room: 1..4294967295');
	for (const h of o.allowHosts)
		if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(h))
			usage(`--allow-host ${h}: a host name alone (no port: every port is the gateway's)`);
	if (o.listen.length === 0 && !o.unix)
		o.listen.push('127.0.0.1:8080');
	if (o.keys) {
		// the appliance's keys file: "GATEWAY SLOT HEX32"; the highest slot
		// holding a key for our id (or --key-slot)
		let best = null;
		for (const line of fs.readFileSync(o.keys, 'utf8').split('\n')) {
			const w = line.replace(/#.*/, '').trim().split(/\s+/);
			if (w.length === 3 && Number(w[0]) === o.gatewayId &&
			    (o.keySlot === undefined ? best === null || Number(w[1]) > best.slot : Number(w[1]) === o.keySlot))
				best = { slot: Number(w[1]), key: w[2] };
		}
		if (best === null)
			usage(`no key for gateway ${o.gatewayId} in ${o.keys}`);
		o.key = best.key;
		o.keySlot = best.slot;
	}
	return o;
}

// a name as pages show it: the characters kept ([A-Za-z0-9_ .-]), every
// run of spaces one, none at either end, at most 32 ("" when none is left)
function cleanName(raw) {
	return String(raw || '').replace(/[^\w .-]/g, '').replace(/\s+/g, ' ').trim().slice(0, 32).trim();
}

// Is a request's Host one of ours?  An IP address (a page at an address
// is not a DNS name an attacker can rebind), localhost, or a name given
// with --allow-host; no Host (not a browser: tools) is let in.
function hostAllowed(host, allowHosts) {
	if (host === undefined)
		return true;
	let name = String(host).toLowerCase();
	const m = /^\[([^\]]*)\](:\d+)?$/.exec(name);
	if (m)
		name = m[1];
	else if (/^[^:]*:\d+$/.test(name))
		name = name.slice(0, name.lastIndexOf(':'));
	name = name.replace(/\.$/, ''); // (a fully qualified name's dot)
	return net.isIP(name) !== 0 || name === 'localhost' || allowHosts.includes(name);
}

const STATIC = {
	'/': ['index.html', 'text/html; charset=utf-8'],
	'/app.js': ['app.js', 'text/javascript; charset=utf-8'],
	'/style.css': ['style.css', 'text/css; charset=utf-8'],
};

class ChatGateway {
	constructor(session, pool, maxConnections, slowBytes) {
		this.s = session;
		this.pool = pool;
		this.maxConnections = maxConnections;
		this.slowBytes = slowBytes;
		this.conns = new Map();        // user (bigint) -> conn
		this.names = new Set();        // the conns' names, lower case (set and freed with them)
		this.placing = new Map();      // request id -> conn (or one gone: an orphan)
		this.orphans = 0;              // placing's conns that went before their answer
		this.rooms = new Map();        // room -> Set of conns
		this.presenceAt = new Map();   // room -> { last: ms, timer }: PRESENCE_MIN_MS apart
		this.nextUser = BigInt(session.cfg.gatewayId) << 40n;
		this.counts = { connections: 0, messages: 0, moves: 0, new_topics: 0, refused: 0,
			throttled: 0, too_slow: 0, no_pong: 0, over_limit: 0, other_origin: 0, other_host: 0,
			orphans_released: 0, errors: 0 };
		session.on('assign', (a) => this.onAssign(a));
		session.on('move', (m) => this.onMove(m));
		session.on('state', (c) => log(`headcount session ${c.state} (${c.reason})`));
	}

	// ---- presence: conn.room mirrors the session's table
	setRoom(c, room) {
		if (c.room === room)
			return;
		const old = c.room;
		if (old) {
			const set = this.rooms.get(old);
			set.delete(c);
			if (set.size === 0) {
				this.rooms.delete(old);
				const p = this.presenceAt.get(old);
				if (p !== undefined && p.timer === null)
					this.presenceAt.delete(old); // (a pending one deletes it)
			} else
				this.presence(old);
		}
		c.room = room;
		if (room) {
			if (!this.rooms.has(room))
				this.rooms.set(room, new Set());
			this.rooms.get(room).add(c);
			this.presence(room);
		}
	}

	members(room) {
		return [...(this.rooms.get(room) || [])].map((c) => c.name).sort();
	}

	// the room's members to its pages: at once if the last list went
	// PRESENCE_MIN_MS ago or more, else once, when that is over (the
	// changes meanwhile in it); a room emptied meanwhile sends none
	presence(room) {
		let p = this.presenceAt.get(room);
		if (p === undefined)
			this.presenceAt.set(room, p = { last: 0, timer: null });
		if (p.timer !== null)
			return;
		const wait = p.last + PRESENCE_MIN_MS - Date.now();
		if (wait <= 0) {
			p.last = Date.now();
			this.fanout(room, { type: 'presence', room, members: this.members(room) });
			return;
		}
		p.timer = setTimeout(() => {
			p.timer = null;
			if (!this.rooms.has(room)) {
				this.presenceAt.delete(room);
				return;
			}
			p.last = Date.now();
			this.fanout(room, { type: 'presence', room, members: this.members(room) });
		}, wait);
		p.timer.unref();
	}

	fanout(room, msg) {
		const text = JSON.stringify(msg);
		for (const c of [...(this.rooms.get(room) || [])])
			this.send(c, text);
	}

	// one line to one connection; a reader that does not keep up (its
	// unsent lines past --slow-bytes) is closed rather than buffered for:
	// after the fan-out that found it (closed inside it, its leave's
	// presence list went out from inside that fan-out, one level deeper
	// for each slow reader of the room)
	send(c, text) {
		if (c.gone || c.cutting)
			return;
		if (c.ws.bufferedAmount > this.slowBytes) {
			c.cutting = true;
			setImmediate(() => {
				if (!c.gone)
					this.cutOff(c, 'too_slow');
			});
			return;
		}
		c.ws.send(text);
	}

	// a connection ended by the gateway (no close handshake), counted
	cutOff(c, why) {
		this.counts[why]++;
		c.ws.terminate(); // (its close event finds it gone)
		this.disconnect(c);
	}

	// a name no other connection has, as shown and whatever its case (a
	// suffix if it is taken); "guest-" names are the gateway's own
	uniqueName(raw, user) {
		const asked = cleanName(raw);
		const base = asked && !asked.toLowerCase().startsWith('guest-') ? asked :
			`guest-${user & 0xffffffffffn}`;
		let name = base;
		for (let k = 2; this.names.has(name.toLowerCase()); k++)
			name = `${base}-${k}`;
		return name;
	}

	// ---- connections
	connect(ws, name) {
		if (this.s.closed) { // stopping
			ws.close(1001, 'the gateway is stopping');
			return;
		}
		// (a page gone while placed holds its seat until the answer)
		if (this.conns.size + this.orphans >= this.maxConnections) {
			this.counts.over_limit++;
			ws.close(1013, 'the gateway is full: try again later');
			// (its close handshake would hold a socket uncounted for up
			// to ws's 30 s: many refused pages, no file left)
			setTimeout(() => ws.terminate(), OVER_LIMIT_CLOSE_MS).unref();
			return;
		}
		const user = ++this.nextUser;
		const c = { ws, user, name: this.uniqueName(name, user), room: 0, placing: 0, gone: false, cutting: false,
			tokens: LINES_BURST, filled: Date.now(), alive: true };
		this.conns.set(user, c);
		this.names.add(c.name.toLowerCase());
		this.counts.connections++;
		ws.on('message', (data) => this.onMessage(c, data));
		ws.on('close', () => this.disconnect(c));
		ws.on('error', () => this.disconnect(c));
		ws.on('pong', () => { c.alive = true; });
		try {
			ws.send(JSON.stringify({ type: 'welcome', user: String(user), name: c.name }));
			c.placing = this.s.place(user, this.pool);
			this.placing.set(c.placing, c);
		} catch (e) { // (the session refused the PLACE: too many pending)
			this.counts.errors++;
			this.disconnect(c);
			ws.close(1013, 'no room can be asked for now');
		}
	}

	// every --ping-ms: a connection that answered no ping since the last is
	// gone (a sleeping laptop, a lost NAT entry: no close ever comes)
	ping() {
		for (const c of [...this.conns.values()]) {
			if (!c.alive) {
				this.cutOff(c, 'no_pong');
				continue;
			}
			c.alive = false;
			try {
				c.ws.ping();
			} catch { // (not open: its close event ends it)
			}
		}
	}

	disconnect(c) {
		if (c.gone)
			return;
		c.gone = true;
		this.conns.delete(c.user);
		this.names.delete(c.name.toLowerCase());
		if (c.placing)
			this.orphans++; // (its answer gives the seat back: onAssign)
		if (!this.s.closed && this.s.roomOf(c.user) !== 0)
			this.s.leave(c.user);          // the LEAVE headcount hears
		this.setRoom(c, 0);
	}

	onMessage(c, data) {
		let m;
		try {
			m = JSON.parse(String(data));
		} catch {
			return;
		}
		if (m && m.type === 'say' && typeof m.text === 'string' && c.room) {
			const now = Date.now();
			c.tokens = Math.min(LINES_BURST, c.tokens + (now - c.filled) * LINES_PER_S / 1000);
			c.filled = now;
			if (c.tokens < 1) {
				this.counts.throttled++;
				return;
			}
			c.tokens--;
			this.counts.messages++;
			this.fanout(c.room, { type: 'msg', room: c.room, from: c.name, from_user: String(c.user),
				text: m.text.slice(0, 500), at: now });
		}
	}

	// ---- headcount's answers
	onAssign(a) {
		if (a.requestId !== 0) { // the answer to our PLACE
			const c = this.placing.get(a.requestId);
			if (c === undefined)
				return;
			this.placing.delete(a.requestId);
			c.placing = 0;
			const placed = a.status === 'placed' && Number.isInteger(a.room) && a.room >= 1;
			if (c.gone) {
				// the page went away meanwhile: its seat, reserved for
				// it, given back at once (a JOIN takes it, a LEAVE frees
				// it) rather than held to the reservation's end
				this.orphans--;
				if (placed && !this.s.closed) {
					this.s.join(c.user, a.room, a.pool);
					this.s.leave(c.user);
					this.counts.orphans_released++;
				}
				return;
			}
			if (placed) {
				this.s.join(c.user, a.room, a.pool);
				this.setRoom(c, a.room);
				this.send(c, JSON.stringify({ type: 'room', room: a.room,
					members: this.members(a.room), why: 'placed' }));
			} else {
				this.refuse(c, a.status === 'timeout' ?
					'headcount did not answer: try again later' : 'no room can be had now');
			}
			return;
		}
		const c = this.conns.get(a.user);
		if (c === undefined)
			return;
		if (a.status === 'new_topic') {
			// our JOIN into a full room was refused; the session has moved
			// the user to the offered room already
			this.counts.new_topics++;
			this.moved(c, a.refusedRoom, a.room, `room ${a.refusedRoom} was full`);
		} else {
			// no_room / full / superseded: the session dropped the user
			this.refuse(c, a.status === 'superseded' ? 'you connected again elsewhere' :
				a.status === 'full' ? 'headcount is full: try again later' : 'no room can be had now');
		}
	}

	onMove(m) {
		const c = this.conns.get(m.user);
		if (c === undefined)
			return;
		this.s.join(m.user, m.to, this.s.poolOf(m.user)); // (a MOVE never crosses pools)
		this.counts.moves++;
		this.moved(c, m.from, m.to, 'headcount\'s balancer keeps every room between its minimum ' +
			`and maximum size (directive ${m.directiveId})`);
	}

	moved(c, from, to, why) {
		this.setRoom(c, this.s.roomOf(c.user));
		this.send(c, JSON.stringify({ type: 'moved', from, to, why }));
		this.send(c, JSON.stringify({ type: 'room', room: to, members: this.members(to), why: 'moved' }));
	}

	refuse(c, why) {
		this.counts.refused++;
		this.setRoom(c, 0);
		this.send(c, JSON.stringify({ type: 'error', text: why }));
		c.ws.close(1013, why.slice(0, 100));
	}

	// ---- the gateway's view, for tests and operators
	view() {
		const rooms = [];
		for (const [room, set] of [...this.rooms].sort((x, y) => x[0] - y[0]))
			rooms.push({ room, users: set.size, members: this.members(room) });
		const table = new Map();
		for (const [, room] of this.s.members())
			table.set(room, (table.get(room) || 0) + 1);
		return { gateway: this.s.cfg.gatewayId, users: this.s.size, rooms,
			session_rooms: [...table].sort((x, y) => x[0] - y[0]).map(([room, users]) => ({ room, users })),
			placing: this.placing.size, counts: this.counts, session: this.s.stats() };
	}

	csv() {
		const table = new Map();
		for (const [, room] of this.s.members())
			table.set(room, (table.get(room) || 0) + 1);
		return 'room,users\n' + [...table].sort((x, y) => x[0] - y[0]).map(([r, n]) => `${r},${n}\n`).join('');
	}
}

function log(msg) {
	process.stderr.write(`[chat ${new Date().toISOString()}] ${msg}\n`);
}

async function main() {
	const o = parseArgs(process.argv.slice(2));
	const session = await Session.open({ appliance: o.appliance, gatewayId: o.gatewayId, key: o.key,
		keySlot: o.keySlot || 0, noAuth: o.noAuth, maxRoom: o.maxRoom });
	const chat = new ChatGateway(session, o.pool, o.maxConnections, o.slowBytes);
	const pub = path.join(__dirname, 'public');
	// the page's files, read once (a read per request could fail, EMFILE)
	const files = new Map(Object.entries(STATIC).map(([p, [file, type]]) =>
		[p, { type, body: fs.readFileSync(path.join(pub, file)) }]));
	const route = (req, res) => {
		const pathname = String(req.url || '').split('?')[0];
		if (pathname === '/api/rooms') {
			res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
			res.end(JSON.stringify(chat.view(), (k, v) => typeof v === 'bigint' ? String(v) : v));
		} else if (pathname === '/api/rooms.csv') {
			res.writeHead(200, { 'content-type': 'text/csv', 'cache-control': 'no-store' });
			res.end(chat.csv());
		} else if (files.has(pathname)) {
			const f = files.get(pathname);
			res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' });
			res.end(f.body);
		} else {
			res.writeHead(404, { 'content-type': 'text/plain' });
			res.end('not found\n');
		}
	};
	const handler = (req, res) => {
		try {
			route(req, res);
		} catch (e) { // (a request never ends the process)
			chat.counts.errors++;
			log(`request ${JSON.stringify(String(req.url).slice(0, 100))}: ${e.message}`);
			if (!res.headersSent)
				res.writeHead(500, { 'content-type': 'text/plain' });
			res.end('error\n');
		}
	};
	// a WebSocket from another site's page (a browser's Origin that is not
	// the host it asked for) is refused; tools without a browser send none
	const sameOrigin = (info, done) => {
		const origin = info.req.headers.origin;
		let ok = origin === undefined;
		try {
			ok = ok || new URL(origin).host === info.req.headers.host;
		} catch { // (no URL: refused)
		}
		if (!ok)
			chat.counts.other_origin++;
		done(ok, 403, 'a page of another site');
	};
	// every request names a host of ours (a DNS name an attacker rebinds
	// to this address would make its page same-origin): else 403
	const ourHost = (req) => {
		if (hostAllowed(req.headers.host, o.allowHosts))
			return true;
		chat.counts.other_host++;
		return false;
	};
	const guarded = (req, res) => {
		if (ourHost(req)) {
			handler(req, res);
			return;
		}
		res.writeHead(403, { 'content-type': 'text/plain' });
		res.end('not a host of this gateway (--allow-host)\n');
	};
	const verify = (info, done) => {
		if (!ourHost(info.req))
			done(false, 403, 'not a host of this gateway');
		else
			sameOrigin(info, done);
	};
	const { WebSocketServer } = require('ws');
	const servers = [];
	const listenOn = (spec) => new Promise((resolve, reject) => {
		const srv = http.createServer(guarded);
		// every socket bounded, not only the pages admitted: HTTP
		// requests, handshakes, refused pages closing; a request's headers
		// within 10 s (Node's 60 s let slow senders hold sockets)
		srv.maxConnections = o.maxConnections + 1024;
		srv.headersTimeout = 10000;
		srv.requestTimeout = 30000;
		const wss = new WebSocketServer({ server: srv, path: '/ws', maxPayload: 4096,
			verifyClient: verify });
		wss.on('connection', (ws, req) => {
			try {
				const q = String(req.url || '').split('?')[1] || '';
				const name = new URLSearchParams(q).get('name');
				chat.connect(ws, name || '');
			} catch (e) {
				chat.counts.errors++;
				log(`connection: ${e.message}`);
				ws.terminate();
			}
		});
		// ws re-emits the HTTP server's errors on wss: without a listener
		// there, a listen error threw instead of rejecting, and an accept
		// error later (EMFILE) ended the gateway (its users dropped by the
		// appliance 3 s later).  Before listening: reject; after: logged
		let listening = false, loggedAt = 0;
		wss.on('error', (e) => {
			if (listening) {
				chat.counts.errors++;
				// (counted always, logged once a second: out of file
				// descriptors, every connection attempt fails)
				if (Date.now() - loggedAt >= 1000) {
					loggedAt = Date.now();
					log(`server: ${e.message} (${chat.counts.errors} errors so far)`);
				}
			}
		});
		srv.on('error', (e) => {
			if (!listening)
				reject(e);
		});
		const up = () => { listening = true; resolve(); };
		if (typeof spec === 'string') {
			const i = spec.lastIndexOf(':');
			srv.listen(Number(spec.slice(i + 1)), spec.slice(0, i).replace(/^\[|\]$/g, ''), up);
		} else {
			fs.rmSync(spec.unix, { force: true });
			srv.listen(spec.unix, () => { fs.chmodSync(spec.unix, 0o666); up(); });
		}
		servers.push({ srv, wss });
	});
	for (const l of o.listen)
		await listenOn(l);
	if (o.unix)
		await listenOn({ unix: o.unix });
	const where = servers.map((x) => {
		const a = x.srv.address();
		return typeof a === 'string' ? a : `${a.address}:${a.port}`;
	});
	log(`gateway ${o.gatewayId} (headcount at ${session.appliance()}, incarnation ` +
		`${session.incarnation}) listening on ${where.join(', ')}`);
	if (o.ready)
		fs.writeFileSync(o.ready, where.join('\n') + '\n');
	const pinger = setInterval(() => chat.ping(), o.pingMs);
	let stopping = false;
	const stop = async () => {
		if (stopping)
			return;
		stopping = true;
		clearInterval(pinger);
		for (const { srv, wss } of servers) {
			for (const ws of wss.clients)
				ws.terminate();
			srv.close();
		}
		await session.close(true); // SHUTDOWN: headcount drops our users at once
		log('stopped');
		process.exit(0);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

if (require.main === module) {
	main().catch((e) => {
		log(`fatal: ${e.message}`);
		process.exit(1);
	});
}
module.exports = { ChatGateway, cleanName, hostAllowed }; // (tests)
