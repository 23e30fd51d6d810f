/**
 * @module lab/live/load
 * The live runner's open-loop load: request k is due k/rate seconds after the start and is sent when due
 * whatever the earlier answers take (late timers catch up in a batch), and its latency counts from when it
 * was due, so a queue in front of a slow version shows in the figures instead of slowing the load down
 * (coordinated omission). Every request is kept in typed arrays: due time, latency, status or error kind,
 * which version answered and which user sent it.
 */
import { performance } from 'node:perf_hooks';

import { Pool } from 'undici';

import { deriveSeed, Mulberry32 } from '../../core/random.js';
import type { Load, RequestKind } from '../experiment.js';

/** What became of a request that got no status: kept in {@link LoadRecord.status} as a negative number. */
export const NO_ANSWER_YET = 0;
export const TIMED_OUT = -1;
/** Reset, refused, or any other error before a whole answer arrived. */
export const CONNECTION_ERROR = -2;

/** `version[k]` when no version header came back (or it named neither version). */
export const NO_VERSION = 0;
export const ORIGINAL = 1;
export const REPLACEMENT = 2;

/** Every request sent, in the order they were due; arrays are longer than `count`, read only `[0, count)`. */
export interface LoadRecord {
  readonly count: number;
  /** ms since the load started when request k was due. */
  readonly due: Float64Array;
  /** ms from due to the whole answer (or to the error); NaN while unanswered. */
  readonly latency: Float64Array;
  /** The HTTP status, or {@link TIMED_OUT} / {@link CONNECTION_ERROR} / {@link NO_ANSWER_YET}. */
  readonly status: Int16Array;
  /** {@link ORIGINAL}, {@link REPLACEMENT} or {@link NO_VERSION}, from the version header. */
  readonly version: Uint8Array;
  readonly user: Uint32Array;
}

/** True for a client-visible failure: a 5xx, a reset or a timeout (a request still unanswered is not one). */
export function isFailure(status: number): boolean {
  return status >= 500 || status < 0;
}

/** What the load needs beside the experiment's `load:`. */
export interface LoadTarget {
  /** The production listener's base URL. */
  readonly url: string;
  /** Seeds the users and request kinds drawn. */
  readonly seed: number;
  /** Response header naming the version that answered. */
  readonly versionHeader: string;
  readonly original: string;
  readonly replacement: string;
}

/** A running load; {@link stop} ends it. */
export interface RunningLoad {
  /** performance.now() when request 0 was due. */
  readonly startedAt: number;
  /** The same instant by Date.now(), to place events timed by the wall clock on the load's. */
  readonly startedAtWall: number;
  /** What has been recorded so far (a live view: it grows while the load runs). */
  record(): LoadRecord;
  /** Stops sending, waits (at most the load's timeout) for the answers in flight, closes the pool. */
  stop(): Promise<LoadRecord>;
  /** Stops sending and closes every connection at once, failing the requests in flight; safe to call again. */
  destroy(): Promise<void>;
}

const INITIAL_CAPACITY = 4096;

/** Draws request kinds by weight from a cumulative table. */
function kindPicker(kinds: readonly RequestKind[], seed: number): () => RequestKind {
  const first = kinds[0]!;
  if (kinds.length === 1) return () => first;
  const total = kinds.reduce((sum, k) => sum + k.weight, 0);
  const rng = new Mulberry32(deriveSeed(seed, 'requests'));
  return () => {
    let x = rng.next() * total;
    for (const k of kinds) {
      x -= k.weight;
      if (x < 0) return k;
    }
    return first;
  };
}

/** Growable typed columns. */
class Columns {
  count = 0;
  due = new Float64Array(INITIAL_CAPACITY);
  latency = new Float64Array(INITIAL_CAPACITY);
  status = new Int16Array(INITIAL_CAPACITY);
  version = new Uint8Array(INITIAL_CAPACITY);
  user = new Uint32Array(INITIAL_CAPACITY);

