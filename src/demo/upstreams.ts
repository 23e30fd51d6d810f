/**
 * @module demo/upstreams
 * Tiny HTTP servers that stand in for a service's versions in the demo: each answers every request with
 * its own name, so a user can watch the split.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running demo upstream. */
export interface DemoUpstream {
  readonly name: string;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a server on host:port that answers `hello from <name>` (and JSON when asked). */
export async function startDemoUpstream(name: string, host: string, port: number): Promise<DemoUpstream> {
  const server: Server = createServer((req, res) => {
    const wantsJson = (req.headers.accept ?? '').includes('application/json');
    const body = wantsJson
      ? JSON.stringify({ version: name, method: req.method, path: req.url })
      : `hello from ${name}\n`;
    res.writeHead(200, { 'content-type': wantsJson ? 'application/json' : 'text/plain; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    name,
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
