/**
 * What the data plane counted during a test, read from the StatsHub as the control plane reads it: outcome
 * counts by version since `watchCounts` was called, pulled on demand.
 */
import { onTestFinished } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { OUTCOMES, type StatsDelta } from '../../src/core/stats-delta.js';

/** Outcome counts of one version. */
export type OutcomeCounts = Record<(typeof OUTCOMES)[number], number>;

/** Outcome counts by version label. */
export type CountsByVersion = Record<string, OutcomeCounts>;

/** Starts watching; the function returned pulls fresh stats and sums everything counted since. */
export function watchCounts(sy: Switchyard): () => CountsByVersion {
  const deltas: StatsDelta[] = [];
  const stop = sy.stats.subscribe((d) => deltas.push(d));
  onTestFinished(() => {
    stop();
  });
  return () => {
    sy.stats.pull();
    const out: CountsByVersion = {};
    for (const d of deltas)
      for (const e of d.entries) {
        out[e.version] ??= { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 };
        const row = out[e.version]!;
        e.counts.forEach((n, i) => {
          row[OUTCOMES[i]!] += n;
        });
      }
    return out;
  };
}
