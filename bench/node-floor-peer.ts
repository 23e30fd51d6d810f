/**
 * @module bench/node-floor-peer
 * Child process: the least a Node proxy can do per request with the same parts as switchyard (a
 * node:http front, one keep-alive undici Pool per upstream, `dispatch()` with a plain handler), and nothing
 * else: no route table, no stats, no limits, no forwarded headers, hop-by-hop headers dropped only. It
 * splits 90/10 by a counter like the other peers. Its CPU per request is the floor switchyard's own
 * work sits on, so switchyard ÷ floor is what switchyard adds, and floor ÷ nginx what Node costs.
 * Usage: `node node-floor-peer.js '["http://127.0.0.1:A","http://127.0.0.1:B"]'`; prints `ready PORT`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type Dispatcher, Pool } from 'undici';

const [blue, green] = JSON.parse(process.argv[2] ?? '[]') as string[];
if (!blue || !green) throw new Error('usage: node-floor-peer \'["blue-url","green-url"]\'');

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);
const pools = [new Pool(blue), new Pool(green)] as const;

/** Request headers without hop-by-hop ones, as undici's flat list. */
function requestHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Streams one upstream answer into the client's response. */
class Relay implements Dispatcher.DispatchHandler {
  #resume: () => void = () => {};

  constructor(private readonly res: ServerResponse) {}

  onConnect(): void {}

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.#resume = resume;
    const headers: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1');
      if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push(name, rawHeaders[i + 1]!.toString('latin1'));
    }
    this.res.writeHead(statusCode, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    const more = this.res.write(chunk);
    // undici pauses the upstream socket on false until resume(): the client's pace, as a proxy must.
    if (!more) this.res.once('drain', this.#resume);
    return more;
  }

  onComplete(): void {
    this.res.end();
  }

  onError(): void {
    if (this.res.headersSent) this.res.destroy();
    else this.res.writeHead(502).end();
  }
}

let counter = 0;
const server = createServer({ keepAliveTimeout: 5_000, requestTimeout: 0 }, (req: IncomingMessage, res) => {
  counter = (counter + 1) % 10;
  const bodyless = req.method === 'GET' || req.method === 'HEAD';
  pools[counter === 0 ? 1 : 0].dispatch(
    {
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers: requestHeaders(req.rawHeaders),
      body: bodyless ? null : req,
    },
    new Relay(res),
  );
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
