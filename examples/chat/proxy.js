#!/usr/bin/env node
// SPDX-License-Identifier: BSD-3-Clause
// proxy.js - a tiny TCP proxy from the host to the chat gateway in its
// network namespace: listens on HOST:PORT (127.0.0.1:8080 by default) in
// the namespace it is started in, and pipes each connection to the
// gateway's unix socket (a path in the file system, which network
// namespaces share).  HTTP and WebSocket pass through untouched.
//   proxy.js UNIX_PATH [HOST:PORT] [--ready FILE]   (port 0: any free one)
'use strict';

const fs = require('node:fs');
const net = require('node:net');

const args = process.argv.slice(2);
const ri = args.indexOf('--ready');
const ready = ri >= 0 ? args.splice(ri, 2)[1] : null;
const [unixPath, listen = '127.0.0.1:8080'] = args;
if (!unixPath) {
	process.stderr.write('usage: proxy.js UNIX_PATH [HOST:PORT] [--ready FILE]\n');
	process.exit(2);
}
const i = listen.lastIndexOf(':');
// half-open kept: a client that ends its side (HTTP/1.0, a shutdown
// after its request) still gets the reply; pipe ends each side in turn,
// and only an error or a side fully closed tears both down
const server = net.createServer({ allowHalfOpen: true }, (client) => {
	const up = net.connect({ path: unixPath, allowHalfOpen: true });
	client.pipe(up);
	up.pipe(client);
	const end = () => { client.destroy(); up.destroy(); };
	client.on('error', end);
	up.on('error', end);
	up.on('close', end);
});
server.on('error', (e) => {
	process.stderr.write(`proxy: ${e.message}\n`);
	process.exit(1);
});
server.listen(Number(listen.slice(i + 1)), listen.slice(0, i), () => {
	const a = server.address();
	process.stderr.write(`proxy: http://${a.address}:${a.port}/ -> ${unixPath}\n`);
	if (ready)
		fs.writeFileSync(ready, `${a.address}:${a.port}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'])
	process.on(sig, () => process.exit(0));
