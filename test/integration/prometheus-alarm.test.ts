/**
 * The `prometheus` alarm kind against a real Prometheus server (Debian's `prometheus` binary, which
 * .ci/run installs) scraping switchyard's own /metrics: a canary whose replacement starts answering 5xx
 * is stopped with ALARM_ACTIVE and rolled back once PromQL over `switchyard_requests_total` says so; a
 * query with no sample is insufficient data and stops nothing. A Prometheus that cannot be asked is a poll
 * failure that stops the deployment unless the group's `ignorePollAlarmFailure` says otherwise (no
 * Prometheus binary needed for that one). Every Prometheus here is a process of the test's own, on a free
 * loopback port with its own config and storage, never a system service.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  type AlarmConfiguration,
  type CodeDeployClient,
  type DeploymentInfo,
  GetDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { Agent, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { systemClock } from '../../src/core/clock.js';
import { PrometheusClient } from '../../src/health/prometheus.js';
import { count, createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { freePort } from '../support/free-port.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { closedPort, startUpstream } from '../support/upstream.js';

/** The first executable `name` on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const PROMETHEUS = onPath('prometheus');
const IN_CI = Boolean(process.env['CI']) && process.env['CI'] !== 'false';
/** Outside CI a machine without Prometheus skips what needs it; CI installs it, so there it fails instead. */
const SKIP_REASON = PROMETHEUS || IN_CI ? undefined : 'no `prometheus` binary on PATH (apt-get install prometheus)';
if (SKIP_REASON)
  console.warn(`prometheus-alarm.test.ts: skipping the tests that need a Prometheus server: ${SKIP_REASON}`);

/** Ends a child: SIGTERM, then SIGKILL if it is still running after `graceMs`. */
async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts Prometheus on 127.0.0.1:`port` scraping `target`'s /metrics every second, with a config and a
 * storage dir in a temp dir of its own, and waits until it is ready. Stopped and removed when the test ends.
 */
