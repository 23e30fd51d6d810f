/**
 * @module bench/paced-load
 * An open-loop load generator: requests go out at evenly spaced times (checked every millisecond) however
 * fast answers come back, over a pool of keep-alive connections; when every connection is busy, requests
 * queue and that wait counts in their latency. autocannon's overallRate cannot do this: it lets every
 * connection send its share of a second back to back, then idle.
 *
 * A fresh generator is slow for its first second (JIT warm-up) and would build a backlog that has nothing
 * to do with the target, so a lead-in at the full rate runs first and is not recorded.
 */
import { performance } from 'node:perf_hooks';
import { type Dispatcher, Pool } from 'undici';
import { LatencyLog } from './latency-log.js';
import type { LoadJob, LoadResult } from './loadgen.js';

const LEAD_IN_S = 1.5;

interface Tally {
  responses: number;
  errors: number;
  non2xx: number;
  bytes: number;
  lastDone: number;
}

/** The smallest handler undici's dispatch accepts: counts the answer and when it finished. */
class Probe implements Dispatcher.DispatchHandler {
  #status = 0;
  readonly #sent = performance.now();

  constructor(
    readonly tally: Tally | undefined,
    readonly latencies: LatencyLog,
    readonly done: () => void,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number): boolean {
    this.#status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.tally) this.tally.bytes += chunk.length;
    return true;
  }

  onComplete(): void {
    const t = this.tally;
    if (t) {
      const now = performance.now();
      this.latencies.add(now - this.#sent);
      t.responses++;
      t.lastDone = now;
      if (this.#status < 200 || this.#status >= 300) t.non2xx++;
    }
    this.done();
  }

  onError(): void {
    if (this.tally) this.tally.errors++;
    this.done();
  }
}

/** Runs `job` at `job.overallRate` requests per second over at most `job.connections` connections. */
export async function runPaced(job: LoadJob, onStart: () => void): Promise<LoadResult> {
  const rate = job.overallRate;
  if (rate === undefined) throw new Error('paced load needs overallRate');
  const url = new URL(job.url);
  const pool = new Pool(url.origin, {
    connections: job.connections,
    pipelining: 1,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const options: Dispatcher.DispatchOptions = {
    path: url.pathname + url.search,
    method: job.method,
    body: job.bodyBytes === undefined ? null : Buffer.alloc(job.bodyBytes, 0x63),
  };
  const latencies = new LatencyLog();
  const tally: Tally = { responses: 0, errors: 0, non2xx: 0, bytes: 0, lastDone: 0 };
  const leadIn = Math.round(rate * LEAD_IN_S);
  const total = leadIn + Math.round(rate * job.durationS);
  const spacingMs = 1000 / rate;
  let sent = 0;
  let finished = 0;
  let measuredFrom = 0;
  const start = performance.now();

  await new Promise<void>((resolve) => {
    const done = () => {
      if (++finished === total) resolve();
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * spacingMs <= now) {
        if (sent === leadIn) {
          measuredFrom = performance.now();
          onStart();
        }
        pool.dispatch(options, new Probe(sent >= leadIn ? tally : undefined, latencies, done));
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  await pool.close();
  const at = latencies.percentiles();
  const durationS = (tally.lastDone - measuredFrom) / 1000;
  return {
    requests: tally.responses,
    durationS,
    rps: tally.responses / durationS,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    maxMs: at(100),
    errors: tally.errors,
    timeouts: 0,
    non2xx: tally.non2xx,
    bytesPerS: tally.bytes / durationS,
  };
}
