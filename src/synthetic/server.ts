/**
 * @module synthetic/server
 * A synthetic version's HTTP server on 127.0.0.1: every request is answered as the model says
 * (config/synthetic, synthetic/model) after its drawn latency, in real time. The server is in the same
 * process as the proxy, so a request costs one small object and a timer: bodies are built once, the
 * queue's deadlines share one timer (the oldest waiter always expires first).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

import type { SyntheticConfig } from '../config/synthetic.js';
import { Admission, type Draw, SyntheticModel } from './model.js';

/** How a synthetic server runs, beyond its behaviour. */
export interface SyntheticServerOptions {
  /** Seeds the draws, over the config's `seed`; without either, a random seed. */
  readonly seed?: number;
  /** Sent back in `x-synthetic-version` with every answer, so that a client can tell versions apart. */
  readonly label?: string;
}

/** A running synthetic server. */
export interface SyntheticServer {
  /** Its base URL, e.g. `http://127.0.0.1:39211`. */
  readonly url: string;
  /** The seed its draws use. */
  readonly seed: number;
  /** Requests that began service so far (what a warm-up by requests counts). */
  readonly served: number;
  /** Requests being served now, and waiting in the queue (always 0 without `capacity`). */
  readonly serving: number;
  readonly waiting: number;
  /** Stops accepting, lets the requests taken finish (at most `graceMs`, default 10 s), then closes. */
  close(graceMs?: number): Promise<void>;
}

/** The body of a request answered with the configured error status. */
const ERROR_BODY = JSON.stringify({ error: 'SYNTHETIC_ERROR', message: 'the synthetic version drew an error' });
/** The bodies of the 503s the capacity answers. */
const QUEUE_FULL_BODY = Buffer.from(
  JSON.stringify({ error: 'SYNTHETIC_QUEUE_FULL', message: 'every place in the queue is taken' }),
);
const QUEUE_TIMEOUT_BODY = Buffer.from(
  JSON.stringify({ error: 'SYNTHETIC_QUEUE_TIMEOUT', message: 'waited in the queue longer than its timeout' }),
);

/** A request on its way: waiting, being served (with its timer), or answered/gone. */
interface Exchange {
  readonly res: ServerResponse;
  state: 'waiting' | 'serving' | 'done';
  timer: NodeJS.Timeout | undefined;
}

/** Starts a synthetic server on 127.0.0.1 and a free port; resolves once it listens. */
export async function startSyntheticServer(
  config: SyntheticConfig,
  options: SyntheticServerOptions = {},
): Promise<SyntheticServer> {
  const seed = options.seed ?? config.seed ?? randomSeed();
  const runner = new Runner(config, seed, options.label);
  const server = createServer({ keepAliveTimeout: 5_000 }, runner.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The warm-up's clock starts with the first moment a request could arrive.
  runner.startedAt = performance.now();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seed,
    get served() {
      return runner.served;
    },
    get serving() {
      return runner.serving;
    },
    get waiting() {
      return runner.waiting;
    },
    close: (graceMs = DRAIN_MS) => closeServer(server, runner, graceMs),
  };
}

/** Answers requests as the model and the capacity say. */
class Runner {
  startedAt = performance.now();
  served = 0;
  readonly #model: SyntheticModel;
  readonly #admission: Admission<Exchange> | undefined;
  readonly #okBody: Buffer;
  readonly #errorBody: Buffer;
  readonly #label: string | undefined;
  readonly #draw: Draw = { latencyMs: 0, status: 200 };
  #queueTimer: NodeJS.Timeout | undefined;
  #queueTimerAt = Infinity;
  #closed = false;

  constructor(config: SyntheticConfig, seed: number, label: string | undefined) {
    this.#model = new SyntheticModel(config, seed);
    this.#admission = config.capacity && new Admission<Exchange>(config.capacity);
    this.#okBody = Buffer.alloc(config.bodyBytes, 'x');
    this.#errorBody = Buffer.from(ERROR_BODY);
    this.#label = label;
  }

  /** Requests being served now (counted only with a capacity). */
  get serving(): number {
    return this.#admission?.serving ?? 0;
  }

  /** Requests waiting in the queue. */
  get waiting(): number {
    return this.#admission?.waiting ?? 0;
  }

