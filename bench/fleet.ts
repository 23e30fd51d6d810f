/**
 * @module bench/fleet
 * Scenario (m), a fleet on one host: a control plane that proxies nothing (`workers: 0`) and two
 * `serve --data-plane` processes following it over the network channel. Measured: how long a route change
 * takes to reach both (decision to the last acknowledgement, from switchyard's own histogram, and the API
 * call that answers after it) under load on one data plane; and, with two control planes on one
 * PostgreSQL database, how long after the leader's SIGKILL the standby leads (its own API answers) and both
 * data planes follow it, with load on a data plane throughout (fail static: nothing should fail).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { request } from 'undici';

import { type PostgresServer, startPostgres } from '../test/support/postgres-server.js';
import { freePort, get, waitFor200 } from './http-util.js';
import type { Rig } from './measure.js';
import { type Child, startChild } from './procs.js';
import type { TargetCheck } from './summary.js';
import { exitedMessage, SWITCHYARD_MAIN } from './targets.js';
import { type Propagation, PROPAGATION_RATE, timeWeightChanges } from './workers.js';

/** Leader SIGKILLs timed. */
const TAKEOVERS = 3;
const AIM_TAKEOVER_MS = 5_000;
const READY_MS = 20_000;

/** What the fleet scenario measured. */
export interface FleetReport {
  readonly propagation: Propagation | null;
  readonly takeover: {
    /** Per run: SIGKILL to the standby's own API answering, and to both data planes connected to it. */
    readonly leadMs: readonly number[];
    readonly rejoinMs: readonly number[];
    /** Requests to a data plane during each takeover that failed or got a non-2xx. */
    readonly failed: readonly number[];
    readonly requests: readonly number[];
  } | null;
  readonly notes: readonly string[];
}

interface ControlPlane {
  readonly url: string;
  readonly child: Child;
}

/** A control plane on `controlPort` with no listeners of its own serving (`workers: 0`). */
function startControl(rig: Rig, name: string, controlPort: number, store: string): ControlPlane {
  const file = join(rig.place.workDir, `fleet-${name}.yml`);
  writeFileSync(
    file,
    `listeners: { production: { host: 127.0.0.1, port: 0 } }
control: { host: 127.0.0.1, port: ${controlPort} }
logLevel: warn
workers: 0
store: ${store}
services:
  - name: bench
    versions: { "1": { targets: ["${rig.up.urls[0]}"] }, "2": { targets: ["${rig.up.urls[1]}"] } }
    live: "1"
    weights: { "1": 90, "2": 10 }
`,
  );
  const child = startChild(`control plane ${name}`, process.execPath, [SWITCHYARD_MAIN, 'serve', '--config', file]);
  return { url: `http://127.0.0.1:${controlPort}`, child };
}

/** A `serve --data-plane` named `name` on a port of its own, following `controls` in turn. */
async function startDataPlane(
  rig: Rig,
  name: string,
  controls: readonly string[],
): Promise<{ url: string; child: Child }> {
  const port = await freePort();
  const file = join(rig.place.workDir, `fleet-data-plane-${name}.yml`);
  writeFileSync(file, `listeners: { production: { host: 127.0.0.1, port: ${port} } }\nlogLevel: warn\n`);
  const child = startChild(`data plane ${name}`, process.execPath, [
    SWITCHYARD_MAIN,
    'serve',
    '--data-plane',
    '--config',
    file,
    '--control',
    controls.join(','),
    '--name',
    name,
  ]);
  return { url: `http://127.0.0.1:${port}`, child };
}

interface PlaneView {
  readonly name: string;
  readonly state: string;
  readonly revision: number;
}

/** The data planes a control plane answers for itself (not as a standby forwarding to the leader). */
async function ownPlanes(control: string): Promise<PlaneView[] | undefined> {
  try {
    const res = await request(`${control}/v1/data-planes`, { headersTimeout: 1_000, bodyTimeout: 1_000 });
    const body = await res.body.text();
    if (res.statusCode !== 200 || res.headers['x-switchyard-standby'] !== undefined) return undefined;
    return (JSON.parse(body) as { dataPlanes: PlaneView[] }).dataPlanes;
  } catch {
    return undefined;
  }
}