async function startPrometheus(port: number, target: string): Promise<{ url: string }> {
  if (!PROMETHEUS) {
    throw new Error(
      'this test needs the `prometheus` binary on PATH and there is none; CI installs it (.ci/run), ' +
        'on a developer machine run `apt-get install prometheus`',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-prometheus-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: switchyard',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Registered before anything can fail, so the process never outlives the test (and ended before its dir goes).
  onTestFinished(() => stopProcess(child));
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-4_000);
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const url = `http://127.0.0.1:${port}`;
  /** What /-/ready answers (or why it could not be asked); a process that is gone fails the wait at once. */
  const readiness = async (): Promise<number | string> => {
    if (spawnError) throw new Error(`it could not be started: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`it exited (${child.exitCode ?? child.signalCode})`);
    try {
      const res = await request(`${url}/-/ready`, { headersTimeout: 1_000, bodyTimeout: 1_000 });
      await res.body.dump();
      return res.statusCode;
    } catch (err) {
      return `not listening yet: ${(err as Error).message}`;
    }
  };
  try {
    await until(readiness, (answer) => answer === 200, 20_000, 100, 'GET /-/ready answering 200');
  } catch (err) {
    throw new Error(`prometheus was not ready: ${(err as Error).message}\n${log}`);
  }
  return { url };
}

/** Prometheus's answer to an instant query: the samples of a vector result. */
async function promQuery(
  url: string,
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await request(`${url}/api/v1/query?${new URLSearchParams({ query }).toString()}`);
  const body = (await res.body.json()) as { status: string; data: { resultType: string; result: unknown } };
  expect(body.status).toBe('success');
  expect(body.data.resultType).toBe('vector');
  return body.data.result as { metric: Record<string, string>; value: [number, string] }[];
}

/**
 * Green's share of 5xx over the last 10 s, from switchyard's own request counter. A series exists only
 * from its first count on, so until green's first 5xx the numerator is no series at all, not 0: `or
 * vector(0)` makes a healthy green read 0 (OK) rather than no sample (insufficient data).
 */
const GREEN_5XX_RATIO =
  '(sum(rate(switchyard_requests_total{service="web",version="2",code="5xx"}[10s])) or vector(0))' +
  ' / sum(rate(switchyard_requests_total{service="web",version="2"}[10s]))';

/**
 * Blue answers 200; green 200 or, once `mode.green` is 'fail', 500 (both with their name as body). A
 * switchyard with `alarms`, application `web` and group `web-prod` naming `alarmConfiguration`, with the
 * canary holding 10% at real time while the alarm judges.
 */
async function setup(alarms: Record<string, unknown>, alarmConfiguration: AlarmConfiguration) {
  const mode = { green: 'ok' as 'ok' | 'fail' };
  const blue = await startUpstream('blue');
  const green = await startUpstream('green', (_req, res) => {
    res.writeHead(mode.green === 'fail' ? 500 : 200, { 'content-type': 'text/plain' }).end('green');
  });
  const sy = await startProxy({ ...twoVersions(blue.url, green.url), alarms, alarmEvaluationInterval: '250ms' });
  const cd = sdkClient(sy);
  await createWebGroup(cd, {
    deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
    alarmConfiguration,
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
  });
  return { sy, cd, mode };
}

/** Deploys version 2 and waits until the canary carries 10% of production traffic. */
async function deployCanary(sy: Switchyard, cd: CodeDeployClient): Promise<string> {
  const deploymentId = await deployWeb(cd);
  await until(
    async () => sy.traffic.service('web').weights.production['2'],
    (w) => w === 10,
  );
  return deploymentId;
}

const statusOf = async (cd: CodeDeployClient, deploymentId: string): Promise<DeploymentInfo> =>
  (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!;

/** The alarm states a deployment's timeline recorded, in order. */
async function alarmStates(
  sy: Switchyard,
  deploymentId: string,
): Promise<{ state: string; reason: string; value?: number }[]> {
  const res = await request(`${sy.urls['control']}/v1/deployments/${deploymentId}/events`);
  const body = (await res.body.json()) as { events: { message: string; detail: Record<string, unknown> }[] };
  return body.events
    .filter((e) => e.message === 'alarm state changed')
    .map((e) => e.detail as { state: string; reason: string; value?: number });
}

/**
 * Steady traffic to the production listener: `concurrency` loops, each pausing `pauseMs` between
 * requests, until `stop()`, `limit` requests or `maxMs`, whichever comes first.
 */
function load(sy: Switchyard, { concurrency = 3, pauseMs = 15, limit = 3_000, maxMs = 25_000 } = {}) {
  const agent = new Agent({ connections: concurrency });
  const seen = { '1': 0, '2': 0, errors: 0 };
  let running = true;
  let sent = 0;
  const deadline = Date.now() + maxMs;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running && sent < limit && Date.now() < deadline) {
      sent++;
      try {
        const res = await request(`${sy.urls['production']}/`, { dispatcher: agent });
        await res.body.dump();
        const version = String(res.headers['x-switchyard-version']);
        if (version === '1' || version === '2') seen[version]++;
      } catch {
        seen.errors++;
      }
      // The load's pace (part of the fixture), not a wait for anything.
      await sleep(pauseMs);
    }
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      running = false;
      await Promise.all(loops);
      await agent.close();
    })());
  onTestFinished(stop);
  return { seen, stop };
}

describe('prometheus alarms: how answers are read', () => {
  it('reads +Inf as a value that breaches, and asks a Prometheus behind a route prefix', async () => {
    // Stands in for Prometheus: a histogram_quantile past the last bucket answers +Inf.
    const seen: string[] = [];
    const fake = await startUpstream('prometheus', (req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [1, '+Inf'] }] },
        }),
      );
    });
    const client = new PrometheusClient(systemClock);
    onTestFinished(() => client.close());
    const alarm = {
      kind: 'prometheus',
      address: `${fake.url}/prom`,
      query: 'q',
      threshold: 2,
      comparison: 'above',
      timeout: 2_000,
      datapointsToAlarm: 1,
    } as const;
    expect(await client.judge(alarm)).toMatchObject({ state: 'ALARM', value: Infinity });
    expect(seen).toEqual(['/prom/api/v1/query?query=q']);
    expect(await client.judge({ ...alarm, comparison: 'below' })).toMatchObject({ state: 'OK' });
  });
});

describe('prometheus alarms: poll failures (no Prometheus server)', () => {
  it('stops the deployment with ALARM_ACTIVE when Prometheus cannot be asked and poll failures are not ignored', async () => {
    const address = `http://127.0.0.1:${await closedPort()}`;
    const { sy, cd } = await setup(
      { 'prom-down': { kind: 'prometheus', address, query: 'vector(1)', threshold: 0.5, timeout: '1s' } },
      { enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: 'prom-down' }] },
    );
    const started = Date.now();
    const deploymentId = await deployCanary(sy, cd);
    const info = await until(
      () => statusOf(cd, deploymentId),
      (d) => d.status === 'Stopped',
      3_000,
      20,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(info.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(info.errorInformation?.message).toContain('Alarm "prom-down" went into ALARM: its state could not be read');
    expect(info.errorInformation?.message).toContain(`Prometheus at ${address}`);
    expect(info.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    await until(
      async () => sy.traffic.service('web').weights.production,
      (w) => w['2'] === 0,
    );
    expect(await count(sy, 10)).toEqual({ blue: 10 });
  });

  it('keeps the deployment running when the group ignores poll failures', async () => {
    const address = `http://127.0.0.1:${await closedPort()}`;
    const { sy, cd } = await setup(
      { 'prom-down': { kind: 'prometheus', address, query: 'vector(1)', threshold: 0.5, timeout: '1s' } },
      { enabled: true, ignorePollAlarmFailure: true, alarms: [{ name: 'prom-down' }] },
    );
    const deploymentId = await deployCanary(sy, cd);
    // Asked at least once (every 250 ms) before the window below starts.
    await until(
      () => alarmStates(sy, deploymentId),
      (states) => states.length > 0,
      3_000,
      20,
    );
    // An observation window, not a handshake: not ignoring the failures stops the deployment in under
    // 2 s (the test before this one); ignoring them, nothing may happen in as long.
    await sleep(2_000);
    expect((await statusOf(cd, deploymentId)).status).toBe('InProgress');
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 90, '2': 10 });
    // It was asked, and the failure was taken as insufficient data.
    const states = await alarmStates(sy, deploymentId);
    expect(states.map((s) => s.state)).toEqual(['INSUFFICIENT_DATA']);
    expect(states[0]!.reason).toContain(`Prometheus at ${address} could not be asked`);

    await cd.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
    const stopped = await until(
      () => statusOf(cd, deploymentId),
      (d) => d.status === 'Stopped',
      3_000,
      20,
    );
    expect(stopped.errorInformation?.code).toBe('MANUAL_STOP');
  });
});

