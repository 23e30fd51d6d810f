/**
 * @module health/probe
 * Probes of a version's targets: one HTTP GET per try, bounded by a timeout on the control clock, judged
 * by the check's expected statuses. A version without `healthCheck` is judged only on answering at all
 * (any status proves the process is serving), and only when Install waits for it.
 */
import { Agent, request } from 'undici';

import type { HealthCheckConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';

/** How the probes of a version without `healthCheck` run: any answer at `/`, tried every 250 ms. */
export const ANSWERS_AT_ALL: HealthCheckConfig = {
  path: '/',
  interval: 250,
  timeout: 2_000,
  healthyThreshold: 1,
  unhealthyThreshold: 1,
  expectStatus: [100, 599],
};

/** One probe's verdict and what was seen, for messages. */
export interface ProbeResult {
  readonly healthy: boolean;
  readonly detail: string;
}

/** Probes targets over a connection pool of its own, so probes never share sockets with traffic. */
export class Prober {
  readonly #clock: Clock;
  readonly #agent = new Agent({ keepAliveTimeout: 1_000, connections: 4 });

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** GETs `check.path` on `target` once and judges the answer by `check.expectStatus`. */
  async probe(target: string, check: HealthCheckConfig): Promise<ProbeResult> {
    const abort = new AbortController();
    const cancel = this.#clock.setTimer(check.timeout, () => abort.abort());
    try {
      const res = await request(new URL(check.path, target), {
        method: 'GET',
        dispatcher: this.#agent,
        signal: abort.signal,
        headers: { 'user-agent': 'switchyard-health-check' },
      });
      await res.body.dump();
      const [low, high] = check.expectStatus;
      const ok = res.statusCode >= low && res.statusCode <= high;
      return { healthy: ok, detail: `GET ${check.path} answered ${res.statusCode}` };
    } catch (err) {
      if (abort.signal.aborted)
        return { healthy: false, detail: `GET ${check.path} took longer than ${check.timeout} ms` };
      const code = (err as { code?: unknown }).code;
      return {
        healthy: false,
        detail: `GET ${check.path} failed: ${typeof code === 'string' ? code : (err as Error).message}`,
      };
    } finally {
      cancel();
    }
  }

  /**
   * Probes `target` every `check.interval` until it passes; rejects when `deadlineMs` runs out (with the
   * last thing seen), or when `signal` aborts.
   */
  async untilHealthy(
    target: string,
    check: HealthCheckConfig | undefined,
    deadlineMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    const effective = check ?? ANSWERS_AT_ALL;
    const deadline = this.#clock.now() + deadlineMs;
    let last = 'not probed yet';
    for (;;) {
      signal.throwIfAborted();
      const result = await this.probe(target, effective);
      if (result.healthy) return;
      last = result.detail;
      if (this.#clock.now() + effective.interval > deadline) {
        throw new Error(`${target} did not pass its health check within ${deadlineMs} ms (last: ${last})`);
      }
      await sleep(this.#clock, effective.interval, signal);
    }
  }

  /** Closes the probe connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(signal.reason as Error);
    };
    const cancel = clock.setTimer(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
