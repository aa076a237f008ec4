#!/usr/bin/env node
// SPDX-License-Identifier: BSD-3-Clause
// load.js - thousands of simulated chat users against the reference
// gateway: each opens a WebSocket, waits to be placed in a room, says a
// line now and then, and leaves after a random while (a new user takes
// its place, so the population stays near --clients).  Counts placements
// (and their latency), lines sent and delivered, moves and refusals;
// reads the gateway's own counters at the end (/api/rooms) for events/s.
// Bounded: it stops by itself after --seconds.
//   node load.js --url http://HOST:PORT/ [--clients N (2000)] [--seconds S (20)]
//       [--ramp S (5)] [--say-ms MS (5000)] [--stay-s S (15)] [--result FILE]
'use strict';

const fs = require('node:fs');
const WebSocket = require('ws');

const args = process.argv.slice(2);
const opt = (name, def) => {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : def;
};
const URL_ = opt('--url', 'http://127.0.0.1:8080/');
const CLIENTS = Number(opt('--clients', 2000)), SECONDS = Number(opt('--seconds', 20));
const RAMP = Number(opt('--ramp', 5)), SAY_MS = Number(opt('--say-ms', 5000));
const STAY_S = Number(opt('--stay-s', 15));
const result = opt('--result', null);
const wsUrl = URL_.replace(/^http/, 'ws').replace(/\/?$/, '/ws');

const c = { opened: 0, placed: 0, refused: 0, errors: 0, sent: 0, received: 0, moves: 0, left: 0,
	peak: 0 };
const latency = [];
const live = new Set();
let stopping = false;
let seq = 0;

function rnd(mean) {
	return -Math.log(1 - Math.random()) * mean;
}

function user() {
	const name = `load${++seq}`;
	const t0 = process.hrtime.bigint();
	const ws = new WebSocket(`${wsUrl}?name=${name}`);
	const u = { ws, name, room: 0, timers: [] };
	live.add(u);
	c.opened++;
	c.peak = Math.max(c.peak, live.size);
	const gone = () => {
		if (!live.delete(u))
			return;
		for (const t of u.timers)
			clearTimeout(t);
		if (!stopping)
			setTimeout(user, rnd(200)); // someone else arrives
	};
	ws.on('message', (data) => {
		const m = JSON.parse(String(data));
		if (m.type === 'room' && u.room === 0) {
			c.placed++;
			latency.push(Number(process.hrtime.bigint() - t0) / 1e6);
			const say = () => {
				if (ws.readyState === WebSocket.OPEN) {
					ws.send(JSON.stringify({ type: 'say', text: `hi from ${name}` }));
					c.sent++;
				}
				u.timers.push(setTimeout(say, rnd(SAY_MS)));
			};
			u.timers.push(setTimeout(say, rnd(SAY_MS)));
			u.timers.push(setTimeout(() => { c.left++; ws.close(); }, rnd(STAY_S * 1000)));
		}
		if (m.type === 'room')
			u.room = m.room;
		else if (m.type === 'msg')
			c.received++;
		else if (m.type === 'moved')
			c.moves++;
		else if (m.type === 'error')
			c.refused++;
	});
	ws.on('error', () => { c.errors++; gone(); });
	ws.on('close', gone);
}

function pct(a, p) {
	if (a.length === 0)
		return 0;
	const s = a.slice().sort((x, y) => x - y);
	return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

async function gatewayCounts() {
	const v = await (await fetch(`${URL_.replace(/\/?$/, '/')}api/rooms`)).json();
	return { users: v.users, rooms: v.rooms.length, joins: v.session.joins, leaves: v.session.leaves,
		moves: v.session.moves, places: v.session.places, messages: v.counts.messages };
}

async function main() {
	const g0 = await gatewayCounts();
	const t0 = Date.now();
	for (let i = 0; i < CLIENTS; i++)
		setTimeout(user, (i / CLIENTS) * RAMP * 1000);
	let samples = 0;
	const tick = setInterval(async () => {
		samples++;
		const g = await gatewayCounts().catch(() => null);
		if (g)
			process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] clients ${live.size}, ` +
				`gateway users ${g.users} in ${g.rooms} rooms, placed ${c.placed}, moves ${c.moves}, ` +
				`lines ${c.sent} sent / ${c.received} delivered\n`);
	}, 2000);
	await new Promise((r) => setTimeout(r, SECONDS * 1000));
	const g1 = await gatewayCounts();
	const secs = (Date.now() - t0) / 1000;
	clearInterval(tick);
	stopping = true;
	for (const u of live) {
		for (const t of u.timers)
			clearTimeout(t);
		u.ws.terminate();
	}
	const events = (g1.joins - g0.joins) + (g1.leaves - g0.leaves);
	const out = {
		seconds: secs.toFixed(1), clients_target: CLIENTS, clients_peak: c.peak, users_opened: c.opened,
		placed: c.placed, refused: c.refused, errors: c.errors, left: c.left,
		place_ms_p50: pct(latency, 0.5).toFixed(1), place_ms_p99: pct(latency, 0.99).toFixed(1),
		lines_sent: c.sent, lines_delivered: c.received, moves_seen: c.moves,
		gateway_users_end: g1.users, gateway_rooms_end: g1.rooms,
		gateway_events: events, events_per_s: Math.round(events / secs),
		gateway_moves: g1.moves - g0.moves, moves_per_s: ((g1.moves - g0.moves) / secs).toFixed(1),
		placements_per_s: Math.round((g1.places - g0.places) / secs),
		lines_delivered_per_s: Math.round(c.received / secs), samples,
	};
	const text = Object.entries(out).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
	process.stdout.write(text);
	if (result)
		fs.writeFileSync(result, text);
	setTimeout(() => process.exit(0), 500);
}

main().catch((e) => {
	process.stderr.write(`load.js: ${e.stack}\n`);
	process.exit(1);
});
