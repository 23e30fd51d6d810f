/**
 * @module api/event-stream
 * `GET /v1/events`: every deployment event as server-sent events, as it happens. Each event has an id,
 * and the last ones are kept, so a client that reconnects with `Last-Event-ID` misses nothing that is
 * still held. A comment line every 15 s keeps idle connections (and proxies between) from timing out.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import type { DeploymentEvent } from '../shifting/ports.js';

/** Events kept for clients that reconnect. */
const KEPT = 1_000;
const HEARTBEAT_MS = 15_000;

interface Numbered {
  readonly id: number;
  readonly event: DeploymentEvent;
}

type Listener = (numbered: Numbered) => void;

/** Numbers deployment events, keeps the last ones, and fans them out to subscribers. */
export class EventStream {
  #next: number;
  readonly #kept: Numbered[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #open = new Set<ServerResponse>();

  constructor(readonly clock: Clock) {
    // Ids go on rising across restarts: a client that reconnects to a restarted switchyard with the
    // Last-Event-ID of the last run is behind every new event, so it is sent them all. (A run would need
    // a thousand events per millisecond of its life to overtake the next one's first id.)
    this.#next = clock.now() * 1000 + 1;
  }

  /** Adds an event; an engine `onEvent`. */
  readonly publish = (event: DeploymentEvent): void => {
    const numbered = { id: this.#next++, event };
    this.#kept.push(numbered);
    if (this.#kept.length > KEPT) this.#kept.shift();
    for (const listener of this.#listeners) listener(numbered);
  };

  /** Calls `listener` with every kept event after `afterId` and then every new one; returns an unsubscribe. */
  subscribe(listener: Listener, afterId = Infinity): () => void {
    for (const numbered of this.#kept) if (numbered.id > afterId) listener(numbered);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Registers `GET /v1/events` (optionally `?deploymentId=`) on the control API. */
  register(app: FastifyInstance): void {
    app.get<{ Querystring: { deploymentId?: string } }>('/v1/events', (req, reply) => this.#serve(req, reply));
  }

  #serve(req: FastifyRequest<{ Querystring: { deploymentId?: string } }>, reply: FastifyReply): void {
    const only = req.query.deploymentId;
    const lastId = Number(req.headers['last-event-id']);
    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    raw.write(': switchyard deployment events\n\n');
    const unsubscribe = this.subscribe(
      ({ id, event }) => {
        if (only !== undefined && event.deploymentId !== only) return;
        raw.write(`id: ${id}\nevent: deployment\ndata: ${JSON.stringify(event)}\n\n`);
      },
      Number.isFinite(lastId) ? lastId : Infinity,
    );
    let cancel = () => {};
    const beat = () => {
      raw.write(': keep-alive\n\n');
      cancel = this.clock.setTimer(HEARTBEAT_MS, beat);
    };
    cancel = this.clock.setTimer(HEARTBEAT_MS, beat);
    this.#open.add(raw);
    raw.on('close', () => {
      cancel();
      unsubscribe();
      this.#open.delete(raw);
    });
  }

  /** Ends every open stream (for shutdown: a stream never ends by itself). */
  close(): void {
    for (const raw of this.#open) raw.end();
  }
}
