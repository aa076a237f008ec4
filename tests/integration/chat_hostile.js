// SPDX-License-Identifier: BSD-3-Clause
// chat_hostile.js - the chat gateway against a hostile page or script (run
// by chat_browser.sh after the browser test, through the host proxy):
//   - a request whose path is no URL ("//") is answered and ends nothing;
//   - an HTTP/1.0 request whose client ends its side gets its reply
//     through the proxy;
//   - a WebSocket from another site's page (Origin) is refused, and so
//     is a request naming a host not the gateway's (a rebound DNS name);
//   - a name already taken (as shown: spaces folded, case aside), or one
//     of the gateway's "guest-" names, is not given twice;
//   - lines past a connection's rate are dropped, counted;
//   - a connection that never answers a ping is closed (the gateway runs
//     with --ping-ms 8000), and one that answers stays;
//   - a page that reads nothing while its room talks is closed once its
//     unsent lines pass the gateway's --slow-bytes (64 KiB here), counted,
//     its user gone from the room; the pages that read stay.  It connects
//     to the gateway's unix socket (SOCKET), not through the proxy, whose
//     buffers would hold its lines instead.
// The gateway still answers at the end.  Every wait is bounded.
//   node chat_hostile.js URL SOCKET
'use strict';

const net = require('node:net');
const path = require('node:path');
const { createRequire } = require('node:module');

const root = path.resolve(__dirname, '..', '..');
const chatRequire = createRequire(path.join(root, 'examples', 'chat', 'package.json'));
const WebSocket = chatRequire('ws');

const [url, sock] = process.argv.slice(2);
const u = new URL(url);
const BOUND_MS = 30000;

function fail(msg) {
	console.log(`FAIL: ${msg}`);
	process.exit(1);
}

function need(what, ok, got) {
	if (!ok)
		fail(`${what}: ${got}`);
	console.log(`  ${what}: ${got}`);
}

// raw bytes to the gateway (through the proxy); everything it answers
// until it closes, or what came within BOUND_MS
function raw(request, endAfter) {
	return new Promise((resolve) => {
		const s = net.connect(Number(u.port), u.hostname);
		let got = '';
		const t = setTimeout(() => { s.destroy(); resolve(got); }, BOUND_MS);
		s.on('data', (d) => { got += d; });
		s.on('close', () => { clearTimeout(t); resolve(got); });
		s.on('error', () => {});
		if (endAfter)
			s.end(request);
		else
			s.write(request);
	});
}

async function view() {
	return (await fetch(`${url}api/rooms`, { signal: AbortSignal.timeout(BOUND_MS) })).json();
}

