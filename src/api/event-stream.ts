/**
 * @module api/event-stream
 * The deployment events the engine publishes and the service views that change with each route table,
 * numbered in one sequence and fanned out to whoever listens: `GET /v1/events` (./events.ts) streams
 * them. The last ones are kept, so a client that reconnects with `Last-Event-ID` misses nothing that is
 * still held (the last thousand of each topic); the streams open are kept too, to end at shutdown.
 */
import type { ServerResponse } from 'node:http';

import type { Clock } from '../core/clock.js';
import type { DeploymentEvent } from '../shifting/ports.js';
import type { ServiceAnswer } from './rest/wire.js';

/** Events kept for clients that reconnect, per topic. */
const KEPT = 1_000;

/** One event with its id, which rises across restarts: a deployment event or a service's new view. */
export type Numbered =
  | { readonly id: number; readonly topic: 'deployments'; readonly event: DeploymentEvent }
  | { readonly id: number; readonly topic: 'services'; readonly service: ServiceAnswer };

/** Called with each event. */
export type Listener = (numbered: Numbered) => void;

/** What can be numbered: a {@link Numbered} without its id. */
type Unnumbered = Numbered extends infer N ? (N extends Numbered ? Omit<N, 'id'> : never) : never;

/** Numbers deployment events and service views, keeps the last ones, and fans them out to subscribers. */
export class EventStream {
  #next: number;
  /** Kept per topic, so that a busy service does not push deployment events out of the replay. */
  readonly #kept: Record<Numbered['topic'], Numbered[]> = { deployments: [], services: [] };
  readonly #listeners = new Set<Listener>();
  readonly #open = new Set<ServerResponse>();

  constructor(readonly clock: Clock) {
    // Ids go on rising across restarts: a client that reconnects to a restarted switchyard with the
    // Last-Event-ID of the last run is behind every new event, so it is sent them all. (A run would need
    // a thousand events per millisecond of its life to overtake the next one's first id.)
    this.#next = clock.now() * 1000 + 1;
  }

  /** Adds a deployment event; an engine `onEvent`. */
  readonly publish = (event: DeploymentEvent): void => {
    this.#add({ topic: 'deployments', event });
  };

  /** Adds a service's new view (its routing or its targets' health changed). */
  readonly publishService = (service: ServiceAnswer): void => {
    this.#add({ topic: 'services', service });
  };

  /** Calls `listener` with every kept event after `afterId` and then every new one; returns an unsubscribe. */
  subscribe(listener: Listener, afterId = Infinity): () => void {
    const missed = [...this.#kept.deployments, ...this.#kept.services].filter((n) => n.id > afterId);
    for (const numbered of missed.sort((a, b) => a.id - b.id)) listener(numbered);
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

  #add(event: Unnumbered): void {
    // The spread keeps the union's pairing of topic and payload, which TypeScript cannot see through.
    const numbered = { id: this.#next++, ...event } as Numbered;
    const kept = this.#kept[numbered.topic];
    kept.push(numbered);
    if (kept.length > KEPT) kept.shift();
    for (const listener of this.#listeners) listener(numbered);
  }
}
