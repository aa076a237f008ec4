// SPDX-License-Identifier: BSD-3-Clause
// chat_gateway_unit.js - the chat gateway's class (examples/chat/gateway.js)
// with a stand-in session and stand-in sockets, no appliance, no network,
// no npm package: names as shown are unique (spaces folded, case aside,
// "guest-" the gateway's own); a request's Host must be ours (an address,
// localhost, or --allow-host: a rebound DNS name is refused); a page gone
// while it is being placed still counts against --max-connections until
// its answer, whose seat is then given back (a JOIN and a LEAVE); a PLACED
// answer naming no room is a refusal, not a crash; a MOVE keeps the
// user's pool; a room's presence lists go at once, then one per 100 ms
// for the changes meanwhile; a slow reader is cut after the fan-out that
// found it; a listen error ends the gateway process with its reason
// (exit 1), not an uncaught throw.
//   node --test tests/integration/chat_gateway_unit.js
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { EventEmitter } = require('node:events');
const path = require('node:path');

const { ChatGateway, cleanName, hostAllowed } =
	require(path.join(__dirname, '..', '..', 'examples', 'chat', 'gateway.js'));

// what the gateway calls on a session, recorded
class FakeSession extends EventEmitter {
	constructor() {
		super();
		this.cfg = { gatewayId: 3 };
		this.closed = false;
		this.calls = [];
		this.nextId = 0;
		this.table = new Map();
		this.pools = new Map();
	}
	place(user, pool) { this.calls.push(['place', user, pool]); return ++this.nextId; }
	join(user, room, pool) {
		this.calls.push(['join', user, room, pool]);
		this.table.set(user, room);
		this.pools.set(user, pool);
	}
	leave(user) { this.calls.push(['leave', user]); this.table.delete(user); }
	roomOf(user) { return this.table.get(user) || 0; }
	poolOf(user) { return this.table.has(user) ? this.pools.get(user) : -1; }
	members() { return this.table.entries(); }
	get size() { return this.table.size; }
	stats() { return {}; }
}

// a socket as the gateway uses one
class FakeWs extends EventEmitter {
	constructor() {
		super();
		this.sent = [];
		this.closedWith = null;
		this.bufferedAmount = 0;
		this.readyState = 1;
	}
	send(text) { this.sent.push(JSON.parse(text)); }
	close(code, why) { this.closedWith = [code, why]; this.readyState = 3; }
	terminate() { this.closedWith = ['terminated']; this.readyState = 3; }
	ping() {}
}

function gateway(max) {
	const s = new FakeSession();
	return { s, g: new ChatGateway(s, 0, max, 1 << 20) };
}

test('names as shown are unique: spaces folded, case aside, guest- the gateway\'s', () => {
	const { g } = gateway(100);
	const named = (raw) => {
		const ws = new FakeWs();
		g.connect(ws, raw);
		return ws.sent[0].name;
	};
	assert.strictEqual(named('alice'), 'alice');
	assert.strictEqual(named(' alice'), 'alice-2');
	assert.strictEqual(named('alice  '), 'alice-3');
	assert.strictEqual(named('ALICE'), 'ALICE-4');
	assert.strictEqual(named('bob   the  builder'), 'bob the builder');
	assert.match(named(' guest-1099511627777'), /^guest-\d+$/);
	assert.notStrictEqual(named('Guest-5'), 'Guest-5');
	assert.match(named('   '), /^guest-\d+$/);
	assert.match(named('<b>'), /^b$/);
	assert.strictEqual(cleanName('José 李'), 'Jos');
	assert.strictEqual(cleanName('x'.repeat(40)).length, 32);
});

test('a request must name a host of ours: an address, localhost, or --allow-host', () => {
	for (const h of ['127.0.0.1:8080', '127.0.0.1', '[::1]:8080', '198.18.0.2:80', 'localhost:8080',
		'LOCALHOST', undefined])
		assert.strictEqual(hostAllowed(h, []), true, String(h));
	for (const h of ['evil.example:8080', 'evil.example', 'localhost.evil.example', '127.0.0.1.evil.example',
		'chat.example.com'])
		assert.strictEqual(hostAllowed(h, []), false, h);
	assert.strictEqual(hostAllowed('Chat.Example.com:443', ['chat.example.com']), true);
	assert.strictEqual(hostAllowed('chat.example.com.', ['chat.example.com']), true);
	assert.strictEqual(hostAllowed('localhost.:8080', []), true);
});

test('a page gone while being placed counts until its answer, which gives the seat back', () => {
	const { s, g } = gateway(3);
	const pages = [1, 2, 3].map(() => new FakeWs());
	for (const ws of pages)
		g.connect(ws, 'p');
	for (const ws of pages)
		ws.emit('close'); // gone before any answer
	assert.strictEqual(g.conns.size, 0);
	assert.strictEqual(g.orphans, 3);
	const late = new FakeWs();
	g.connect(late, 'late');
	assert.deepStrictEqual(late.closedWith, [1013, 'the gateway is full: try again later']);
	assert.strictEqual(g.counts.over_limit, 1);
	// the first answer: placed; its seat taken and given back
	const user1 = s.calls[0][1];
	s.emit('assign', { requestId: 1, user: user1, status: 'placed', room: 7, pool: 0 });
	assert.deepStrictEqual(s.calls.slice(-2), [['join', user1, 7, 0], ['leave', user1]]);
	assert.strictEqual(g.orphans, 2);
	assert.strictEqual(g.counts.orphans_released, 1);
	assert.strictEqual(s.roomOf(user1), 0);
	// the second: timed out; nothing to give back
	const n = s.calls.length;
	s.emit('assign', { requestId: 2, user: s.calls[1][1], status: 'timeout', room: 0, pool: 0 });
	assert.strictEqual(s.calls.length, n);
	assert.strictEqual(g.orphans, 1);
	// room for one page again
	const next = new FakeWs();
	g.connect(next, 'next');
	assert.strictEqual(next.closedWith, null);
	assert.strictEqual(g.conns.size, 1);
});