  /** The request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Bodies are read and discarded: the answer never depends on them.
    req.resume();
    const exchange: Exchange = { res, state: 'waiting', timer: undefined };
    res.once('close', () => this.#gone(exchange));
    if (this.#closed) return this.#answer(exchange, 503, QUEUE_FULL_BODY);
    const admitted = this.#admission ? this.#admission.admit(exchange, performance.now()) : 'serve';
    if (admitted === 'serve') this.#serve(exchange);
    else if (admitted === 'full') this.#answer(exchange, 503, QUEUE_FULL_BODY);
    else this.#armQueueTimer();
  };

  /** Forgets every waiting request and every timer (the server closes). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#queueTimer);
    this.#admission?.drain((exchange) => this.#answer(exchange, 503, QUEUE_FULL_BODY));
  }

  #serve(exchange: Exchange): void {
    exchange.state = 'serving';
    const draw = this.#model.draw(performance.now() - this.startedAt, this.served++, this.#draw);
    const status = draw.status;
    const body = status === 200 ? this.#okBody : this.#errorBody;
    if (draw.latencyMs < 0.5) return this.#finish(exchange, status, body);
    // Whole milliseconds, as timers keep them: one timer list per distinct duration, not one per request.
    exchange.timer = setTimeout(() => this.#finish(exchange, status, body), Math.round(draw.latencyMs));
  }

  /** A request served is answered: its place passes to the oldest waiter still in time. */
  #finish(exchange: Exchange, status: number, body: Buffer): void {
    exchange.timer = undefined;
    this.#answer(exchange, status, body);
  }

  /** The response closed (answered, or its client left): a place it held is freed. */
  #gone(exchange: Exchange): void {
    const was = exchange.state;
    exchange.state = 'done';
    clearTimeout(exchange.timer);
    if (!this.#admission) return;
    if (was === 'waiting') this.#admission.withdraw(exchange);
    else if (was === 'serving') this.#next();
  }

  /** Passes a freed place on: the waiters past their deadline are refused first. */
  #next(): void {
    const admission = this.#admission!;
    admission.expire(performance.now(), this.#timedOut);
    const waiter = admission.release();
    if (waiter) this.#serve(waiter);
  }

  readonly #timedOut = (exchange: Exchange): void => this.#answer(exchange, 503, QUEUE_TIMEOUT_BODY);

  /** Keeps one timer on the oldest waiter's deadline. */
  #armQueueTimer(): void {
    const deadline = this.#admission?.nextDeadline();
    if (deadline === undefined || deadline >= this.#queueTimerAt) return;
    clearTimeout(this.#queueTimer);
    this.#queueTimerAt = deadline;
    this.#queueTimer = setTimeout(this.#onQueueTimer, Math.max(0, deadline - performance.now()));
  }

  readonly #onQueueTimer = (): void => {
    this.#queueTimer = undefined;
    this.#queueTimerAt = Infinity;
    this.#admission?.expire(performance.now(), this.#timedOut);
    this.#armQueueTimer();
  };

  #answer(exchange: Exchange, status: number, body: Buffer): void {
    const was = exchange.state;
    exchange.state = 'done';
    if (was === 'serving' && this.#admission) this.#next();
    const res = exchange.res;
    if (res.destroyed || res.writableEnded) return;
    res.statusCode = status;
    res.setHeader('content-type', status === 200 ? 'application/octet-stream' : 'application/json');
    res.setHeader('content-length', body.length);
    if (this.#label !== undefined) res.setHeader('x-synthetic-version', this.#label);
    res.end(body);
  }
}

/** How long requests already taken (served or queued) may take to finish once the server closes. */
export const DRAIN_MS = 10_000;

/**
 * Closes the server as a retired task drains: it stops accepting at once, the requests it already took
 * (served or queued) finish as the model says, idle connections are closed as they become idle, and
 * after `graceMs` the rest are refused and every connection cut.
 */
async function closeServer(server: Server, runner: Runner, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 20);
  const cut = setTimeout(() => {
    runner.close();
    server.closeAllConnections();
  }, graceMs);
  await closed;
  clearInterval(idle);
  clearTimeout(cut);
  runner.close();
}

/** A seed for a server whose config gives none. */
function randomSeed(): number {
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
}
