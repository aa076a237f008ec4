#!/usr/bin/env node
// SPDX-License-Identifier: BSD-3-Clause
// agent.js - the Node client behind the conformance agent contract (v1):
// one gateway session (lib/session.js) driven by commands on stdin (join,
// leave, place, dump, status, close), telling assign/move/state events on
// stdout, one line each.  The agent never moves a user on a MOVE: it only
// tells it (the driver answers with a join).  Options are checked before
// anything is opened: a bad one is exit 2 with a message on stderr.
'use strict';

const readline = require('node:readline');
const { Session } = require('./lib/session');
const P = require('./lib/proto');

function usage(msg) {
	process.stderr.write(`agent.js: ${msg}\n` +
		'usage: agent.js --appliance HOST:PORT [--appliance ...] --gateway-id N\n' +
		'       (--key HEX32 [--key-slot S] | --no-auth) [--incarnation N]\n' +
		'       [--flush-us N] [--heartbeat-ms N] [--max-rooms N]\n');
	process.exit(2);
}

function number(name, s, lo, hi) {
	if (s === undefined)
		usage(`${name} needs a value`);
	if (!/^[0-9]+$/.test(s) || Number(s) < lo || Number(s) > hi)
		usage(`${name}: a number ${lo}..${hi}, not '${s}'`);
	return Number(s);
}

function parseArgs(argv) {
	const o = { appliance: [], keySlot: 0 };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i], v = argv[i + 1];
		switch (a) {
		case '--appliance':
			if (v === undefined)
				usage('--appliance needs a value');
			o.appliance.push(v); i++; break;
		case '--gateway-id': o.gatewayId = number(a, v, 1, 65535); i++; break;
		case '--key':
			if (v === undefined || !/^[0-9a-fA-F]{32}$/.test(v))
				usage('--key: 32 hex digits');
			o.key = v; i++; break;
		case '--key-slot': o.keySlot = number(a, v, 0, 1); i++; break;
		case '--no-auth': o.noAuth = true; break;
		case '--incarnation': o.incarnation = number(a, v, 1, 0xffffffff); i++; break;
		case '--flush-us': o.flushUs = number(a, v, 1, 1e9); i++; break;
		case '--heartbeat-ms': o.heartbeatMs = number(a, v, 1, 1e9); i++; break;
		// the appliance's --max-rooms: a room id from it up is refused here
		case '--max-rooms': o.maxRoom = number(a, v, 2, 0xffffffff) - 1; i++; break;
		default: usage(`unknown option '${a}'`);
		}
	}
	if (o.appliance.length === 0)
		usage('need --appliance');
	if (o.gatewayId === undefined)
		usage('need --gateway-id');
	if ((o.key === undefined) === (o.noAuth === undefined))
		usage('exactly one of --key and --no-auth');
	return o;
}

function out(line) {
	process.stdout.write(`${line}\n`);
}

const U64 = /^[0-9]{1,20}$/;
function user(s) {
	if (s === undefined || !U64.test(s) || BigInt(s) > 0xffffffffffffffffn)
		throw new Error('bad user id');
	return BigInt(s);
}
function u32(s, lo, hi) {
	if (s === undefined || !/^[0-9]{1,10}$/.test(s) || Number(s) < lo || Number(s) > hi)
		throw new Error('bad number');
	return Number(s);
}

async function main() {
	const o = parseArgs(process.argv.slice(2));
	let s;
	try {
		s = await Session.open(o);
	} catch (e) {
		out(`fatal ${String(e.message).replace(/\s+/g, ' ')}`);
		process.exit(1);
	}
	s.on('assign', (a) =>
		out(`assign ${a.user} ${a.requestId} ${a.status} ${a.room} ${a.refusedRoom} ${a.pool}`));
	s.on('move', (m) =>
		out(`move ${m.user} ${m.from} ${m.to} ${m.directiveId} ${m.pool} ${m.attempt}`));
	s.on('state', (c) => out(`state ${c.reason === 'restarted' ? 'appliance_restarted' : c.state}`));
	s.on('socketError', (e) => process.stderr.write(`agent.js: socket: ${e.message}\n`));
	out(`ready ${s.localPort()}`);

	let closing = false;
	const close = async (how) => {
		if (closing)
			return;
		closing = true;
		await s.close(how !== 'crash');
		out('closed');
		process.exit(0);
	};
	const rl = readline.createInterface({ input: process.stdin, terminal: false });
	rl.on('line', (line) => {
		if (closing)
			return;
		const w = line.trim().split(' ');
		const cmd = w[0];
		if (cmd === '')
			return;
		try {
			switch (cmd) {
			case 'join':
				if (w.length !== 4)
					throw new Error('usage: join USER ROOM POOL');
				s.join(user(w[1]), u32(w[2], 1, 0xffffffff), u32(w[3], 0, 65535));
				break;
			case 'leave':
				if (w.length !== 2)
					throw new Error('usage: leave USER');
				if (!s.leave(user(w[1])))
					throw new Error('not here');
				break;
			case 'place':
				if (w.length !== 3)
					throw new Error('usage: place USER POOL');
				s.place(user(w[1]), u32(w[2], 0, 65535));
				break;
			case 'dump': {
				if (w.length !== 1)
					throw new Error('bad arguments');
				const lines = [];
				let sum = 0n;
				const d = [0, 0];
				for (const [u, room, pool] of s.members()) {
					lines.push(`member ${u} ${room} ${pool}`);
					P.memberDigest(Number(u >> 32n), Number(u & 0xffffffffn), room, d);
					sum += BigInt(d[0]) << 32n | BigInt(d[1]);
				}
				lines.push(`dumped ${lines.length} ${sum & 0xffffffffffffffffn}`);
				out(lines.join('\n'));
				break;
			}
			case 'status': {
				if (w.length !== 1)
					throw new Error('bad arguments');
				const t = s.stats();
				const dropped = t.rx_bad + t.rx_bad_auth + t.rx_wrong_source + t.rx_stale + t.rx_replayed;
				const keys = ['joins', 'leaves', 'places', 'place_resends', 'place_timeouts', 'assigns',
					'new_topics', 'moves', 'moves_ignored', 'nacks', 'resync_requests',
					'appliance_restarts', 'heartbeats_sent', 'heartbeats_received', 'digest_mismatches',
					'digest_snapshots', 'id_conflicts', 'refusals', 'superseded', 'send_errors', 'lost'];
				out(`status users=${t.users} sequence=${t.sequence} acked=${t.acked} ` +
					`appliance_users=${t.appliance_users} appliance_incarnation=${t.appliance_incarnation} ` +
					`appliance_digest=${t.appliance_digest} ` +
					`state=${t.state} snapshots=${t.snapshots} retransmits=${t.retransmits} ` +
					`rx_bad_auth=${t.rx_bad_auth} rx_dropped=${dropped} rx_bad=${t.rx_bad} ` +
					`rx_wrong_source=${t.rx_wrong_source} rx_stale=${t.rx_stale} ` +
					`rx_replayed=${t.rx_replayed} incarnation=${s.incarnation} ` +
					keys.map((k) => `${k}=${t[k]}`).join(' '));
				break;
			}
			case 'close':
				if (w.length !== 2 || (w[1] !== 'clean' && w[1] !== 'crash'))
					throw new Error('usage: close clean|crash');
				close(w[1]);
				break;
			default:
				out(`error ${cmd} unknown command`);
			}
		} catch (e) {
			out(`error ${cmd} ${String(e.message).replace(/\s+/g, ' ')}`);
		}
	});
	rl.on('close', () => close('clean'));
}

main();