// n pages placed in room, pool; their sockets and users
function placed(s, g, n, room, pool) {
	const out = [];
	for (let i = 0; i < n; i++) {
		const ws = new FakeWs();
		g.connect(ws, `p${i}`);
		const call = s.calls[s.calls.length - 1];
		s.emit('assign', { requestId: s.nextId, user: call[1], status: 'placed', room, pool });
		out.push({ ws, user: call[1] });
	}
	return out;
}

test('a MOVE keeps the user in its own pool (the directive names the appliance\'s)', () => {
	const { s, g } = gateway(10);
	const [p] = placed(s, g, 1, 7, 5);
	s.emit('move', { user: p.user, from: 7, to: 9, pool: 0, directiveId: 1 });
	assert.deepStrictEqual(s.calls[s.calls.length - 1], ['join', p.user, 9, 5]);
	assert.strictEqual(g.counts.moves, 1);
});

test('presence lists: at once, then one for the changes of the next 100 ms', async (t) => {
	const realNow = Date.now;
	const frozen = realNow();
	Date.now = () => frozen; // (every change within one instant)
	t.after(() => { Date.now = realNow; });
	const { s, g } = gateway(10);
	const pages = placed(s, g, 4, 7, 0);
	const lists = (ws) => ws.sent.filter((m) => m.type === 'presence');
	assert.strictEqual(lists(pages[0].ws).length, 1); // its own join's, at once
	assert.deepStrictEqual(lists(pages[0].ws)[0].members, ['p0']);
	assert.strictEqual(lists(pages[3].ws).length, 0); // the rest wait
	for (let i = 0; i < 100 && lists(pages[3].ws).length === 0; i++)
		await new Promise((r) => setTimeout(r, 50));
	assert.strictEqual(lists(pages[0].ws).length, 2); // one more, all four in it
	assert.deepStrictEqual(lists(pages[0].ws)[1].members, ['p0', 'p1', 'p2', 'p3']);
	assert.deepStrictEqual(lists(pages[3].ws)[0].members, ['p0', 'p1', 'p2', 'p3']);
});

test('a slow reader is cut after the fan-out that found it, not inside it', async () => {
	const { s, g } = gateway(10);
	const pages = placed(s, g, 3, 7, 0);
	pages[1].ws.bufferedAmount = 2 << 20; // past --slow-bytes
	g.fanout(7, { type: 'line', text: 'x' });
	assert.strictEqual(pages[1].ws.closedWith, null); // not yet
	assert.strictEqual(g.rooms.get(7).size, 3);
	await new Promise((r) => setImmediate(r));
	assert.deepStrictEqual(pages[1].ws.closedWith, ['terminated']);
	assert.strictEqual(g.counts.too_slow, 1);
	assert.strictEqual(g.rooms.get(7).size, 2);
});

test('a PLACED answer naming no room is a refusal, not a crash', () => {
	const { s, g } = gateway(10);
	const ws = new FakeWs();
	g.connect(ws, 'p');
	const user = s.calls[0][1];
	s.emit('assign', { requestId: 1, user, status: 'placed', room: 0, pool: 0 });
	assert.deepStrictEqual(ws.closedWith, [1013, 'no room can be had now']);
	assert.strictEqual(s.calls.filter((c) => c[0] === 'join').length, 0);
	assert.strictEqual(g.counts.refused, 1);
});

// (the gateway process itself needs the ws package: skipped without it)
let haveWs = true;
try {
	require.resolve('ws', { paths: [path.join(__dirname, '..', '..', 'examples', 'chat')] });
} catch (e) {
	haveWs = false;
}

test('a listen error ends the gateway cleanly (exit 1, the reason), not with an uncaught throw',
	{ skip: !haveWs && 'no ws package (examples/chat: npm install)' }, async () => {
		const http = require('node:http');
		const { spawn } = require('node:child_process');
		const busy = http.createServer();
		await new Promise((r) => busy.listen(0, '127.0.0.1', r));
		const port = busy.address().port;
		try {
			const gw = spawn(process.execPath, [
				path.join(__dirname, '..', '..', 'examples', 'chat', 'gateway.js'),
				'--appliance', '127.0.0.1:9', '--gateway-id', '5', '--no-auth',
				'--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
			let out = '';
			gw.stdout.on('data', (b) => { out += b; });
			gw.stderr.on('data', (b) => { out += b; });
			const killer = setTimeout(() => gw.kill('SIGKILL'), 30000);
			const code = await new Promise((r) => gw.on('exit', (c) => r(c)));
			clearTimeout(killer);
			assert.strictEqual(code, 1, out);
			assert.match(out, /fatal: listen EADDRINUSE/);
			assert.doesNotMatch(out, /node:events|Unhandled 'error' event/);
		} finally {
			busy.close();
		}
	});
