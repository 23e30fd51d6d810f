/**
 * Live runs end to end on real sockets: switchyard in process serving synthetic versions (or a config
 * file's two fixed targets), the open-loop load, a deployment through the CodeDeploy API, and the figures
 * of the run.
 */
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { type Experiment, parseExperiment } from '../../src/lab/experiment.js';
import { runLive } from '../../src/lab/live/index.js';
import type { RunResult, RunSpec } from '../../src/lab/results.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';

const dir = tempDir('lab-live');

/** What every experiment here shares: 300 req/s, deployment time 60 times faster, a 1-minute bake. */
const common = {
  seed: 3,
  timeScale: 60,
  alarmEvaluationInterval: '100ms',
  bake: '1m',
  load: { rate: 300, connections: 16, users: 500, before: '500ms', after: '300ms', timeout: '2s' },
  alarms: { errors: { kind: 'error-rate', threshold: 0.05, minRequests: 20, window: '2s' } },
};

/** An experiment with two synthetic versions answering in a millisecond or two. */
function synthetic(extra: Record<string, unknown>): Experiment {
  const versions = {
    synthetic: { original: { latency: { p50: '1ms', p99: '4ms' } }, replacement: { latency: { fixed: '1ms' } } },
  };
  return parseExperiment(stringify({ ...common, versions, ...extra }), '', {});
}

/** An experiment whose versions are `blue` and `green` of service `web` in a config file, both answering 200. */
async function fromConfigFile(extra: Record<string, unknown>): Promise<Experiment> {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  const config = join(dir.path(), `config-${blue.port}.yml`);
  await writeFile(
    config,
    stringify({
      listeners: { production: { host: '127.0.0.1', port: 0 } },
      services: [
        { name: 'web', versions: { blue: { targets: [blue.url] }, green: { targets: [green.url] } }, live: 'blue' },
      ],
    }),
  );
  const versions = { config, service: 'web', original: 'blue', replacement: 'green' };
  return parseExperiment(stringify({ ...common, versions, ...extra }), join(dir.path(), 'experiment.yml'), {});
}

function specOf(experiment: Experiment): RunSpec {
  return { policy: experiment.policies[0]!, scenario: experiment.scenarios[0]!, repeat: 0, seed: 11 };
}

function run(experiment: Experiment): Promise<RunResult> {
  return runLive(experiment, specOf(experiment), new AbortController().signal);
}

function timelineRequests(r: RunResult): number {
  return r.timeline.reduce((n, p) => n + p.original.requests + p.replacement.requests, 0);
}

const canary = { name: 'canary', config: { type: 'TimeBasedCanary', percent: 10, interval: '2m' } };
const linear = { name: 'linear', config: { type: 'TimeBasedLinear', percent: 25, interval: '1m' } };
const aborts = { name: 'errors', faults: { abort: { percent: 10, status: 500 } } };

/** What a canary with 10% aborts rolled back on its alarm must show, whatever serves the versions. */
function expectRolledBackCanary(r: RunResult): void {
  expect(r.mode).toBe('live');
  expect(r.outcome).toBe('RolledBack');
  expect(r.alarm?.name).toBe('errors');
  expect(r.alarm?.reason).toMatch(/error rate/i);
  // Found within the 2-minute canary (2 s real), from AllowTraffic, in deployment time.
  expect(r.detectionMs).not.toBeNull();
  expect(r.detectionMs!).toBeGreaterThan(0);
  expect(r.detectionMs!).toBeLessThan(120_000);
  expect(r.timeToFullTrafficMs).toBeNull();
  expect(r.servedByReplacement).toBeGreaterThan(0);
  expect(r.failedOnReplacement).toBeGreaterThan(0);
  expect(r.failedOnReplacement).toBeLessThanOrEqual(r.servedByReplacement);
  expect(r.failed).toBeGreaterThan(0);
  expect(r.failed).toBeLessThanOrEqual(r.requests);
  // Without retries, every failure the replacement made reached a client (and nothing else failed).
  expect(r.failed).toBe(r.failedOnReplacement);
  expect(r.usersAffected).toBeGreaterThan(0);
  expect(r.usersAffected).toBeLessThanOrEqual(r.failed);
  expect(timelineRequests(r)).toBe(r.requests);
  expect(r.timeline.reduce((n, p) => n + p.replacement.failed, 0)).toBe(r.failed);
  expect(r.timeline[0]!.t).toBeLessThan(0);
  expect(r.timeline.at(-1)!.weight).toBe(0);
  expect(r.durationMs).toBeGreaterThanOrEqual(r.detectionMs!);
  expect(r.latency.p99).toBeGreaterThanOrEqual(r.latency.p50);
}