describe.skipIf(SKIP_REASON !== undefined)(
  `prometheus alarms against a real Prometheus${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ''}`,
  () => {
    it(
      'stops a canary once Prometheus sees its replacement answer 5xx, and rolls it back',
      { timeout: 40_000 },
      async () => {
        const promPort = await freePort();
        const address = `http://127.0.0.1:${promPort}`;
        const { sy, cd, mode } = await setup(
          {
            'prom-errors': {
              kind: 'prometheus',
              address,
              query: GREEN_5XX_RATIO,
              threshold: 0.05,
              comparison: 'above',
            },
          },
          { enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: 'prom-errors' }] },
        );
        const prometheus = await startPrometheus(promPort, new URL(sy.urls['control']!).host);
        const deploymentId = await deployCanary(sy, cd);
        const traffic = load(sy);

        // While green is healthy Prometheus sees its traffic with no 5xx, and the alarm is OK.
        const healthy = await until(
          () => promQuery(prometheus.url, GREEN_5XX_RATIO),
          (r) => r.length > 0,
          15_000,
          200,
        );
        expect(Number(healthy[0]!.value[1])).toBe(0);
        await until(
          () => alarmStates(sy, deploymentId),
          (s) => s.some((e) => e.state === 'OK'),
          3_000,
          50,
        );
        expect((await statusOf(cd, deploymentId)).status).toBe('InProgress');

        mode.green = 'fail';
        const failingSince = Date.now();
        const info = await until(
          () => statusOf(cd, deploymentId),
          (d) => d.status === 'Stopped',
          15_000,
          50,
        );
        const stoppedAfter = Date.now() - failingSince;
        await traffic.stop();
        console.log(
          `prometheus alarm fired ${stoppedAfter} ms after green started failing; traffic`,
          JSON.stringify(traffic.seen),
        );

        expect(traffic.seen.errors).toBe(0);
        expect(traffic.seen['2']).toBeGreaterThan(0);
        expect(info.errorInformation?.code).toBe('ALARM_ACTIVE');
        expect(info.errorInformation?.message).toMatch(
          /^Alarm "prom-errors" went into ALARM: \(sum\(rate\(switchyard_requests_total\{.*\}\[10s\]\)\) or vector\(0\)\) \/ .* = [\d.e+-]+, above 0\.05 breaches$/,
        );
        const states = await alarmStates(sy, deploymentId);
        expect(states.at(-1)).toMatchObject({ state: 'ALARM' });
        expect(states.at(-1)!.value).toBeGreaterThan(0.05);
        expect(info.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
        await until(
          async () => sy.traffic.service('web').weights.production,
          (w) => w['2'] === 0,
        );
        expect(await count(sy, 20)).toEqual({ blue: 20 });
      },
    );

    it('judges nothing while the query returns no sample (insufficient data)', async () => {
      const promPort = await freePort();
      const address = `http://127.0.0.1:${promPort}`;
      const query = 'sum(rate(switchyard_no_such_metric_total[10s]))';
      const { sy, cd } = await setup(
        { 'prom-empty': { kind: 'prometheus', address, query, threshold: 0 } },
        { enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: 'prom-empty' }] },
      );
      const prometheus = await startPrometheus(promPort, new URL(sy.urls['control']!).host);
      expect(await promQuery(prometheus.url, query)).toEqual([]);
      const deploymentId = await deployCanary(sy, cd);
      const traffic = load(sy, { maxMs: 5_000 });
      // Asked at least once (every 250 ms) before the window below starts.
      await until(
        () => alarmStates(sy, deploymentId),
        (states) => states.length > 0,
        3_000,
        20,
      );
      // An observation window, not a handshake: with traffic flowing and Prometheus answering, the alarm
      // must judge nothing for 3 s (three scrapes).
      await sleep(3_000);
      await traffic.stop();

      expect((await statusOf(cd, deploymentId)).status).toBe('InProgress');
      expect(sy.traffic.service('web').weights.production).toEqual({ '1': 90, '2': 10 });
      const states = await alarmStates(sy, deploymentId);
      expect(states.map((s) => s.state)).toEqual(['INSUFFICIENT_DATA']);
      expect(states[0]!.reason).toBe(`the query returned no sample: ${query}`);
      await cd.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
      await until(
        () => statusOf(cd, deploymentId),
        (d) => d.status === 'Stopped',
        3_000,
        20,
      );
    });
  },
);