  /** Appends request k (due at `due`, from `user`); returns its index. */
  add(due: number, user: number): number {
    if (this.count === this.due.length) this.#grow();
    const k = this.count++;
    this.due[k] = due;
    this.latency[k] = NaN;
    this.user[k] = user;
    return k;
  }

  #grow(): void {
    const size = this.due.length * 2;
    const grow = <T extends Float64Array | Int16Array | Uint8Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.due = grow(this.due, (n) => new Float64Array(n));
    this.latency = grow(this.latency, (n) => new Float64Array(n));
    this.status = grow(this.status, (n) => new Int16Array(n));
    this.version = grow(this.version, (n) => new Uint8Array(n));
    this.user = grow(this.user, (n) => new Uint32Array(n));
  }

  view(): LoadRecord {
    return {
      count: this.count,
      due: this.due,
      latency: this.latency,
      status: this.status,
      version: this.version,
      user: this.user,
    };
  }
}

/**
 * What sends request k of kind `kind` and records its answer: status and version, latency from its due
 * time, or a timeout once `load.timeout` has passed since it was due.
 */
function sender(
  pool: Pool,
  load: Load,
  target: LoadTarget,
  columns: Columns,
  startedAt: number,
): (k: number, kind: RequestKind) => Promise<void> {
  const header = target.versionHeader.toLowerCase();
  const versionOf = (value: string | string[] | undefined): number =>
    value === target.replacement ? REPLACEMENT : value === target.original ? ORIGINAL : NO_VERSION;
  return (k, kind) => {
    const due = columns.due[k]!;
    const left = Math.max(1, Math.ceil(load.timeout - (performance.now() - startedAt - due)));
    const signal = AbortSignal.timeout(left);
    const done = (status: number, version: number) => {
      columns.latency[k] = performance.now() - startedAt - due;
      columns.status[k] = status;
      columns.version[k] = version;
    };
    return pool
      .request({
        method: kind.method,
        path: kind.path,
        headers: { ...kind.headers, [load.userHeader]: String(columns.user[k]) },
        ...(kind.body !== undefined && { body: kind.body }),
        signal,
      })
      .then(async (res) => {
        const version = versionOf(res.headers[header]);
        await res.body.dump({ limit: Number.MAX_SAFE_INTEGER, signal });
        done(signal.aborted ? TIMED_OUT : res.statusCode, version);
      })
      .catch(() => done(signal.aborted ? TIMED_OUT : CONNECTION_ERROR, NO_VERSION));
  };
}

/** Starts the open-loop load of `load` against `target`; request 0 is due now. */
export function startLoad(load: Load, target: LoadTarget): RunningLoad {
  const pool = new Pool(target.url, {
    connections: load.connections,
    // Pipelining would put a request behind another's answer on the wire: one at a time per connection.
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const columns = new Columns();
  const users = new Mulberry32(target.seed);
  const pickKind = kindPicker(load.requests, target.seed);
  const intervalMs = 1000 / load.rate;
  const startedAt = performance.now();
  const startedAtWall = Date.now();
  const inFlight = new Set<Promise<void>>();
  let sending = true;
  let timer: NodeJS.Timeout | undefined;

  const send = sender(pool, load, target, columns, startedAt);

  const tick = () => {
    timer = undefined;
    if (!sending) return;
    const now = performance.now() - startedAt;
    // Every request due by now goes out, however late the timer was: the schedule, not the answers, sets the pace.
    while (columns.count * intervalMs <= now) {
      const k = columns.add(columns.count * intervalMs, Math.floor(users.next() * load.users));
      const p = send(k, pickKind());
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    timer = setTimeout(tick, Math.max(0, columns.count * intervalMs - (performance.now() - startedAt)));
  };
  tick();

  const halt = () => {
    sending = false;
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  return {
    startedAt,
    startedAtWall,
    record: () => columns.view(),
    async stop() {
      halt();
      // Each request carries its own timeout, so this ends within the load's timeout (or at a destroy).
      await Promise.all(inFlight);
      if (!pool.destroyed && !pool.closed) await pool.close();
      return columns.view();
    },
    async destroy() {
      halt();
      if (!pool.destroyed) await pool.destroy();
    },
  };
}
