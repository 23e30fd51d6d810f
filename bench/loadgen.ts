/**
 * @module bench/loadgen
 * Child process: the load generator, a process of its own (pinned with the upstreams, away from the
 * proxy under test) running autocannon, or for evenly paced load the bench's open-loop generator
 * (open-loop.ts). It reads one LoadJob as JSON per stdin line; for each it prints `start` when the load
 * begins, then one LoadResult as JSON (or `error MESSAGE`).
 *
 * Latency percentiles come from autocannon's per-response times, not its histogram (see latency-log.ts).
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

import autocannon from 'autocannon';

import { LatencyLog } from './latency-log.js';
import { OpenLoop } from './open-loop.js';

/** What to run. */
export interface LoadJob {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly method: 'GET' | 'POST';
  /** Size of the request body to send with every request, if any. */
  readonly bodyBytes?: number;
  /** Requests per second across all connections (autocannon's overallRate); absent = as fast as possible. */
  readonly overallRate?: number;
  /** Send at evenly spaced times with the bench's own open-loop generator instead of autocannon. */
  readonly paced?: boolean;
}

/** What happened. */
export interface LoadResult {
  /** Responses received (any status). */
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly bytesPerS: number;
}

/** Runs `job` with autocannon. */
function run(job: LoadJob, onStart: () => void): Promise<LoadResult> {
  const latencies = new LatencyLog();
  const options: autocannon.Options = {
    url: job.url,
    connections: job.connections,
    duration: job.durationS,
    method: job.method,
    timeout: 10,
  };
  if (job.bodyBytes !== undefined) {
    options.body = Buffer.alloc(job.bodyBytes, 0x63);
    options.headers = { 'content-type': 'application/octet-stream' };
  }
  if (job.overallRate !== undefined) options.overallRate = job.overallRate;
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (err: Error | null, r: autocannon.Result) => {
      if (err) {
        reject(err);
        return;
      }
      const at = latencies.percentiles();
      const durationS = r.duration;
      resolve({
        requests: r.requests.total,
        durationS,
        rps: r.requests.total / durationS,
        p50Ms: at(50),
        p90Ms: at(90),
        p99Ms: at(99),
        maxMs: at(100),
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
        bytesPerS: r.throughput.total / durationS,
      });
    });
    instance.on('response', (_client, _status, _bytes, ms) => latencies.add(ms));
    // The bench reads the proxy's CPU counters when it sees this line, so process start-up is left out.
    instance.on('start', onStart);
  });
}

/**
 * A fresh generator is slow for its first second (JIT warm-up) and would build a backlog that has nothing
 * to do with the target, so a lead-in at the full rate runs first and is not recorded.
 */
const LEAD_IN_S = 1.5;

/** Runs `job` at `job.overallRate` requests per second, evenly spaced, over at most `job.connections` connections. */
async function runPaced(job: LoadJob, onStart: () => void): Promise<LoadResult> {
  const rate = job.overallRate;
  if (rate === undefined) throw new Error('paced load needs overallRate');
  const url = new URL(job.url);
  const loop = new OpenLoop(url.origin, job.connections, {
    path: url.pathname + url.search,
    method: job.method,
    ...(job.bodyBytes !== undefined && { body: Buffer.alloc(job.bodyBytes, 0x63) }),
  });
  const leadIn = Math.round(rate * LEAD_IN_S);
  const latencies = new LatencyLog();
  let responses = 0;
  let errors = 0;
  let non2xx = 0;
  let bytes = 0;
  let lastDone = 0;
  let measuredFrom = 0;
  const load = loop.start({
    rate,
    limit: leadIn + Math.round(rate * job.durationS),
    onSend: (index) => {
      if (index !== leadIn) return;
      measuredFrom = performance.now();
      onStart();
    },
    onResponse: (r) => {
      if (r.index < leadIn) return;
      bytes += r.bytes;
      if (r.status === 0) {
        errors++;
        return;
      }
      latencies.add(r.doneAt - r.sentAt);
      responses++;
      lastDone = r.doneAt;
      if (r.status < 200 || r.status >= 300) non2xx++;
    },
  });
  await load.done;
  await loop.close();
  const at = latencies.percentiles();
  const durationS = (lastDone - measuredFrom) / 1000;
  return {
    requests: responses,
    durationS,
    rps: responses / durationS,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    maxMs: at(100),
    errors,
    timeouts: 0,
    non2xx,
    bytesPerS: bytes / durationS,
  };
}

// One job per stdin line, one result per job; the generator stays up between runs so its own start-up
// and JIT warm-up are paid once, not in every measured run. It exits when the bench closes its stdin.
const started = () => process.stdout.write('start\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const job = JSON.parse(line) as LoadJob;
  try {
    const result = job.paced ? await runPaced(job, started) : await run(job, started);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } catch (err) {
    process.stdout.write(`error ${(err as Error).message}\n`);
  }
}
process.exit(0);
