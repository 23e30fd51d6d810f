/**
 * How a live run's observations become its figures: outcome, deployment-time figures from the record,
 * and the per-second timeline with requests that carried no version header.
 */
import { describe, expect, it } from 'vitest';

import type { PolicySpec } from '../../src/lab/experiment.js';
import {
  CONNECTION_ERROR,
  type LoadRecord,
  NO_VERSION,
  ORIGINAL,
  REPLACEMENT,
  TIMED_OUT,
} from '../../src/lab/live/load.js';
import { type LiveObservations, measure } from '../../src/lab/live/measure.js';
import type { DeploymentRecord } from '../../src/shifting/deployment.js';

/** A load record from rows of [due, latency, status, version, user]. */
function loadOf(rows: readonly (readonly [number, number, number, number, number])[]): LoadRecord {
  return {
    count: rows.length,
    due: Float64Array.from(rows.map((r) => r[0])),
    latency: Float64Array.from(rows.map((r) => r[1])),
    status: Int16Array.from(rows.map((r) => r[2])),
    version: Uint8Array.from(rows.map((r) => r[3])),
    user: Uint32Array.from(rows.map((r) => r[4])),
  };
}

/** The parts of a deployment record measure reads (times on the deployment's clock, from 1,000,000). */
function deployment(parts: Partial<DeploymentRecord>): DeploymentRecord {
  const record: Partial<DeploymentRecord> = {
    id: 'd-1',
    status: 'Succeeded',
    createTime: 1_000_000,
    lifecycleEvents: [{ name: 'AllowTraffic', status: 'Succeeded', startTime: 1_006_000 }],
    timeline: [],
    ...parts,
  };
  return record as DeploymentRecord;
}

const policy: PolicySpec = {
  name: 'p',
  configName: 'c',
  shift: { kind: 'allAtOnce' },
  alarms: [],
  retryOnOriginal: false,
};

function observations(parts: Partial<LiveObservations>): LiveObservations {
  return {
    spec: { policy, scenario: { name: 's' }, repeat: 2, seed: 1 },
    load: loadOf([]),
    weights: [],
    deployment: deployment({}),
    createdAt: 500,
    timeScale: 60,
    replacement: { served: 0, failed: 0 },
    onsetAfterMs: 0,
    ...parts,
  };
}

describe('measuring a live run', () => {
  it('tells a rollback on an alarm from a stop, and times detection from the onset', () => {
    const stopped = deployment({
      status: 'Stopped',
      completeTime: 1_100_000,
      errorInformation: { code: 'ALARM_ACTIVE', message: 'Alarm "errors" went into ALARM: error rate 9%' },
      rollbackInfo: { rollbackDeploymentId: 'd-2' },
    });
    const r = measure(observations({ deployment: stopped, onsetAfterMs: 60_000 }));
    expect(r.outcome).toBe('RolledBack');
    expect(r.alarm).toEqual({ name: 'errors', reason: 'error rate 9%' });
    // Fired at 100 s, AllowTraffic began at 6 s, the fault at 6 s + 60 s.
    expect(r.detectionMs).toBe(34_000);
    expect(r.durationMs).toBe(100_000);
    expect(r.timeToFullTrafficMs).toBeNull();
    const plain = measure(observations({ deployment: { ...stopped, rollbackInfo: undefined } }));
    expect(plain.outcome).toBe('Stopped');
  });

  it('times full traffic from AllowTraffic to the 100% step', () => {
    const done = deployment({
      completeTime: 1_200_000,
      timeline: [
        {
          time: 1_006_000,
          wallTime: 0,
          level: 'info',
          message: 'weight changed',
          detail: { weight: 10 },
          status: 'InProgress',
        },
        {
          time: 1_066_000,
          wallTime: 0,
          level: 'info',
          message: 'weight changed',
          detail: { weight: 100 },
          status: 'InProgress',
        },
      ],
    });
    const r = measure(observations({ deployment: done }));
    expect(r.outcome).toBe('Succeeded');
    expect(r.timeToFullTrafficMs).toBe(60_000);
    expect(r.detectionMs).toBeNull();
    expect(r.alarm).toBeUndefined();
  });

  it('counts failures, users and a timeline whose requests without a version go by the weight', () => {
    const load = loadOf([
      [0, 2, 200, ORIGINAL, 1],
      [400, 3, 200, ORIGINAL, 2],
      [900, 2000, TIMED_OUT, NO_VERSION, 3], // before any weight: the original's
      [1100, 4, 500, REPLACEMENT, 3],
      [1300, 5, CONNECTION_ERROR, NO_VERSION, 4], // weight 10 from 1000: the replacement's
      [2500, 1, 200, REPLACEMENT, 5],
    ]);
    const r = measure(
      observations({
        load,
        weights: [
          { at: 1000, weight: 10 },
          { at: 1900, weight: 100 },
        ],
        replacement: { served: 7, failed: 3 },
      }),
    );
    expect(r.requests).toBe(6);
    expect(r.failed).toBe(3);
    expect(r.usersAffected).toBe(2);
    expect(r.servedByReplacement).toBe(7);
    expect(r.failedOnReplacement).toBe(3);
    expect(r.timeline).toEqual([
      { t: -30_000, weight: 10, original: { requests: 3, failed: 1 }, replacement: { requests: 0, failed: 0 } },
      { t: 30_000, weight: 100, original: { requests: 0, failed: 0 }, replacement: { requests: 2, failed: 2 } },
      { t: 90_000, weight: 100, original: { requests: 0, failed: 0 }, replacement: { requests: 1, failed: 0 } },
    ]);
    expect(r.latency.p50).toBe(3);
    expect(r.latency.p99).toBe(2000);
    expect(r.repeat).toBe(2);
  });
});