// a WebSocket's first message of `type` (or its refusal's status), at
// the gateway through the proxy (a query), or at `address`
function open(query, headers, type, address) {
	return new Promise((resolve) => {
		const ws = new WebSocket(address || `${url.replace(/^http/, 'ws')}ws${query}`, { headers });
		const t = setTimeout(() => resolve({ ws, timeout: true }), BOUND_MS);
		ws.on('unexpected-response', (req, res) => { clearTimeout(t); resolve({ ws, status: res.statusCode }); });
		ws.on('error', () => {});
		ws.on('message', (d) => {
			const m = JSON.parse(String(d));
			if (m.type === type) {
				clearTimeout(t);
				resolve({ ws, m });
			}
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// a page that reads nothing: placed, then its socket paused; up to five
// pages placed in its room say 500-character lines at the rate the
// gateway allows (20 at once, then 5 a second each) until it is closed
async function slowReader() {
	const before = (await view()).counts;
	const slow = await open('', {}, 'room', `ws+unix://${sock}:/ws?name=slow`);
	need('a page straight on the unix socket has a room', slow.m !== undefined,
		slow.m && slow.m.room);
	slow.ws.pause(); // (its socket reads nothing from now on)
	let closed = false;
	slow.ws.on('close', () => { closed = true; });
	const room = slow.m.room, talkers = [];
	for (let i = 0; i < 8 && talkers.length < 5; i++) {
		const t = await open(`?name=talk${i}`, {}, 'room');
		if (t.m && t.m.room === room)
			talkers.push(t);
		else
			t.ws.close();
	}
	need('pages in its room', talkers.length >= 1, `${talkers.length} in room ${room}`);
	const line = JSON.stringify({ type: 'say', text: 'x'.repeat(500) });
	let v = before;
	const end = Date.now() + 90000;
	for (let round = 0; v.too_slow === before.too_slow && Date.now() < end; round++) {
		for (const t of talkers)
			for (let k = 0; k < (round === 0 ? 20 : 5); k++)
				t.ws.send(line);
		await sleep(1000);
		v = (await view()).counts;
	}
	need('a page that reads nothing: closed once its unsent lines passed --slow-bytes, counted',
		v.too_slow - before.too_slow === 1, `too_slow +${v.too_slow - before.too_slow}, ` +
		`${v.messages - before.messages} lines taken`);
	const after = await view();
	const named = after.rooms.some((r) => r.members.includes('slow'));
	need('... its user gone from every room', !named, named ? 'still listed' : 'gone');
	need('... the pages that read stay', talkers.every((t) => t.ws.readyState === WebSocket.OPEN),
		talkers.map((t) => t.ws.readyState).join(' '));
	for (const t of talkers)
		t.ws.close();
	slow.ws.terminate();
	console.log(`  (the slow page's own close seen: ${closed})`);
}

async function main() {
	const r1 = await raw('GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', false);
	need('GET //: answered', /^HTTP\/1\.1 [45]\d\d /.test(r1), r1.split('\r\n')[0]);
	const r2 = await raw('GET /api/rooms.csv HTTP/1.0\r\n\r\n', true);
	need('HTTP/1.0, the client\'s side ended: the reply through the proxy',
		/^HTTP\/1\.1 200 /.test(r2) && r2.includes('room,users'), r2.split('\r\n')[0]);
	const evil = await open('?name=x', { Origin: 'http://evil.example' }, 'welcome');
	need('a WebSocket from another site\'s page: refused', evil.status === 403, evil.status);
	// a DNS name rebound to the gateway: its page's Origin names the host
	// it asked for, but that host is none of the gateway's
	const rebound = `evil.example:${u.port}`;
	const dns = await open('?name=x', { Host: rebound, Origin: `http://${rebound}` }, 'welcome');
	need('a WebSocket naming a host not the gateway\'s (DNS rebinding): refused', dns.status === 403,
		dns.status);
	const r3 = await raw(`GET /api/rooms HTTP/1.1\r\nHost: ${rebound}\r\nConnection: close\r\n\r\n`, false);
	need('... and /api/rooms under that host', /^HTTP\/1\.1 403 /.test(r3), r3.split('\r\n')[0]);
	const a = await open('?name=dup', {}, 'welcome');
	const b = await open('?name=dup', {}, 'welcome');
	const a2 = await open('?name=%20DUP%20', {}, 'welcome');
	const g = await open('?name=guest-1', {}, 'welcome');
	const g2 = await open('?name=%20guest-2', {}, 'welcome');
	need('a name taken: given once', a.m && b.m && a.m.name === 'dup' && b.m.name === 'dup-2',
		`${a.m && a.m.name}, ${b.m && b.m.name}`);
	need('... as shown, case aside', a2.m && a2.m.name === 'DUP-3', a2.m && a2.m.name);
	need('a "guest-" name asked for: the gateway\'s own instead', g.m && g.m.name !== 'guest-1' &&
		g.m.name.startsWith('guest-') && g2.m && /^guest-\d+$/.test(g2.m.name) &&
		g2.m.name !== 'guest-2', `${g.m && g.m.name}, ${g2.m && g2.m.name}`);
	// lines past the rate: a page in a room sends 60 at once
	const c = await open('?name=flood', {}, 'room');
	need('the flooding page has a room', c.m !== undefined, c.m && c.m.room);
	const before = (await view()).counts;
	const t0 = Date.now();
	for (let i = 0; i < 60; i++)
		c.ws.send(JSON.stringify({ type: 'say', text: `flood ${i}` }));
	let after;
	const end = Date.now() + BOUND_MS;
	do {
		await new Promise((r) => setTimeout(r, 100));
		after = (await view()).counts;
	} while (after.messages + after.throttled - before.messages - before.throttled < 60 &&
		 Date.now() < end);
	const took = (after.messages - before.messages), dropped = after.throttled - before.throttled;
	const allowed = 20 + Math.ceil(5 * (Date.now() - t0) / 1000);
	need('60 lines at once: every one taken or dropped', took + dropped === 60, `${took} + ${dropped}`);
	need(`... at most the burst and the rate (${allowed}) taken`, took <= allowed && dropped > 0,
		`${took} taken, ${dropped} dropped`);
	for (const x of [a, b, a2, g, g2, c])
		x.ws.close();
	// a page gone without a close (a sleeping laptop): a raw WebSocket
	// that answers no ping; beside it one that does (the ws library)
	const pongs = (await view()).counts.no_pong;
	const alive = await open('?name=alive', {}, 'welcome');
	const mute = await new Promise((resolve) => {
		const s = net.connect(Number(u.port), u.hostname);
		const st = { s, upgraded: false, closed: false };
		s.on('data', (d) => { st.upgraded = st.upgraded || String(d).startsWith('HTTP/1.1 101'); });
		s.on('close', () => { st.closed = true; });
		s.on('error', () => {});
		s.write(`GET /ws?name=mute HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
			'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
			'Sec-WebSocket-Version: 13\r\n\r\n');
		resolve(st);
	});
	const until = Date.now() + 60000; // (two pings of 8 s, and a loaded box)
	while (!mute.closed && Date.now() < until)
		await new Promise((r) => setTimeout(r, 200));
	need('a page that answers no ping: upgraded, then closed by the gateway',
		mute.upgraded && mute.closed, `upgraded ${mute.upgraded}, closed ${mute.closed}`);
	const v1 = await view();
	need('... counted', v1.counts.no_pong - pongs >= 1, v1.counts.no_pong - pongs);
	need('a page that answers them stays', alive.ws.readyState === WebSocket.OPEN,
		alive.ws.readyState);
	alive.ws.close();
	mute.s.destroy();
	await slowReader();
	const v = await view();
	need('the gateway still answers', typeof v.users === 'number', `${v.users} users`);
	console.log('PASS: the chat gateway against a hostile page');
	process.exit(0);
}

main().catch((e) => fail(e.stack || e.message));