describe('live run', () => {
  it('rolls a canary with 10% aborts back on its error-rate alarm', async () => {
    expectRolledBackCanary(await run(synthetic({ policies: [canary], scenarios: [aborts] })));
  });

  it("runs a config file's own versions the same way", async () => {
    expectRolledBackCanary(await run(await fromConfigFile({ policies: [canary], scenarios: [aborts] })));
  });

  it('detects a fault scheduled 1 minute into the shift, timed from its onset', async () => {
    const r = await run(
      synthetic({
        policies: [linear],
        scenarios: [{ name: 'late', faults: { abort: { percent: 30, status: 500 }, schedule: { after: '1m' } } }],
      }),
    );
    expect(r.outcome).toBe('RolledBack');
    expect(r.alarm?.name).toBe('errors');
    // From the onset (AllowTraffic + 1 minute), not from the start of the shift.
    expect(r.detectionMs!).toBeGreaterThan(0);
    expect(r.detectionMs!).toBeLessThan(60_000);
    expect(r.durationMs).toBeGreaterThan(60_000);
    expect(r.failed).toBeGreaterThan(0);
    expect(r.failed).toBe(r.failedOnReplacement);
    expect(timelineRequests(r)).toBe(r.requests);
  });

  it("counts the replacement's errors that a retry on the original saved, which clients never saw", async () => {
    // The replacement's own errors (injected aborts are never retried, as the README says).
    const r = await run(
      synthetic({
        policies: [{ ...canary, retryOnOriginal: true }],
        scenarios: [{ name: 'errors', replacement: { latency: { fixed: '1ms' }, errors: { percent: 10 } } }],
      }),
    );
    // The alarm judges the replacement's own answers, retried or not.
    expect(r.outcome).toBe('RolledBack');
    expect(r.failedOnReplacement).toBeGreaterThan(0);
    expect(r.failed).toBe(0);
    expect(r.usersAffected).toBe(0);
    expect(timelineRequests(r)).toBe(r.requests);
  });

  it('takes a healthy canary to 100% on schedule and succeeds after the bake', async () => {
    const r = await run(
      synthetic({
        policies: [{ ...canary, config: { ...canary.config, interval: '1m' } }],
        scenarios: [{ name: 'ok' }],
      }),
    );
    expect(r.outcome).toBe('Succeeded');
    expect(r.alarm).toBeUndefined();
    expect(r.detectionMs).toBeNull();
    expect(r.failed).toBe(0);
    expect(r.usersAffected).toBe(0);
    // The canary holds 10% for 1 minute of deployment time (1 s real at 60): timers round to whole real
    // milliseconds (60 ms of deployment time each), and a busy machine makes them late.
    expect(r.timeToFullTrafficMs!).toBeGreaterThanOrEqual(60_000 - 120);
    expect(r.timeToFullTrafficMs!).toBeLessThan(60_000 + 15_000);
    // Then the 1-minute bake.
    expect(r.durationMs).toBeGreaterThanOrEqual(r.timeToFullTrafficMs! + 60_000);
    expect(r.timeline.some((p) => p.weight === 10)).toBe(true);
    expect(r.timeline.at(-1)!.weight).toBe(100);
    // The load ran 0.5 s before the deployment was created: 30 s of deployment time at 60 (and the
    // creation call, a few ms, or more on a busy machine).
    expect(r.timeline[0]!.t).toBeLessThanOrEqual(-30_000);
    expect(r.timeline[0]!.t).toBeGreaterThan(-42_000);
    expect(r.timeline[1]!.t - r.timeline[0]!.t).toBe(60_000);
    expect(timelineRequests(r)).toBe(r.requests);
    // Roughly 300/s for the 0.5 s before, about 2 s of deployment and 0.3 s after.
    expect(r.requests).toBeGreaterThan(600);
    expect(r.servedByReplacement).toBeGreaterThan(r.requests / 4);
    expect(r.failedOnReplacement).toBe(0);
  });

  it('stops at once when aborted and leaves nothing listening', async () => {
    const experiment = synthetic({
      policies: [{ name: 'slow', config: { type: 'TimeBasedLinear', percent: 10, interval: '10m' } }],
      scenarios: [{ name: 'ok' }],
    });
    const controller = new AbortController();
    let urls: Readonly<Record<string, string>> = {};
    const pending = runLive(experiment, specOf(experiment), controller.signal, {
      onStarted: (u) => {
        urls = u;
        setTimeout(() => controller.abort(), 1_000);
      },
    });
    const started = Date.now();
    const error = await pending.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(3_000);
    for (const url of [urls['production'], urls['control']]) {
      expect(url).toBeDefined();
      const { port } = new URL(url!);
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    }
  });
});
