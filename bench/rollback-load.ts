/**
 * @module bench/rollback-load
 * The rollback scenario's load: open-loop GETs of the load path (open-loop.ts) with every response noted
 * by the order requests were sent, so a run can be cut at the instant green was switched. The arrays are
 * allocated once for the longest run and reused, so recording allocates nothing per response.
 */
import { OpenLoop, type OpenLoopResponse, type OpenLoopRun } from './open-loop.js';
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

/** Open-loop load on switchyard's listener, each response recorded; at most `capacity` requests per run. */
export class RecordedLoad {
  readonly #loop: OpenLoop;
  readonly #sentAt: Float64Array;
  readonly #doneAt: Float64Array;
  readonly #status: Int16Array;
  readonly #version: Uint8Array;
  #run: OpenLoopRun | undefined;

  constructor(
    origin: string,
    readonly rate: number,
    connections: number,
    readonly capacity: number,
  ) {
    this.#loop = new OpenLoop(origin, connections, { path: LOAD_PATH, method: 'GET', readHeader: VERSION_HEADER });
    this.#sentAt = new Float64Array(capacity);
    this.#doneAt = new Float64Array(capacity);
    this.#status = new Int16Array(capacity);
    this.#version = new Uint8Array(capacity);
  }

  readonly #note = (r: OpenLoopResponse): void => {
    const i = r.index;
    this.#sentAt[i] = r.sentAt;
    this.#doneAt[i] = r.doneAt;
    this.#status[i] = r.status;
    this.#version[i] = r.header === '1' ? 1 : r.header === '2' ? 2 : 0;
  };

  /** Starts sending; the previous run's records are dropped. */
  start(): void {
    if (this.#run) throw new Error('the load is already running');
    this.#run = this.#loop.start({ rate: this.rate, limit: this.capacity, onResponse: this.#note });
  }

  /** Stops sending and resolves with every response once the last one is in (or has failed). */
  async stop(): Promise<LoadRecords> {
    const run = this.#run;
    if (!run) throw new Error('the load is not running');
    const n = await run.stop();
    this.#run = undefined;
    return {
      count: n,
      sentAt: this.#sentAt.slice(0, n),
      doneAt: this.#doneAt.slice(0, n),
      status: this.#status.slice(0, n),
      version: this.#version.slice(0, n),
    };
  }

  /** Closes the load's connections. */
  async close(): Promise<void> {
    await this.#loop.close();
  }
}