/** Polls every 10 ms until `ok`, up to `timeoutMs`; the time it took in ms. */
async function timeUntil(ok: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!(await ok())) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(10);
  }
  return performance.now() - started;
}

const bothConnected = async (control: string) =>
  ((await ownPlanes(control)) ?? []).filter((p) => p.state === 'connected' && p.revision > 0).length === 2;

async function measurePropagation(rig: Rig): Promise<Propagation> {
  const cp = startControl(rig, 'propagation', await freePort(), 'memory');
  const planes: Child[] = [cp.child];
  try {
    await waitFor200(`${cp.url}/healthz`, READY_MS, exitedMessage(cp.child));
    const a = await startDataPlane(rig, 'a', [cp.url]);
    const b = await startDataPlane(rig, 'b', [cp.url]);
    planes.push(a.child, b.child);
    await timeUntil(() => bothConnected(cp.url), READY_MS, 'both data planes connecting');
    return await timeWeightChanges(rig, `${a.url}/bytes/100`, cp.url, 'switchyard_data_plane_propagation_seconds');
  } finally {
    await Promise.all(planes.map((c) => c.stop(10_000)));
  }
}

/** One takeover: leader, standby and two data planes on a fresh database; the leader SIGKILLed under load. */
async function takeoverOnce(rig: Rig, pg: PostgresServer, run: number) {
  const store = `{ postgres: "${await pg.createDatabase()}" }`;
  const leader = startControl(rig, `leader-${run}`, await freePort(), store);
  const children: Child[] = [leader.child];
  try {
    await waitFor200(`${leader.url}/healthz`, READY_MS, exitedMessage(leader.child));
    const standby = startControl(rig, `standby-${run}`, await freePort(), store);
    children.push(standby.child);
    // The standby's front answers once it waits for the lead.
    await timeUntil(
      async () => (await ownPlanes(standby.url)) === undefined && (await reachable(standby.url)),
      READY_MS,
      'the standby answering',
    );
    const a = await startDataPlane(rig, `a${run}`, [leader.url, standby.url]);
    const b = await startDataPlane(rig, `b${run}`, [leader.url, standby.url]);
    children.push(a.child, b.child);
    await timeUntil(() => bothConnected(leader.url), READY_MS, 'both data planes connecting to the leader');
    let lead = 0;
    let rejoin = 0;
    const load = await rig.gen.run(
      { url: `${a.url}/bytes/100`, connections: 10, durationS: 6, method: 'GET', overallRate: 1_000 },
      () => {
        void (async () => {
          await sleep(1_000);
          leader.child.proc.kill('SIGKILL');
          const killed = performance.now();
          await timeUntil(async () => (await ownPlanes(standby.url)) !== undefined, 10_000, 'the standby leading');
          lead = performance.now() - killed;
          await timeUntil(() => bothConnected(standby.url), 10_000, 'both data planes following the new leader');
          rejoin = performance.now() - killed;
        })();
      },
    );
    if (!lead || !rejoin) throw new Error('the takeover was not complete when the load ended');
    return { lead, rejoin, failed: load.errors + load.timeouts + load.non2xx, requests: load.requests };
  } finally {
    await Promise.all(children.map((c) => c.stop(10_000)));
  }
}

async function reachable(url: string): Promise<boolean> {
  try {
    await get(`${url}/healthz`, 1_000);
    return true;
  } catch {
    return false;
  }
}

async function measureTakeover(rig: Rig, progress: (t: string) => void): Promise<NonNullable<FleetReport['takeover']>> {
  const { server: pg, stop } = await startPostgres();
  try {
    const runs = [];
    for (let i = 1; i <= TAKEOVERS; i++) {
      const r = await takeoverOnce(rig, pg, i);
      progress(
        `  takeover ${i}: leads after ${r.lead.toFixed(0)} ms, both data planes follow after ${r.rejoin.toFixed(0)} ms, ${r.failed} of ${r.requests} requests failed`,
      );
      runs.push(r);
    }
    return {
      leadMs: runs.map((r) => r.lead),
      rejoinMs: runs.map((r) => r.rejoin),
      failed: runs.map((r) => r.failed),
      requests: runs.map((r) => r.requests),
    };
  } finally {
    await stop();
  }
}

