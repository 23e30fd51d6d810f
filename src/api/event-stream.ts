/**
 * @module api/event-stream
 * The deployment events the engine publishes, numbered and fanned out to whoever listens: `GET
 * /v1/events` (./events.ts) streams them. The last ones are kept, so a client that reconnects with
 * `Last-Event-ID` misses nothing that is still held; the streams open are kept too, to end at shutdown.
 */
import type { ServerResponse } from 'node:http';

import type { Clock } from '../core/clock.js';
import type { DeploymentEvent } from '../shifting/ports.js';

/** Events kept for clients that reconnect. */
const KEPT = 1_000;

/** One event with its id, which rises across restarts. */
export interface Numbered {
  readonly id: number;
  readonly event: DeploymentEvent;
}

/** Called with each event. */
export type Listener = (numbered: Numbered) => void;

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

  /** Keeps an open stream, until it closes, so that {@link close} can end it. */
  hold(raw: ServerResponse): void {
    this.#open.add(raw);
    raw.on('close', () => this.#open.delete(raw));
  }

  /** Ends every open stream (for shutdown: a stream never ends by itself). */
  close(): void {
    for (const raw of this.#open) raw.end();
  }
}
