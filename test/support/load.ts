/**
 * Steady load through switchyard's production listener for the alarm and rollback tests: a few loops of
 * requests, one after another each, remembering when every answer came and which version sent it.
 */
import { Agent, request } from 'undici';
import { onTestFinished } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';

/** One answer: when it arrived, the version that served it (`x-switchyard-version`) and its status. */
export interface Answer {
  readonly at: number;
  readonly version: string;
  readonly status: number;
}

/** Runs `concurrency` loops until `stop()` (at most `limit` requests in all, so a failure cannot run away). */
export function loopLoad(sy: Pick<Switchyard, 'urls'>, concurrency = 4, limit = 4_000) {
  const agent = new Agent({ connections: concurrency });
  onTestFinished(() => agent.close());
  const seen: Answer[] = [];
  let running = true;
  let sent = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running && sent < limit) {
      sent++;
      const res = await request(`${sy.urls['production']}/`, { dispatcher: agent });
      await res.body.dump();
      seen.push({ at: Date.now(), version: String(res.headers['x-switchyard-version']), status: res.statusCode });
    }
  });
  return {
    seen,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
