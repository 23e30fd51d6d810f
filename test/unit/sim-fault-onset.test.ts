/**
 * The simulator starts a scheduled fault at its onset, not at the start of the tick around it: with
 * every request aborted from 125 ms into the shift and the alarm judging every 250 ms, exactly the
 * requests of the 125 ms between them fail, as they would through the proxy.
 */
import { describe, expect, it } from 'vitest';

import { parseExperiment } from '../../src/lab/experiment.js';
import { simulateRun } from '../../src/lab/sim/index.js';

const EXPERIMENT = parseExperiment(
  `timeScale: 1
bake: 1m
load: { rate: 1000, before: 0ms }
versions:
  synthetic:
    original: { latency: { fixed: 1ms } }
    replacement: { latency: { fixed: 1ms } }
alarms:
  errors: { kind: error-rate, threshold: 0.05, minRequests: 20 }
policies: [{ name: at-once, config: CodeDeployDefault.ECSAllAtOnce }]
scenarios:
  - { name: late, faults: { abort: { percent: 100 }, schedule: { after: 125ms } } }
`,
  'onset.yml',
  {},
);

describe('simulated fault onset', () => {
  it('fails only the requests between the onset and the alarm', async () => {
    const [policy] = EXPERIMENT.policies;
    const [scenario] = EXPERIMENT.scenarios;
    const run = await simulateRun(EXPERIMENT, { policy: policy!, scenario: scenario!, repeat: 0, seed: 1 });
    expect(run.outcome).toBe('RolledBack');
    expect(run.detectionMs).toBe(125);
    expect(run.failed).toBe(125);
  });
});