/** Runs scenario (m). */
export async function runFleet(rig: Rig, progress: (text: string) => void): Promise<FleetReport> {
  progress('\n== fleet: a control plane and two remote data planes; a leader SIGKILLed with a standby');
  const notes: string[] = [];
  let propagation: FleetReport['propagation'] = null;
  try {
    propagation = await measurePropagation(rig);
    progress(
      `  propagation: ${(100 * propagation.within5msShare).toFixed(1)}% within 5 ms, mean ${propagation.meanMs.toFixed(2)} ms, API p50 ${propagation.apiP50Ms.toFixed(1)} ms`,
    );
  } catch (err) {
    notes.push(
      `route-change propagation to two data planes could not be measured: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  let takeover: FleetReport['takeover'] = null;
  try {
    takeover = await measureTakeover(rig, progress);
  } catch (err) {
    notes.push(`the leader takeover could not be measured: ${(err as Error).message.split('\n')[0]}`);
  }
  return { propagation, takeover, notes };
}

const max = (xs: readonly number[]) => Math.max(...xs);

/** The fleet's aims, checked against what ran. */
export function fleetChecks(r: FleetReport | null): TargetCheck[] {
  const t = r?.takeover;
  if (!t) return [];
  const worst = max(t.rejoinMs);
  const failed = t.failed.reduce((a, b) => a + b, 0);
  return [
    {
      goal: `fleet: a standby leads and both data planes follow within ${AIM_TAKEOVER_MS / 1000} s of the leader's SIGKILL`,
      measured: `${worst.toFixed(0)} ms (worst of ${t.rejoinMs.length})`,
      met: worst <= AIM_TAKEOVER_MS,
      detail:
        worst <= AIM_TAKEOVER_MS
          ? `${(AIM_TAKEOVER_MS - worst).toFixed(0)} ms to spare`
          : `over by ${(worst - AIM_TAKEOVER_MS).toFixed(0)} ms`,
    },
    {
      goal: 'fleet: no request to a data plane fails while its control plane is replaced',
      measured: `${failed} failed of ${t.requests.reduce((a, b) => a + b, 0)}`,
      met: failed === 0,
      detail: failed === 0 ? 'none' : `${failed} failed`,
    },
  ];
}

/** The report's section for scenario (m). */
export function fleetSection(r: FleetReport): string[] {
  const lines = ['### (m) Fleet: remote data planes and a standby control plane', ''];
  const p = r.propagation;
  if (p)
    lines.push(
      `A control plane with \`workers: 0\` and two \`serve --data-plane\` processes on this host, ${p.changes} weight changes through \`PUT /v1/services/bench/weight\` under ${PROPAGATION_RATE.toLocaleString('en-US')} GET/s on one data plane (50 connections): ${(100 * p.within5msShare).toFixed(1)}% acknowledged by both within 5 ms of the decision, mean ${p.meanMs.toFixed(2)} ms (\`switchyard_data_plane_propagation_seconds\`); the API call, which answers after both acknowledged, p50 ${p.apiP50Ms.toFixed(1)} ms, p99 ${p.apiP99Ms.toFixed(1)} ms.`,
      '',
    );
  const t = r.takeover;
  if (t)
    lines.push(
      `Two control planes on one PostgreSQL database (a throwaway server), two data planes given both URLs, 1,000 GET/s on one data plane; the leader SIGKILLed, ${t.leadMs.length} runs: the standby's own API answered after ${t.leadMs.map((x) => x.toFixed(0)).join(', ')} ms and both data planes followed it after ${t.rejoinMs.map((x) => x.toFixed(0)).join(', ')} ms; failed requests meanwhile ${t.failed.join(', ')} (of ${t.requests.join(', ')}).`,
      '',
    );
  for (const n of r.notes) lines.push(`Note: ${n}`, '');
  return lines;
}
