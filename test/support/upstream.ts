/**
 * Test upstreams: real node:http servers on 127.0.0.1:0 that count hits and answer with their name,
 * or run a handler the test gives.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { onTestFinished } from 'vitest';

export interface TestUpstream {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Requests received so far. */
  hits: number;
  /** The last request's headers, as node parsed them. */
  lastHeaders: IncomingMessage['headers'] | undefined;
  lastRawHeaders: string[] | undefined;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, upstream: TestUpstream) => void;

/** Default: 200, body = the upstream's name, `x-upstream: name`. */
export const answerName: Handler = (_req, res, u) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': u.name });
  res.end(u.name);
};

/** Starts an upstream; it is closed when the current test finishes (pass `autoClose: false` to keep it). */
export async function startUpstream(
  name: string,
  handler: Handler = answerName,
  options: { autoClose?: boolean } = {},
): Promise<TestUpstream> {
  const upstream = {
    name,
    hits: 0,
    lastHeaders: undefined,
    lastRawHeaders: undefined,
  } as unknown as TestUpstream;
  const server = createServer((req, res) => {
    upstream.hits++;
    upstream.lastHeaders = req.headers;
    upstream.lastRawHeaders = req.rawHeaders;
    handler(req, res, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  Object.assign(upstream, {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
  if (options.autoClose !== false) onTestFinished(() => upstream.close());
  return upstream;
}

/** A port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
