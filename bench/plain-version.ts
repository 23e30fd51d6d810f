/**
 * @module bench/plain-version
 * Child process: the functions scenario's plain HTTP version, a node:http server doing what the trivial
 * handler does (answer 200 `ok`), so that the function version is compared with the same logic served
 * the usual way. Prints `ready PORT` once it listens; exits when its stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = Buffer.from('ok');
const HEADERS = ['content-type', 'text/plain', 'content-length', String(BODY.length)];

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  // The request body, if any, is read and dropped, as the handler ignores its event.
  req.resume();
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
