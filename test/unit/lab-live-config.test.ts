/**
 * The config of a live run: built from the experiment as a config file would be written and parsed
 * through the config's schema and checks, so what the experiment parsed comes back unchanged.
 */
import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { ShiftSpec } from '../../src/codedeploy/shift-spec.js';
import { FaultConfig } from '../../src/config/faults.js';
import { SyntheticConfig } from '../../src/config/synthetic.js';
import { parseExperiment } from '../../src/lab/experiment.js';
import { faultsInput, liveConfig, shiftInput, syntheticInput } from '../../src/lab/live/live-config.js';
import { deploymentDeadlineMs } from '../../src/lab/live/live-run.js';
import type { RunSpec } from '../../src/lab/results.js';

const experimentFile = 'config/experiments/policies.yml';

async function policies() {
  return parseExperiment(await readFile(experimentFile, 'utf8'), experimentFile, {});
}

describe('live config', () => {
  it('writes parsed behaviours, faults and shifts back in a form that parses to the same', () => {
    const synthetic = SyntheticConfig.parse({
      latency: { p50: '2ms', p99: '8ms' },
      errors: { percent: 5 },
      warmup: { duration: '2s', factor: 20 },
      capacity: { inFlight: 20, queue: 50, queueTimeout: '500ms' },
      seed: 4,
    });
    expect(SyntheticConfig.parse(syntheticInput(synthetic))).toEqual(synthetic);
    const fixed = SyntheticConfig.parse({ latency: { fixed: '3ms' }, warmup: { requests: 10 } });
    expect(SyntheticConfig.parse(syntheticInput(fixed))).toEqual(fixed);

    const faults = FaultConfig.parse({
      abort: { percent: 20, status: 500 },
      delay: { percent: 5, p50: '10ms', p99: '50ms' },
      schedule: { after: '2m', ramp: '30s', from: 5 },
      seed: 9,
    });
    expect(FaultConfig.parse(faultsInput(faults, 1))).toEqual(faults);
    const unseeded = FaultConfig.parse({ abort: { percent: 1, reset: true }, delay: { percent: 1, fixed: '1s' } });
    expect(FaultConfig.parse(faultsInput(unseeded, 77))).toEqual({ ...unseeded, seed: 77 });

    for (const shift of [
      { type: 'AllAtOnce' },
      { type: 'TimeBasedCanary', percent: 12.5, interval: '5m' },
      { type: 'TimeBasedLinear', percent: 10, interval: '30s' },
      { steps: [{ weight: 1, pause: '1m' }, { weight: 50 }, { weight: 100 }] },
    ]) {
      const parsed = ShiftSpec.parse(shift);
      expect(ShiftSpec.parse(shiftInput(parsed))).toEqual(parsed);
    }
  });

  it('gives one service with both versions, the scenario on the replacement and the policy on the group', async () => {
    const experiment = await policies();
    const retry = experiment.policies.find((p) => p.name === 'canary-10-retry')!;
    const late = experiment.scenarios.find((s) => s.name === 'late-errors')!;
    const spec: RunSpec = { policy: retry, scenario: late, repeat: 0, seed: 42 };
    const config = await liveConfig(experiment, spec);
    expect(config.listeners.production).toMatchObject({ host: '127.0.0.1', port: 0 });
    expect(config.listeners.test).toBeUndefined();
    expect(config.control).toMatchObject({ host: '127.0.0.1', port: 0 });
    expect(config.store).toBe('memory');
    expect(config.logLevel).toBe('silent');
    expect(config.timeScale).toBe(experiment.timeScale);
    expect(config.alarms).toEqual(experiment.alarms);
    const [service] = config.services;
    expect(config.services).toHaveLength(1);
    expect(service!.name).toBe('lab');
    expect(service!.live).toBe('original');
    expect(Object.keys(service!.versions)).toEqual(['original', 'replacement']);
    expect(service!.versions['replacement']).toMatchObject({ kind: 'synthetic' });
    expect(service!.routing.retryOnOriginal).toBe(true);
    // The scenario's faults, seeded from the run when they name no seed.
    expect(service!.faults?.['replacement']).toMatchObject({ ...late.faults, seed: expect.any(Number) });
    const group = config.applications['lab']!.deploymentGroups['lab']!;
    expect(group.deploymentConfigName).toBe('CodeDeployDefault.ECSCanary10Percent5Minutes');
    expect(group.alarmConfiguration).toEqual({ enabled: true, alarms: [{ name: 'errors' }] });
    expect(group.autoRollbackConfiguration?.events).toEqual(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']);
    expect(group.blueGreenDeploymentConfiguration?.terminateBlueInstancesOnDeploymentSuccess).toEqual({
      action: 'TERMINATE',
      terminationWaitTimeInMinutes: 1,
    });
  });

  it("declares a policy's own shift as a custom configuration, and a scenario's behaviour replaces the replacement's", async () => {
    const experiment = await policies();
    const linear = experiment.policies.find((p) => p.name === 'linear-10')!;
    const cold = experiment.scenarios.find((s) => s.name === 'cold-green')!;
    const config = await liveConfig(experiment, { policy: linear, scenario: cold, repeat: 1, seed: 1 });
    const group = config.applications['lab']!.deploymentGroups['lab']!;
    expect(config.deploymentConfigs[group.deploymentConfigName!]).toEqual({
      computePlatform: 'ECS',
      trafficRouting: linear.shift,
    });
    const replacement = config.services[0]!.versions['replacement']!;
    // The scenario's behaviour, seeded from the run as it names no seed of its own.
    expect(replacement.kind === 'synthetic' && replacement.synthetic).toEqual({
      ...cold.replacement,
      seed: expect.any(Number),
    });
    expect(config.services[0]!.faults).toBeUndefined();
    expect(config.services[0]!.routing.sticky).toBeUndefined();
  });

  it('turns alarms off for a policy without any, and keys stickiness on the user header when asked', async () => {
    const base = await policies();
    const experiment = { ...base, load: { ...base.load, sticky: true, userHeader: 'x-tenant' } };
    const policy = { ...base.policies[0]!, alarms: [] };
    const config = await liveConfig(experiment, { policy, scenario: base.scenarios[0]!, repeat: 0, seed: 1 });
    const group = config.applications['lab']!.deploymentGroups['lab']!;
    expect(group.alarmConfiguration).toEqual({ enabled: false, alarms: [] });
    expect(group.deploymentConfigName).toBe('CodeDeployDefault.ECSAllAtOnce');
    expect(config.services[0]!.routing.sticky).toEqual({ header: 'x-tenant' });
  });

  it('gives a deployment twice its schedule and bake (real time) plus 30 s, and refuses a manual step', async () => {
    const experiment = await policies();
    const spec = (policy: (typeof experiment.policies)[number]): RunSpec => ({
      policy,
      scenario: experiment.scenarios[0]!,
      repeat: 0,
      seed: 1,
    });
    const canary = experiment.policies.find((p) => p.name === 'canary-10')!;
    // 5 minutes of canary and 1 of bake at the example's time scale, twice, plus 30 s of margin.
    expect(experiment.timeScale).toBe(90);
    expect(deploymentDeadlineMs(experiment, spec(canary))).toBe(2 * ((6 * 60_000) / 90) + 30_000);
    const manual = {
      ...canary,
      shift: {
        kind: 'steps' as const,
        steps: [
          { weight: 1000, pauseMs: null },
          { weight: 10_000, pauseMs: 0 },
        ],
      },
    };
    expect(() => deploymentDeadlineMs(experiment, spec(manual))).toThrow(/manual continue/);
  });
});
