/**
 * The dashboard's event stream reader against a real server: a connection that goes silent (a host gone
 * without closing it) is dropped after the silence allowed, and the stream reconnects with Last-Event-ID
 * and the same headers.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it, onTestFinished } from 'vitest';

import { openStream, type SseEvent } from '../../dashboard/stream.js';
import { until } from '../support/until.js';

describe('dashboard stream on a real socket', () => {
  it('drops a connection that goes silent and reconnects with Last-Event-ID', async () => {
    const asked: IncomingHttpHeaders[] = [];
    // Sends one event on each connection, then nothing, never closing: a host that vanished.
    const server = createServer((req, res) => {
      asked.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`id: ${asked.length}\nevent: deployment\ndata: {"n":${asked.length}}\n\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    onTestFinished(() => server.closeAllConnections());
    const events: SseEvent[] = [];
    const states: boolean[] = [];
    const stream = openStream({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`,
      headers: () => ({ authorization: 'Bearer t' }),
      onEvent: (event) => events.push(event),
      onState: (connected) => states.push(connected),
      onUnauthorized: async () => {},
      silenceMs: 200,
    });
    onTestFinished(() => stream.close());
    await until(
      async () => events.length,
      (n) => n >= 2,
    );
    expect(events.slice(0, 2).map((e) => e.data)).toEqual(['{"n":1}', '{"n":2}']);
    expect(asked[0]!['last-event-id']).toBeUndefined();
    expect(asked[1]!['last-event-id']).toBe('1');
    expect(asked[1]!.authorization).toBe('Bearer t');
    // Connected, dropped for the silence, connected again.
    expect(states.slice(0, 3)).toEqual([true, false, true]);
  });
});
