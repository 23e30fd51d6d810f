/**
 * The simulator checked against the live proxy: the same experiment run both ways (real deployments,
 * real sockets, real load; and the engine on a virtual clock), three repeats each, and for every policy
 * under every faulty scenario the medians agree — failed requests within 25% (or 10 requests), the
 * alarm's detection within 250 ms of real time — as the report's agreement table judges them.
 */
import { describe, expect, it } from 'vitest';

import { assembleReport } from '../../src/lab/assemble-report.js';
import { parseExperiment } from '../../src/lab/experiment.js';
import { runExperiment } from '../../src/lab/run-experiment.js';
import { labRunners } from '../../src/lab/runners.js';

const EXPERIMENT = `name: agreement
seed: 11
repeat: 3
timeScale: 120
bake: 1m
load: { rate: 500, users: 300, before: 500ms }
versions:
  synthetic:
    original: { latency: { p50: 1ms, p99: 4ms } }
    replacement: { latency: { p50: 1ms, p99: 4ms } }
alarms:
  errors: { kind: error-rate, threshold: 0.05, minRequests: 10 }
policies:
  - { name: all-at-once, config: CodeDeployDefault.ECSAllAtOnce }
  - { name: canary-10, config: { type: TimeBasedCanary, percent: 10, interval: 1m } }
scenarios:
  - name: healthy
  - name: down
    description: the replacement answers every request with a 500
    replacement: { latency: { p50: 1ms, p99: 4ms }, errors: { percent: 100 } }
  - name: aborts
    description: the proxy aborts half of the replacement's requests
    faults: { abort: { percent: 50 } }
  - name: cold
    description: slow for its first 2 seconds, 5 requests at a time
    replacement:
      latency: { p50: 1ms, p99: 4ms }
      warmup: { duration: 2s, factor: 20 }
      capacity: { inFlight: 5, queue: 20, queueTimeout: 200ms }
`;

describe('live against simulated', () => {
  it('agrees on failed requests and detection for every policy under three faulty scenarios', async () => {
    const experiment = parseExperiment(EXPERIMENT, 'agreement.yml', {});
    const done = await runExperiment(experiment, {
      modes: ['live', 'sim'],
      runners: labRunners(),
      signal: new AbortController().signal,
    });
    expect(done.failures).toEqual([]);
    const report = assembleReport(experiment, done, ['live', 'sim']);
    const rows = report.agreement!;
    expect(rows).toHaveLength(8);
    const faulty = rows.filter((r) => r.scenario !== 'healthy');
    expect(new Set(faulty.map((r) => r.scenario))).toEqual(new Set(['down', 'aborts', 'cold']));
    for (const row of rows) expect(row.agrees, `${row.policy} × ${row.scenario}: ${row.why}`).toBe(true);
    // Agreement is not 0 against 0: each faulty scenario failed requests and fired an alarm in both modes.
    for (const row of faulty.filter((r) => r.policy === 'all-at-once')) {
      expect(row.failed.live).toBeGreaterThan(10);
      expect(row.failed.sim).toBeGreaterThan(10);
      expect(row.detectionMs.live).not.toBeNull();
      expect(row.detectionMs.sim).not.toBeNull();
    }
  }, 150_000);
});
