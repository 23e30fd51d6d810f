/**
 * Crash recovery for real: `switchyard serve` in a child process is killed with SIGKILL in the middle of
 * a canary and started again on the same SQLite file. The data plane must come back at the kept split
 * before it answers anything, the deployment must finish on its original schedule (or roll back, by
 * policy), and no record may be lost or written twice.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { CreateDeploymentCommand, GetDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { SqliteStore } from '../../src/store/sqlite-store.js';
import { freePort } from '../../src/tasksets/task.js';
import { ECS_APPSPEC } from '../support/appspecs.js';
import { runCli, startCli } from '../support/cli.js';
import { sdkClient, until } from '../support/codedeploy.js';
import { serveChild, type ServedChild } from '../support/serve.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const VERSION_SERVER = join(import.meta.dirname, '..', 'support', 'version-server.mjs');

/** The canary under test: 20% to green for 8 s (long enough for a kill and a restart), then 100%. */
const CANARY_MS = 8_000;

const temp = tempDir('switchyard-crash');

interface TimelineEntry {
  readonly wallTime: number;
  readonly message: string;
  readonly detail: Record<string, unknown>;
}

/** Writes `<name>.yml` (ephemeral ports, info logs, the store `<name>.db` beside it) with `rest` over it. */
async function writeFileConfig(name: string, rest: Record<string, unknown>): Promise<string> {
  const file = join(temp.path(), `${name}.yml`);
  const base = {
    listeners: { production: { host: '127.0.0.1', port: 0 } },
    control: { host: '127.0.0.1', port: 0 },
    logLevel: 'info',
    store: { sqlite: `./${name}.db` },
  };
  await writeFile(file, stringify({ ...base, ...rest }));
  return file;
}

/** A config with one service (blue 1, green 2), a declared group on a 20%/4 s canary, and a SQLite store. */
function writeConfig(
  name: string,
  blue: TestUpstream,
  green: TestUpstream,
  recovery: 'resume' | 'rollback',
  ports: { production?: number; control?: number } = {},
): Promise<string> {
  return writeFileConfig(name, {
    listeners: { production: { host: '127.0.0.1', port: ports.production ?? 0 } },
    control: { host: '127.0.0.1', port: ports.control ?? 0 },
    recovery,
    services: [{ name: 'web', versions: { '1': { targets: [blue.url] }, '2': { targets: [green.url] } }, live: '1' }],
    deploymentConfigs: {
      'canary-20-4s': {
        computePlatform: 'ECS',
        trafficRouting: { type: 'TimeBasedCanary', percent: 20, interval: `${CANARY_MS}ms` },
      },
    },
    applications: {
      web: {
        computePlatform: 'ECS',
        deploymentGroups: {
          'web-prod': {
            ecsServices: [{ clusterName: 'local', serviceName: 'web' }],
            deploymentConfigName: 'canary-20-4s',
            autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
          },
        },
      },
    },
  });
}

async function getJson<T>(url: string): Promise<T> {
  const res = await request(url);
  expect(res.statusCode).toBe(200);
  return (await res.body.json()) as T;
}

const weights = (served: ServedChild) =>
  getJson<{ weights: { production: Record<string, number> } }>(`${served.urls['control']}/v1/services/web`).then(
    (s) => s.weights.production,
  );
const timeline = (served: ServedChild, id: string) =>
  getJson<{ events: TimelineEntry[] }>(`${served.urls['control']}/v1/deployments/${id}/events`).then((r) => r.events);

/** Which version answers each of `n` requests, each on a new connection, as fast as they go. */
async function answers(url: string, n: number): Promise<Record<string, number>> {
  const agent = new Agent({ pipelining: 0 });
  const seen: Record<string, number> = {};
  try {
    for (let i = 0; i < n; i++) {
      const res = await request(url, { dispatcher: agent, reset: true });
      const body = await res.body.text();
      seen[body] = (seen[body] ?? 0) + 1;
    }
  } finally {
    await agent.close();
  }
  return seen;
}

