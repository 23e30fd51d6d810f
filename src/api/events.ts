/**
 * @module api/events
 * `GET /v1/events` (optionally `?deploymentId=`, `?topics=deployments,services`): server-sent events, as
 * they happen, each with its id; a client that reconnects with `Last-Event-ID` is sent what it missed
 * first. Topic `deployments` (the default) sends `event: deployment`, a {@link StreamedEvent}; topic
 * `services` sends `event: service`, a {@link ServiceAnswer}, each time a service's routing or its targets'
 * health changes. A comment line every 15 s keeps idle connections (and proxies between) from timing out.
 */
import type { FastifyPluginAsync } from 'fastify';

import { parseBody } from './errors.js';
import type { EventStream, Numbered } from './event-stream.js';
import { EventsQuery, type ServiceAnswer, type StreamedEvent } from './rest/wire.js';
import { openSse } from './sse.js';

/** What {@link eventRoutes} streams from. */
export interface EventRoutesOptions {
  readonly stream: Pick<EventStream, 'clock' | 'subscribe' | 'hold'>;
}

/** The `event:` line and data of one numbered event. */
function frameOf(numbered: Numbered): string {
  const [name, data]: [string, StreamedEvent | ServiceAnswer] =
    numbered.topic === 'deployments' ? ['deployment', numbered.event] : ['service', numbered.service];
  return `id: ${numbered.id}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Serves `GET /v1/events`. */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, { stream }) => {
  app.get('/v1/events', (req, reply) => {
    // Refused (400) before the stream opens, while fastify still answers.
    const query = parseBody(EventsQuery, req.query, 'query string');
    const topics = new Set(query.topics);
    const only = query.deploymentId;
    const lastId = Number(req.headers['last-event-id']);
    const sse = openSse(reply, 'switchyard deployment events', { clock: stream.clock, streams: stream });
    const unsubscribe = stream.subscribe(
      (numbered) => {
        if (!topics.has(numbered.topic)) return;
        if (only !== undefined && numbered.topic === 'deployments' && numbered.event.deploymentId !== only) return;
        sse.write(frameOf(numbered));
      },
      Number.isFinite(lastId) ? lastId : Infinity,
    );
    sse.onClose(unsubscribe);
  });
};
