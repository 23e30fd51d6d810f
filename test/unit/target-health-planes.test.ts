import { afterEach, describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import type { TargetEvent } from '../../src/core/stats-delta.js';
import { Prober } from '../../src/health/probe.js';
import { TargetHealth, type TargetHealthChange } from '../../src/health/target-health.js';
import { TrafficState } from '../../src/shifting/traffic.js';

const TARGET = 'http://127.0.0.1:9001';
const probers: Prober[] = [];
afterEach(async () => {
  for (const p of probers.splice(0)) await p.close();
});

function tracker() {
  const config = parseConfig(
    JSON.stringify({
      listeners: { production: { port: 0 } },
      services: [{ name: 'web', versions: { '1': { targets: [TARGET] } }, live: '1' }],
    }),
    'x.json',
    {},
  );
  const clock = new ManualClock();
  const prober = new Prober(clock);
  probers.push(prober);
  const changes: TargetHealthChange[] = [];
  const health = new TargetHealth({
    clock,
    log: createLogger({ level: 'silent' }),
    services: config.services,
    traffic: new TrafficState(config),
    prober,
    onChange: (c) => changes.push(c),
  });
  const event = (state: TargetEvent['state'], dataPlane?: string) =>
    health.record({
      entries: [],
      targets: [{ target: TARGET, state, ejectionMs: 30_000, ...(dataPlane && { dataPlane }) }],
    });
  const stateNow = () => health.viewOf('web')['1']![0]!;
  return { clock, changes, event, stateNow };
}

describe('passive ejection reported by several data planes', () => {
  it('keeps a target out while any worker has it out, and says which ejected it', async () => {
    const { clock, changes, event, stateNow } = tracker();
    event('ejected', 'worker 1');
    await clock.advance(1);
    event('ejected', 'worker 2');
    expect(stateNow()).toMatchObject({
      state: 'ejected',
      reason: 'ejected by worker 2 for 30000 ms after consecutive failures',
    });
    event('returned', 'worker 1');
    expect(stateNow().state).toBe('ejected');
    event('returned', 'worker 2');
    expect(stateNow().state).toBe('unchecked');
    expect(changes.map((c) => `${c.state}: ${c.reason}`)).toEqual([
      'ejected: ejected by worker 1 for 30000 ms after consecutive failures',
      'ejected: ejected by worker 2 for 30000 ms after consecutive failures',
      'healthy: answered again after its ejection by worker 2',
    ]);
  });

  it('ends an ejection at its time even when its return was never reported', async () => {
    const { clock, event, stateNow } = tracker();
    event('ejected');
    expect(stateNow()).toMatchObject({ state: 'ejected', reason: 'ejected for 30000 ms after consecutive failures' });
    await clock.advance(30_001);
    expect(stateNow().state).toBe('unchecked');
  });
});