/** Starts a canary of version 2 and waits until 20% of production traffic is on it; resolves with its id. */
async function midCanary(served: ServedChild): Promise<string> {
  const { deploymentId } = await sdkClient(served).send(
    new CreateDeploymentCommand({
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ECS_APPSPEC } },
    }),
  );
  await until(
    () => weights(served),
    (w) => w['2'] === 20,
    5_000,
  );
  return deploymentId!;
}

describe('crash recovery (SIGKILL of a running switchyard)', () => {
  it('resumes a canary on its original schedule, routing by the kept split from the first request', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    // A known control port, so that `status --watch` finds the restarted process where the first one was.
    const control = await freePort();
    const file = await writeConfig('resume', blue, green, 'resume', { control });

    const first = await serveChild(file);
    const id = await midCanary(first);
    const watch = startCli(['status', id, '--watch'], { SWITCHYARD_ENDPOINT: `http://127.0.0.1:${control}` }, 30_000);
    const watching = watch.done;
    // The watch has read the deployment and its timeline so far (the 20% step) before the kill: from then
    // on, losing switchyard is what it reconnects after.
    await watch.printed(' weight changed ');
    const before = await timeline(first, id);
    first.child.kill('SIGKILL');
    expect(await first.exit).toEqual({ code: null, signal: 'SIGKILL' });
    // Down for a while: a schedule kept in memory would end that much later. Part of the scenario (the
    // downtime the resumed schedule must absorb), not a wait for anything to happen.
    await new Promise((r) => setTimeout(r, 1_500));

    const second = await serveChild(file);
    // A watch begun after the restart shows the whole deployment, from before the crash too.
    const lateWatch = runCli(['status', id, '--watch'], { SWITCHYARD_ENDPOINT: `http://127.0.0.1:${control}` }, 30_000);
    // The first requests the new process answers are split as before the crash, not all on blue.
    const seen = await answers(second.urls['production']!, 200);
    expect(seen['green'] ?? 0).toBeGreaterThan(10);
    expect(seen['blue'] ?? 0).toBeGreaterThan(100);
    const cd = sdkClient(second);
    const done = await until(
      () => cd.send(new GetDeploymentCommand({ deploymentId: id })).then((r) => r.deploymentInfo!),
      (d) => d.status === 'Succeeded' || d.status === 'Failed' || d.status === 'Stopped',
      10_000,
      50,
    );
    expect(done.status).toBe('Succeeded');
    expect(await weights(second)).toEqual({ '1': 0, '2': 100 });

    const after = await timeline(second, id);
    // Nothing before the kill is lost or written twice: the old timeline is the start of the new one.
    expect(after.slice(0, before.length)).toEqual(before);
    const shifts = after.filter((e) => e.message === 'weight changed').map((e) => e.detail['weight']);
    expect(shifts).toEqual([20, 100]);
    expect(after.map((e) => e.message)).toContain('recovered after a restart: resuming');
    // The 20% step lasted its 4 s counted from when it began in the first process, the downtime included.
    const canaryStart = after.find((e) => e.message === 'weight changed')!.wallTime;
    const full = after.filter((e) => e.message === 'weight changed')[1]!.wallTime;
    expect(full - canaryStart).toBeGreaterThanOrEqual(CANARY_MS - 50);
    expect(full - canaryStart).toBeLessThan(CANARY_MS + 1_000);

    const listed = await cd.send(
      new ListDeploymentsCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' }),
    );
    expect(listed.deployments).toEqual([id]);
    // The watch went on across the restart: it reconnected, printed the resumption and the end, and exited 0.
    const watched = await watching;
    expect(watched.stderr).toMatch(/lost the connection .* reconnecting/);
    expect(watched.stdout).toMatch(/recovered after a restart: resuming/);
    expect(
      watched.stdout
        .trim()
        .split('\n')
        .filter((l) => / weight changed /.test(l)),
    ).toHaveLength(2);
    expect(watched.stdout).toContain(`${id} Succeeded`);
    expect(watched.code).toBe(0);
    const late = await lateWatch;
    expect(late.stdout.split('\n').filter((l) => / deployment created/.test(l))).toHaveLength(1);
    expect(late.stdout).toContain(`${id} Succeeded`);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);

    const store = new SqliteStore(join(temp.path(), 'resume.db'));
    try {
      expect(store.list('deployment').map((d) => d.key)).toEqual([id]);
      expect(store.get('service', 'web')).toEqual({
        live: '2',
        weights: { production: { '2': 10_000 }, test: { '2': 10_000 } },
      });
      expect(store.list('group').map((d) => d.key)).toEqual(['web/web-prod']);
    } finally {
      store.close();
    }
    await blue.close();
    await green.close();
  });

  it('rolls the canary back at start under recovery: rollback, before a request reaches green', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    // A known port, so that requests can be sent from before the restarted process listens.
    const port = await freePort();
    const file = await writeConfig('rollback', blue, green, 'rollback', { production: port });

    const first = await serveChild(file);
    const id = await midCanary(first);
    first.child.kill('SIGKILL');
    await first.exit;

    let serving = false;
    const seen: string[] = [];
    const knocking = (async () => {
      const agent = new Agent({ connect: { timeout: 500 } });
      while (!serving) {
        try {
          const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent, reset: true });
          seen.push(await res.body.text());
        } catch {
          // Not listening yet.
        }
      }
      await agent.close();
    })();
    const second = await serveChild(file).finally(() => (serving = true));
    await knocking;
    // Whatever was answered from the first moment the listener opened came from blue.
    expect(seen.filter((body) => body !== 'blue')).toEqual([]);
    const cd = sdkClient(second);
    const info = (await cd.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
    expect(info.status).toBe('Failed');
    expect(info.errorInformation?.message).toMatch(/recovery policy is rollback/);
    const rollbackId = info.rollbackInfo?.rollbackDeploymentId;
    expect(rollbackId).toBeDefined();
    expect(await weights(second)).toEqual({ '1': 100, '2': 0 });
    expect(await answers(second.urls['production']!, 50)).toEqual({ blue: 50 });
    const listed = await cd.send(
      new ListDeploymentsCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' }),
    );
    expect([...listed.deployments!].sort()).toEqual([id, rollbackId].sort());
    await blue.close();
    await green.close();
  });

  it('keeps nothing with serve --store memory', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const file = await writeConfig('memory', blue, green, 'resume');
    const first = await serveChild(file, {}, ['--store', 'memory']);
    const id = await midCanary(first);
    first.child.kill('SIGKILL');
    await first.exit;
    const second = await serveChild(file, {}, ['--store', 'memory']);
    expect(await weights(second)).toEqual({ '1': 100, '2': 0 });
    const listed = await sdkClient(second).send(
      new ListDeploymentsCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' }),
    );
    expect(listed.deployments).not.toContain(id);
    expect(existsSync(join(temp.path(), 'memory.db'))).toBe(false);
    await blue.close();
    await green.close();
  });

  it('stops the processes of a version run by command that a killed run left behind, and starts its own', async () => {
    const file = await writeFileConfig('tasks', {
      services: [
        {
          name: 'web',
          versions: { '1': { command: [process.execPath, VERSION_SERVER], readyTimeout: '5s' } },
          live: '1',
        },
      ],
    });
    const pidOf = async (served: ServedChild) => {
      const res = await request(`${served.urls['production']}/`);
      return Number(/pid (\d+)/.exec(await res.body.text())![1]);
    };
    const first = await serveChild(file);
    const orphan = await pidOf(first);
    first.child.kill('SIGKILL');
    await first.exit;
    expect(alive(orphan)).toBe(true);

    const second = await serveChild(file);
    const own = await pidOf(second);
    expect(own).not.toBe(orphan);
    await until(
      async () => alive(orphan),
      (a) => !a,
      7_000,
      50,
    );
    expect(second.logs().some((l) => l.msg === 'stopping processes left running by an earlier run')).toBe(true);
    second.child.kill('SIGTERM');
    await second.exit;
    expect(alive(own)).toBe(false);
  });
});

/** Whether `pid` runs (a zombie does not count). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
