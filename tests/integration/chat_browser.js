// SPDX-License-Identifier: BSD-3-Clause
// chat_browser.js - the chat in a real browser (run by chat_browser.sh):
// headless Chromium (Debian's, through puppeteer-core) opens N pages of
// the reference chat gateway (examples/chat); every page is placed; a
// message reaches exactly the pages of its room; pages close until rooms
// fall below the pool's min; the balancer merges them and the remaining
// pages show their new room (and why) and can talk there; all along the
// appliance's room table (telemetry, tools/hc-tel.py) must come to equal
// the gateway's table and the pages' view.  Screenshots of a page before
// and after its move go to SHOTS.  Every wait is on a condition, bounded.
//   node chat_browser.js URL TEL_PREFIX SHOTS PAGES MIN MAX
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const { createRequire } = require('node:module');

const root = path.resolve(__dirname, '..', '..');
const chatRequire = createRequire(path.join(root, 'examples', 'chat', 'package.json'));
const puppeteer = chatRequire('puppeteer-core');

const [url, telPrefix, shots, nPagesS, minS, maxS] = process.argv.slice(2);
const N = Number(nPagesS), MIN = Number(minS), MAX = Number(maxS);
const BOUND_MS = 120000;

function fail(msg) {
	console.log(`FAIL: ${msg}`);
	process.exit(1);
}

async function waitFor(what, cond, boundMs = BOUND_MS) {
	const end = Date.now() + boundMs;
	let last;
	for (;;) {
		last = await cond();
		if (last === true)
			return;
		if (Date.now() > end)
			fail(`within ${boundMs / 1000} s: ${what}${typeof last === 'string' ? ` (${last})` : ''}`);
		await new Promise((r) => setTimeout(r, 200));
	}
}

// the appliance's room table, "room,users" CSV as hc_rooms_equal reads it
function applianceCsv() {
	return execFileSync('python3', [path.join(root, 'tools', 'hc-tel.py'), telPrefix, 'rooms'],
		{ encoding: 'utf8', timeout: 20000 });
}

async function gatewayView() {
	const r = await fetch(`${url}api/rooms`);
	return r.json();
}

async function gatewayCsv() {
	return (await fetch(`${url}api/rooms.csv`)).text();
}

// what a page shows
function pageView(p) {
	return p.page.evaluate(() => ({
		room: Number(document.getElementById('room').textContent) || 0,
		members: [...document.querySelectorAll('#members li')].map((li) => li.textContent),
		messages: [...document.querySelectorAll('#messages li.msg')].map((li) => li.textContent),
		notice: document.getElementById('notice').hidden ? '' : document.getElementById('notice').textContent,
		closed: window.chatState.closed,
	}));
}

async function views(pages) {
	return Promise.all(pages.map(async (p) => Object.assign(p, { v: await pageView(p) })));
}

function csvOf(pages) {
	const n = new Map();
	for (const p of pages)
		n.set(p.v.room, (n.get(p.v.room) || 0) + 1);
	return 'room,users\n' + [...n].sort((a, b) => a[0] - b[0]).map(([r, k]) => `${r},${k}\n`).join('');
}

// Settled: every page shows a room; the pages' rooms, the gateway's
// presence lists (names per room), the gateway's session table and the
// appliance's table agree exactly; every room is within [MIN, MAX] (the
// balancer has nothing to plan) unless allowBelow.
async function settled(pages, allowBelow) {
	await views(pages);
	const bad = pages.find((p) => p.v.room === 0 || p.v.closed);
	if (bad)
		return `${bad.name} shows no room`;
	const pagesCsv = csvOf(pages);
	const gw = await gatewayView();
	const gwCsv = await gatewayCsv();
	if (gwCsv !== pagesCsv)
		return `gateway ${JSON.stringify(gwCsv)} != pages ${JSON.stringify(pagesCsv)}`;
	if (gw.placing !== 0)
		return 'placements in flight';
	for (const room of gw.rooms) {
		const names = pages.filter((p) => p.v.room === room.room).map((p) => p.name).sort();
		if (JSON.stringify(names) !== JSON.stringify(room.members))
			return `room ${room.room}: gateway lists ${room.members}, pages ${names}`;
		for (const p of pages.filter((q) => q.v.room === room.room))
			if (JSON.stringify([...p.v.members].sort()) !== JSON.stringify(names))
				return `${p.name} shows members ${p.v.members} in room ${room.room}, not ${names}`;
	}
	let appl;
	try {
		appl = applianceCsv();
	} catch (e) {
		return `telemetry: ${e.message}`;
	}
	if (appl !== pagesCsv)
		return `appliance ${JSON.stringify(appl)} != pages ${JSON.stringify(pagesCsv)}`;
	if (!allowBelow)
		for (const line of pagesCsv.trim().split('\n').slice(1)) {
			const k = Number(line.split(',')[1]);
			if (k < MIN || k > MAX)
				return `room ${line} outside [${MIN}, ${MAX}]`;
		}
	return true;
}

