/**
 * @module api/events
 * `GET /v1/events` (optionally `?deploymentId=`): every deployment event as server-sent events, as it
 * happens, each with its id; a client that reconnects with `Last-Event-ID` is sent what it missed first.
 * A comment line every 15 s keeps idle connections (and proxies between) from timing out. The data of
 * each event is a {@link StreamedEvent}.
 */
import type { FastifyPluginAsync } from 'fastify';

import type { EventStream } from './event-stream.js';
import type { StreamedEvent } from './rest/wire.js';

const HEARTBEAT_MS = 15_000;

/** What {@link eventRoutes} streams from. */
export interface EventRoutesOptions {
  readonly stream: Pick<EventStream, 'clock' | 'subscribe' | 'hold'>;
}

type EventsRequest = { Querystring: { deploymentId?: string } };

/** Serves `GET /v1/events`. */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, { stream }) => {
  app.get<EventsRequest>('/v1/events', (req, reply) => {
    const only = req.query.deploymentId;
    const lastId = Number(req.headers['last-event-id']);
    const raw = reply.raw;
    // The stream is written by hand for as long as it is open; fastify sends nothing of its own.
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    raw.write(': switchyard deployment events\n\n');
    const unsubscribe = stream.subscribe(
      ({ id, event }) => {
        if (only !== undefined && event.deploymentId !== only) return;
        const data: StreamedEvent = event;
        raw.write(`id: ${id}\nevent: deployment\ndata: ${JSON.stringify(data)}\n\n`);
      },
      Number.isFinite(lastId) ? lastId : Infinity,
    );
    let cancel = () => {};
    const beat = () => {
      raw.write(': keep-alive\n\n');
      cancel = stream.clock.setTimer(HEARTBEAT_MS, beat);
    };
    cancel = stream.clock.setTimer(HEARTBEAT_MS, beat);
    stream.hold(raw);
    raw.on('close', () => {
      cancel();
      unsubscribe();
    });
  });
};
