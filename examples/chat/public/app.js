// SPDX-License-Identifier: BSD-3-Clause
// app.js - the chat page's script: one WebSocket to the gateway; shows
// the room, who is in it and the messages; on a move, switches room and
// says why.  window.chatState mirrors what the page shows (for tests).
'use strict';
(function () {
	const $ = (id) => document.getElementById(id);
	const MAX_LINES = 200; // lines the page keeps (and state.messages)
	const state = { user: null, name: null, room: 0, members: [], messages: [], moves: [], closed: false };
	window.chatState = state;
	const name = new URLSearchParams(location.search).get('name') || '';
	const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws` +
		(name ? `?name=${encodeURIComponent(name)}` : ''));

	function members(list) {
		state.members = list;
		$('count').textContent = String(list.length);
		$('members').replaceChildren(...list.map((n) => {
			const li = document.createElement('li');
			li.textContent = n;
			return li;
		}));
	}
	function line(cls, from, text) {
		const li = document.createElement('li');
		li.className = cls;
		if (from) {
			const b = document.createElement('span');
			b.className = 'from';
			b.textContent = from;
			li.append(b);
		}
		li.append(document.createTextNode(text));
		const list = $('messages');
		list.append(li);
		while (list.childElementCount > MAX_LINES) // (a flood slows no page)
			list.firstElementChild.remove();
		li.scrollIntoView({ block: 'end' });
	}

	ws.onopen = () => { $('status').textContent = 'connected, waiting for a room…'; };
	ws.onmessage = (ev) => {
		const m = JSON.parse(ev.data);
		switch (m.type) {
		case 'welcome':
			state.user = m.user;
			state.name = m.name;
			$('me').textContent = m.name;
			break;
		case 'room':
			if (m.room !== state.room) {
				state.room = m.room;
				state.messages = [];
				$('messages').replaceChildren();
				line('system', '', `You are in room ${m.room}.`);
			}
			$('room').textContent = String(m.room);
			$('status').textContent = `in room ${m.room}`;
			members(m.members);
			break;
		case 'presence':
			if (m.room === state.room)
				members(m.members);
			break;
		case 'msg':
			if (m.room === state.room) {
				state.messages.push({ from: m.from, text: m.text });
				if (state.messages.length > MAX_LINES)
					state.messages.shift();
				line('msg', m.from, m.text);
			}
			break;
		case 'moved': {
			state.moves.push({ from: m.from, to: m.to, why: m.why });
			const n = $('notice');
			n.textContent = `You were moved from room ${m.from} to room ${m.to}: ${m.why}.`;
			n.hidden = false;
			break;
		}
		case 'error':
			$('status').textContent = m.text;
			line('system', '', m.text);
			break;
		}
	};
	ws.onclose = () => {
		state.closed = true;
		$('status').textContent = 'disconnected';
	};
	$('say').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const text = $('text').value.trim();
		if (text && ws.readyState === WebSocket.OPEN)
			ws.send(JSON.stringify({ type: 'say', text }));
		$('text').value = '';
	});
}());
