/**
 * @module bench/open-loop
 * The bench's open-loop load generator: requests go out at evenly spaced times (checked every
 * millisecond) however fast answers come back, over a pool of keep-alive connections; when every
 * connection is busy, requests queue and that wait counts in their latency. autocannon's overallRate
 * cannot do this: it lets every connection send its share of a second back to back, then idle.
 *
 * The paced load scenarios (loadgen.ts) and the rollback scenario (rollback-load.ts) both send through
 * it, so their figures come from the same timing points: a request's send time is taken just before it
 * is handed to the pool, its done time when the last byte of the answer (or the error) arrived.
 */
import { performance } from 'node:perf_hooks';

import { type Dispatcher, Pool } from 'undici';

/** The one request a generator sends over and over, and what to read from each answer. */
export interface OpenLoopRequest {
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly body?: Buffer;
  /** A response header whose value each response should carry back (lower case), if any. */
  readonly readHeader?: string;
}

/** One answered (or failed) request, as handed to `onResponse`. */
export interface OpenLoopResponse {
  /** Its place in the order requests were sent, from 0 for each run. */
  readonly index: number;
  readonly sentAt: number;
  readonly doneAt: number;
  /** HTTP status; 0 when no complete answer came (no connection, a timeout, a body cut short). */
  readonly status: number;
  /** Body bytes received, also for an answer that was cut short. */
  readonly bytes: number;
  /** The value of the request's `readHeader`, when asked for and present. */
  readonly header: string | undefined;
}

/** One stretch of load: how fast, how much at most, and who hears about each request. */
export interface OpenLoopPlan {
  /** Requests per second, evenly spaced. */
  readonly rate: number;
  /** The most requests to send; the run ends by itself once they are all answered. */
  readonly limit: number;
  /** Called just before request `index` is timed and sent. */
  readonly onSend?: (index: number) => void;
  /** Called once per request when its answer is complete or has failed. */
  readonly onResponse: (response: OpenLoopResponse) => void;
}

/** A run in progress. */
export interface OpenLoopRun {
  /** Resolves with the number of requests sent once `limit` were sent and all of them answered. */
  readonly done: Promise<number>;
  /** Stops sending; resolves like `done`, once every request already sent has been answered. */
  stop(): Promise<number>;
}

/** undici's dispatch handler for one request: notes status, header, bytes and times, then reports once. */
class Answer implements Dispatcher.DispatchHandler, OpenLoopResponse {
  readonly sentAt = performance.now();
  doneAt = 0;
  status = 0;
  bytes = 0;
  header: string | undefined = undefined;
  #finished = false;

  constructor(
    readonly index: number,
    readonly readHeader: string | undefined,
    readonly report: (answer: Answer) => void,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // Informational answers (100 Continue) are not the response.
    if (statusCode < 200) return true;
    this.status = statusCode;
    const wanted = this.readHeader;
    if (wanted !== undefined) {
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i]!;
        // Comparing lengths first spares a string for every header that cannot match.
        if (name.length === wanted.length && name.toString('latin1').toLowerCase() === wanted)
          this.header = rawHeaders[i + 1]!.toString('latin1');
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    return true;
  }

  onComplete(): void {
    this.#finish();
  }

  onError(): void {
    // A body cut short is no answer either, whatever its status said.
    this.status = 0;
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.doneAt = performance.now();
    this.report(this);
  }
}

/** Open-loop load against one origin over a pool kept open across runs, so later runs find warm connections. */
export class OpenLoop {
  readonly #pool: Pool;
  readonly #options: Dispatcher.DispatchOptions;

  constructor(
    origin: string,
    connections: number,
    readonly request: OpenLoopRequest,
  ) {
    this.#pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
    this.#options = { path: request.path, method: request.method, body: request.body ?? null };
  }

  /** Starts sending at `plan.rate`; one run at a time. */
  start(plan: OpenLoopPlan): OpenLoopRun {
    const spacingMs = 1000 / plan.rate;
    const readHeader = this.request.readHeader;
    let sent = 0;
    let answered = 0;
    let sending = true;
    let timer: NodeJS.Timeout | undefined;
    let settle: ((sent: number) => void) | undefined;
    const done = new Promise<number>((resolve) => {
      settle = resolve;
    });
    const settleIfDone = () => {
      if (!sending && answered === sent) settle!(sent);
    };
    const report = (answer: Answer) => {
      answered++;
      plan.onResponse(answer);
      settleIfDone();
    };
    const start = performance.now();
    const tick = (): void => {
      const now = performance.now();
      while (sending && sent < plan.limit && start + sent * spacingMs <= now) {
        const index = sent++;
        plan.onSend?.(index);
        this.#pool.dispatch(this.#options, new Answer(index, readHeader, report));
      }
      if (sending && sent < plan.limit) timer = setTimeout(tick, 1);
      else {
        sending = false;
        settleIfDone();
      }
    };
    tick();
    return {
      done,
      stop: () => {
        sending = false;
        clearTimeout(timer);
        settleIfDone();
        return done;
      },
    };
  }

  /** Closes the pool's connections once what is in flight has been answered. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}
