/**
 * The synthetic launcher on its own, with the real traffic state and prober: which versions start at
 * start (by the task sets' rules), readiness by health check, one start for concurrent prepares, no
 * retiring a version with traffic, and close(). Every server it starts is closed when its test ends.
 */
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';

import { VersionLaunchers } from '../../src/app/launchers.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { Prober } from '../../src/health/probe.js';
import { fixedTargets } from '../../src/shifting/ports.js';
import { TrafficState } from '../../src/shifting/traffic.js';
import { SyntheticLauncher } from '../../src/synthetic/launcher.js';
import { configFrom } from '../support/switchyard.js';

const QUICK = { synthetic: { latency: { fixed: 0 } } };

/** A launcher for service `web` with `versions` ("1" live), on a traffic state of its own. */
function setup(versions: Record<string, unknown>) {
  const config = configFrom({ services: [{ name: 'web', versions, live: '1' }] });
  const traffic = new TrafficState(config);
  const readiness = new Prober(systemClock);
  const log = createLogger({ level: 'silent' });
  const launcher = new SyntheticLauncher({ services: config.services, traffic, readiness, log });
  // What the app starts at start, by the same rules for every kind of version switchyard runs.
  const serving = new VersionLaunchers({ services: config.services, traffic, log }, fixedTargets, launcher);
  onTestFinished(async () => {
    await launcher.close();
    await readiness.close();
  });
  const targets = (label: string) => traffic.service('web').versions.find((v) => v.label === label)!.targets;
  return { launcher, serving, traffic, targets };
}

/** Whether something answers at `url`. */
async function answers(url: string): Promise<boolean> {
  try {
    await (await request(url)).body.dump();
    return true;
  } catch {
    return false;
  }
}

describe('synthetic launcher', () => {
  it('starts the live version, a weighted one and one with test traffic, and no other', async () => {
    const { launcher, serving, traffic, targets } = setup({
      '1': QUICK,
      '2': QUICK,
      '3': QUICK,
      '4': QUICK,
      '5': { targets: ['http://127.0.0.1:9'] },
    });
    traffic.setWeights('web', { '1': 90, '2': 10 });
    traffic.setWeights('web', { '1': 50, '3': 50 }, 'test');
    await serving.startServing(new AbortController().signal);
    expect(targets('1')).toHaveLength(1);
    expect(targets('2')).toHaveLength(1);
    expect(targets('3')).toHaveLength(1);
    expect(targets('4')).toEqual([]);
    expect(launcher.serves('web', '1')).toBe(true);
    expect(launcher.serves('web', '5')).toBe(false);
    await expect(launcher.prepare('web', '5', new AbortController().signal)).rejects.toThrow(/not synthetic/);
  });

  it('waits for a declared health check, and closes a version that never passes it', async () => {
    const check = { path: '/health', interval: '20ms', timeout: '1s', healthyThreshold: 1 };
    const { launcher, serving, targets } = setup({
      '1': { ...QUICK, healthCheck: check },
      '2': { ...QUICK, healthCheck: { ...check, expectStatus: 204 }, readyTimeout: '300ms' },
    });
    await serving.startServing(new AbortController().signal);
    expect(targets('1')).toHaveLength(1);
    await expect(launcher.prepare('web', '2', new AbortController().signal)).rejects.toThrow();
    expect(targets('2')).toEqual([]);
  });

  it('starts a version once for prepares at the same time, and keeps it when prepared again', async () => {
    const { launcher, targets } = setup({ '1': QUICK, '2': { ...QUICK, instances: 3 } });
    const signal = new AbortController().signal;
    await Promise.all([launcher.prepare('web', '2', signal), launcher.prepare('web', '2', signal)]);
    const first = targets('2');
    expect(first).toHaveLength(3);
    expect(new Set(first).size).toBe(3);
    await launcher.prepare('web', '2', signal);
    expect(targets('2')).toEqual(first);
  });

  it('retires a version without traffic (unpublished, then closed) but never one that carries traffic', async () => {
    const { launcher, traffic, targets } = setup({ '1': QUICK, '2': QUICK });
    const signal = new AbortController().signal;
    await launcher.prepare('web', '1', signal);
    await launcher.prepare('web', '2', signal);
    const [blue] = targets('1');
    const [green] = targets('2');
    await launcher.retire('web', '1');
    expect(targets('1')).toEqual([blue]);
    expect(await answers(blue!)).toBe(true);
    await launcher.retire('web', '2');
    expect(targets('2')).toEqual([]);
    expect(await answers(green!)).toBe(false);
    // Retiring what is not running is harmless; close() closes the rest.
    await launcher.retire('web', '2');
    traffic.setWeights('web', { '1': 100 });
    await launcher.close();
    expect(await answers(blue!)).toBe(false);
  });
});
