/**
 * A loopback port free a moment ago, for a process that must be told its port before it starts (a control
 * plane a data plane is pointed at, a server restarted on the same address). Ports a test binds itself
 * come from port 0.
 */
import { createServer } from 'node:net';

/** Binds 127.0.0.1:0, notes the port, and frees it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
