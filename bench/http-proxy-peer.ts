/**
 * @module bench/http-proxy-peer
 * Child process: the node-http-proxy peer. It splits 90/10 by a counter (every tenth request to the
 * second upstream), the same exact split switchyard and nginx make, and keeps upstream connections alive
 * as switchyard does, so the comparison is of the proxies and not of their connection handling.
 * Usage: `node http-proxy-peer.js '["http://127.0.0.1:A","http://127.0.0.1:B"]'`; prints `ready PORT`.
 */
import { Agent, createServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import httpProxy from 'http-proxy';

const [blue, green] = JSON.parse(process.argv[2] ?? '[]') as string[];
if (!blue || !green) throw new Error('usage: http-proxy-peer \'["blue-url","green-url"]\'');

const proxy = httpProxy.createProxyServer({ agent: new Agent({ keepAlive: true }), xfwd: true });
proxy.on('error', (_err, _req, res) => {
  if (!(res instanceof ServerResponse)) {
    res.destroy();
  } else if (res.headersSent) {
    res.destroy();
  } else {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway');
  }
});

let counter = 0;
const server = createServer({ keepAliveTimeout: 5_000, requestTimeout: 0 }, (req, res) => {
  counter = (counter + 1) % 10;
  proxy.web(req, res, { target: counter === 0 ? green : blue });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