// One speaker per room says a unique line, then a barrier line; once every
// page has its room's barrier, every earlier fan-out has reached it (one
// gateway, one ordered WebSocket per page): each page must hold exactly
// its room's lines, no other room's.
async function talk(pages, tag) {
	const byRoom = new Map();
	for (const p of pages) {
		if (!byRoom.has(p.v.room))
			byRoom.set(p.v.room, []);
		byRoom.get(p.v.room).push(p);
	}
	const before = new Map(pages.map((p) => [p, p.v.messages.length]));
	for (const [room, ps] of byRoom) {
		const speaker = ps[ps.length - 1];
		await speaker.page.bringToFront(); // a background tab renders no frames to click in
		for (const text of [`${tag} hello room ${room}`, `${tag} barrier ${room}`]) {
			await speaker.page.type('#text', text);
			await speaker.page.click('#send');
		}
	}
	await waitFor(`every page has its room's ${tag} barrier`, async () => {
		await views(pages);
		const p = pages.find((q) => !q.v.messages.some((m) => m.endsWith(`${tag} barrier ${q.v.room}`)));
		return p === undefined ? true : `${p.name} in room ${p.v.room} lacks it`;
	});
	for (const p of pages) {
		const got = p.v.messages.slice(before.get(p)).filter((m) => m.includes(`${tag} `));
		const speaker = byRoom.get(p.v.room)[byRoom.get(p.v.room).length - 1].name;
		const want = [`${speaker}${tag} hello room ${p.v.room}`, `${speaker}${tag} barrier ${p.v.room}`];
		if (JSON.stringify(got) !== JSON.stringify(want))
			fail(`${p.name} in room ${p.v.room} got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
	}
	console.log(`  ${tag}: ${byRoom.size} rooms, each line reached exactly the ${pages.length} pages of its room`);
}

async function main() {
	fs.mkdirSync(shots, { recursive: true });
	const browser = await puppeteer.launch({ executablePath: process.env.HC_CHROMIUM || '/usr/bin/chromium',
		headless: true, protocolTimeout: BOUND_MS,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
			'--disable-background-timer-throttling', '--disable-renderer-backgrounding',
			'--disable-backgrounding-occluded-windows'] });
	try {
		console.log(`browser: ${await browser.version()}`);
		let pages = [];
		for (let i = 1; i <= N; i++) {
			const name = `p${String(i).padStart(2, '0')}`;
			const page = await browser.newPage();
			await page.setViewport({ width: 900, height: 560 });
			await page.goto(`${url}?name=${name}`, { waitUntil: 'load', timeout: BOUND_MS });
			pages.push({ name, page });
		}
		console.log(`opened ${N} pages`);
		await waitFor('every page placed; pages, gateway and appliance agree; rooms within [min, max]',
			() => settled(pages, false));
		await views(pages);
		const rooms = [...new Set(pages.map((p) => p.v.room))].sort((a, b) => a - b);
		console.log(`placed: ${N} pages in ${rooms.length} rooms: ${csvOf(pages).trim().split('\n').slice(1).join(' ')}`);
		if (rooms.length < 3)
			fail('fewer than 3 rooms: no merge to test');
		await talk(pages, 'first');

		// shrink every room but the two fullest to MIN - 1 pages
		const size = (r) => pages.filter((p) => p.v.room === r).length;
		const shrink = rooms.slice().sort((a, b) => size(a) - size(b) || a - b).slice(0, rooms.length - 2);
		const stay = [];
		for (const r of shrink)
			stay.push(...pages.filter((p) => p.v.room === r).slice(0, MIN - 1));
		for (const p of stay) { // before: the page in its old room
			await p.page.bringToFront();
			await p.page.screenshot({ path: path.join(shots, `before-${p.name}.png`) });
		}
		const closing = pages.filter((p) => shrink.includes(p.v.room) && !stay.includes(p));
		for (const p of closing)
			await p.page.close();
		pages = pages.filter((p) => !closing.includes(p));
		console.log(`closed ${closing.length} pages: rooms ${shrink.join(', ')} keep ${MIN - 1} each (min ${MIN})`);

		await waitFor('the balancer merged the small rooms; pages, gateway and appliance agree',
			() => settled(pages, false));
		await views(pages);
		const moved = pages.filter((p) => p.v.notice !== '');
		if (moved.length === 0)
			fail('no page was moved');
		for (const p of moved) {
			const m = /moved from room (\d+) to room (\d+)/.exec(p.v.notice);
			if (!m || Number(m[2]) !== p.v.room || !/balancer/.test(p.v.notice))
				fail(`${p.name}: notice "${p.v.notice}" does not name its room ${p.v.room}`);
		}
		const untouched = pages.filter((p) => !stay.includes(p) && p.v.notice !== '');
		const shot = moved.find((p) => stay.includes(p));
		if (!shot)
			fail('no page of a shrunk room was moved');
		await shot.page.bringToFront();
		await shot.page.screenshot({ path: path.join(shots, `after-${shot.name}.png`) });
		fs.renameSync(path.join(shots, `before-${shot.name}.png`), path.join(shots, 'before-move.png'));
		fs.renameSync(path.join(shots, `after-${shot.name}.png`), path.join(shots, 'after-move.png'));
		for (const p of stay)
			fs.rmSync(path.join(shots, `before-${p.name}.png`), { force: true });
		console.log(`moved: ${moved.length} pages (${untouched.length} of them from rooms not shrunk); ` +
			`${shot.name}: "${shot.v.notice}"`);
		console.log(`after the merge: ${pages.length} pages: ${csvOf(pages).trim().split('\n').slice(1).join(' ')}`);
		await talk(pages, 'second');

		const gw = await gatewayView();
		console.log(`gateway: moves obeyed ${gw.counts.moves}, new_topics ${gw.counts.new_topics}, ` +
			`session moves ${gw.session.moves}, places ${gw.session.places}, joins ${gw.session.joins}, ` +
			`leaves ${gw.session.leaves}`);
		if (gw.counts.moves < moved.length)
			fail(`gateway obeyed ${gw.counts.moves} moves, pages show ${moved.length}`);
		// everyone leaves: the appliance's table empties
		for (const p of pages)
			await p.page.close();
		await waitFor('the appliance counts nobody after every page closed', async () => {
			const a = applianceCsv();
			return a === 'room,users\n' ? true : a;
		});
		console.log('all pages closed: the appliance counts nobody');
		console.log('PASS: chat in the browser');
	} finally {
		await browser.close();
	}
}

main().catch((e) => fail(e.stack || String(e)));
