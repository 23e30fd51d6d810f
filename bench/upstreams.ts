/**
 * @module bench/upstreams
 * Child process: the upstream pair every proxy splits between, two node:http servers on loopback ("blue"
 * takes 90%, "green" 10%). Kept as cheap as node:http allows, since they share a core with the load
 * generator:
 * - `GET /bytes/N`: N bytes from a cached buffer;
 * - `GET /stream/N`: N bytes written in 64 KiB chunks with backpressure (for the 1 GiB download);
 * - `POST` anything: the body is counted and the count returned (for the 64 KiB and 1 GiB uploads);
 * - `GET /__hits`: hits per server since the previous call, to check each proxy's split.
 * Prints `ready {"ports":[blue,green]}` once both listen; exits when its stdin closes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const hits = [0, 0];

interface Canned {
  readonly body: Buffer;
  readonly headers: string[];
}
const canned = new Map<number, Canned>();

function cannedBody(size: number): Canned {
  let c = canned.get(size);
  if (!c) {
    c = {
      body: Buffer.alloc(size, 0x62),
      headers: ['content-type', 'application/octet-stream', 'content-length', String(size)],
    };
    canned.set(size, c);
  }
  return c;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, ['content-type', 'text/plain', 'content-length', String(Buffer.byteLength(text))]);
  res.end(text);
}

function countBody(req: IncomingMessage, res: ServerResponse): void {
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  req.on('end', () => sendText(res, 200, String(received)));
}

function stream(res: ServerResponse, size: number): void {
  let left = size;
  res.writeHead(200, ['content-type', 'application/octet-stream', 'content-length', String(size)]);
  res.on('close', () => {
    left = 0;
  });
  const pump = () => {
    while (left > 0) {
      const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function handlerFor(index: number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (req.method === 'POST' || req.method === 'PUT') {
      hits[index]!++;
      countBody(req, res);
    } else if (url.startsWith('/bytes/')) {
      hits[index]!++;
      const c = cannedBody(Number(url.slice(7)) || 0);
      res.writeHead(200, c.headers);
      res.end(c.body);
    } else if (url.startsWith('/stream/')) {
      hits[index]!++;
      stream(res, Number(url.slice(8)) || 0);
    } else if (url === '/__hits') {
      sendText(res, 200, JSON.stringify(hits));
      hits.fill(0);
    } else {
      sendText(res, 404, 'not found');
    }
  };
}

async function listen(index: number): Promise<number> {
  // requestTimeout 0: a 1 GiB upload may take longer than Node's default of five minutes on a slow box.
  const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, handlerFor(index));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const ports = [await listen(0), await listen(1)];
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`ready ${JSON.stringify({ ports })}\n`);
