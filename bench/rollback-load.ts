/**
 * @module bench/rollback-load
 * The rollback scenario's load: open-loop GETs of the load path with every response noted by the order
 * requests were sent, so a run can be cut at the instant green was switched. The arrays are allocated
 * once for the longest run and reused, so recording allocates nothing per response.
 */
import { performance } from 'node:perf_hooks';
import { type Dispatcher, Pool } from 'undici';
import { LOAD_PATH, VERSION_HEADER } from './rollback-settings.js';

/** Per response of one run, by the order requests were sent. */
export interface LoadRecords {
  readonly count: number;
  readonly sentAt: Float64Array;
  readonly doneAt: Float64Array;
  /** HTTP status; 0 when no answer came. */
  readonly status: Int16Array;
  /** The version that answered (1 or 2), 0 when the header was missing. */
  readonly version: Uint8Array;
}

/** Notes one response into the recorder's arrays, at its index. */
class Recorded implements Dispatcher.DispatchHandler {
  #finished = false;

  constructor(
    readonly load: PacedRecorder,
    readonly index: number,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.load.status[this.index] = statusCode;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (name.length === VERSION_HEADER.length && name.toString('latin1').toLowerCase() === VERSION_HEADER) {
        const label = rawHeaders[i + 1]!.toString('latin1');
        this.load.version[this.index] = label === '1' ? 1 : label === '2' ? 2 : 0;
      }
    }
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.#finish();
  }

  onError(): void {
    // A body cut short is no answer either, whatever its status said.
    this.load.status[this.index] = 0;
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.load.doneAt[this.index] = performance.now();
    this.load.finished();
  }
}

/**
 * Open-loop GETs at evenly spaced times over a keep-alive pool (like paced-load.ts, which only counts),
 * each response noted. Bounded: at most `capacity` requests per run.
 */
export class PacedRecorder {
  readonly #pool: Pool;
  readonly #spacingMs: number;
  readonly sentAt: Float64Array;
  readonly doneAt: Float64Array;
  readonly status: Int16Array;
  readonly version: Uint8Array;
  #sent = 0;
  #done = 0;
  #start = 0;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;
  readonly #options: Dispatcher.DispatchOptions;

  constructor(
    origin: string,
    rate: number,
    connections: number,
    readonly capacity: number,
  ) {
    this.#pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
    this.#spacingMs = 1000 / rate;
    this.#options = { path: LOAD_PATH, method: 'GET' };
    this.sentAt = new Float64Array(capacity);
    this.doneAt = new Float64Array(capacity);
    this.status = new Int16Array(capacity);
    this.version = new Uint8Array(capacity);
  }

  /** Starts sending; the previous run's notes are dropped. */
  start(): void {
    this.status.fill(0);
    this.version.fill(0);
    this.#sent = 0;
    this.#done = 0;
    this.#running = true;
    this.#start = performance.now();
    this.#tick();
  }

  readonly #tick = (): void => {
    const now = performance.now();
    while (this.#running && this.#sent < this.capacity && this.#start + this.#sent * this.#spacingMs <= now) {
      const i = this.#sent++;
      this.sentAt[i] = performance.now();
      this.#pool.dispatch(this.#options, new Recorded(this, i));
    }
    this.#timer = this.#running && this.#sent < this.capacity ? setTimeout(this.#tick, 1) : undefined;
  };

  /** Called by each response's handler once it is in (or has failed). */
  finished(): void {
    if (++this.#done === this.#sent) this.#drained?.();
  }

  /** Stops sending and resolves with every response once the last one is in (or has failed). */
  async stop(): Promise<LoadRecords> {
    this.#running = false;
    clearTimeout(this.#timer);
    if (this.#done < this.#sent) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
      this.#drained = undefined;
    }
    const n = this.#sent;
    return {
      count: n,
      sentAt: this.sentAt.slice(0, n),
      doneAt: this.doneAt.slice(0, n),
      status: this.status.slice(0, n),
      version: this.version.slice(0, n),
    };
  }

  /** Closes the load's connections. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}
