/**
 * Versions that switchyard runs itself (a local "task set"): the live version's processes start before
 * the listeners open; a deployment's Install starts the replacement's instances on free ports and routes
 * to them only once each passes its health check; the original's processes stop after the termination
 * wait; a replacement that dies or stays unhealthy fails Install with what it printed, and is stopped.
 * Driven with the AWS SDK against an application and group declared in the config file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { CreateDeploymentCommand, GetDeploymentCommand, ListApplicationsCommand } from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { isSwitchyardError } from '../../src/core/errors.js';
import { ECS_APPSPEC } from '../support/appspecs.js';
import { sdkClient, until } from '../support/codedeploy.js';
import { alive } from '../support/processes.js';
import { startProxy } from '../support/switchyard.js';
import { tempDir } from '../support/temp-dir.js';
import { closedPort } from '../support/upstream.js';

const temp = tempDir('switchyard-tasks-it');
const SERVER = join(import.meta.dirname, '..', 'support', 'version-server.mjs');
const CHECK = { path: '/health', interval: '25ms', timeout: '1s' };

/** A version run by command: the stand-in server, with knobs in `env`. */
function commandVersion(extra: Record<string, unknown> = {}) {
  return { command: [process.execPath, SERVER], healthCheck: CHECK, readyTimeout: '3s', ...extra };
}

/** Service `web` with the given versions ("1" live), and application `shop` / group `web-prod` declared. */
function config(versions: Record<string, unknown>) {
  return {
    timeScale: 600,
    services: [{ name: 'web', versions, live: '1', routing: { overrideHeader: 'x-version' } }],
    applications: {
      shop: {
        computePlatform: 'ECS',
        deploymentGroups: {
          'web-prod': {
            ecsServices: [{ clusterName: 'local', serviceName: 'web' }],
            autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
            blueGreenDeploymentConfiguration: {
              // One minute at time scale 600: 100 ms.
              terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 1 },
            },
          },
        },
      },
    },
  };
}

/** Deploys version `label` of `web` and resolves with its id once it has ended. */
async function deployVersion(sy: Switchyard, label: string): Promise<{ id: string; status: string }> {
  const cd = sdkClient(sy);
  const { deploymentId } = await cd.send(
    new CreateDeploymentCommand({
      applicationName: 'shop',
      deploymentGroupName: 'web-prod',
      revision: {
        revisionType: 'AppSpecContent',
        appSpecContent: { content: ECS_APPSPEC.replace('web:2', `web:${label}`) },
      },
    }),
  );
  const id = deploymentId!;
  const status = await until(
    async () => (await cd.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo?.status ?? '',
    (s) => ['Succeeded', 'Failed', 'Stopped'].includes(s),
    10_000,
    25,
    `deployment ${id} ending`,
  );
  return { id, status };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await request(url, { headers });
  return { status: res.statusCode, body: await res.body.text() };
}

const pidOf = (body: string) => Number(/pid (\d+)/.exec(body)?.[1]);

describe('versions run by command', () => {
  it('starts the live version before serving, and nothing else', async () => {
    const sy = await startProxy(config({ '1': commandVersion(), '2': commandVersion() }));
    const first = await get(`${sy.urls['production']}/`);
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/^1#0 pid \d+\n$/);
    const view = sy.traffic.service('web');
    expect(view.versions.find((v) => v.label === '1')?.targets).toEqual([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    ]);
    expect(view.versions.find((v) => v.label === '2')?.targets).toEqual([]);
    // Version 2 is not running: a request pinned to it finds no target.
    expect((await get(`${sy.urls['production']}/`, { 'x-version': '2' })).status).toBe(503);
  });

  it('starts a task again on another port when its port was taken before it could bind it', async () => {
    const marker = join(temp.path(), 'port-taken');
    const sy = await startProxy(config({ '1': commandVersion({ env: { PORT_TAKEN_ONCE: marker } }) }));
    const first = await get(`${sy.urls['production']}/`);
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/^1#0 pid \d+\n$/);
    // The first start lost its port (it left the marker saying which); the one serving runs on another.
    const lost = readFileSync(marker, 'utf8').trim();
    expect(sy.traffic.service('web').versions.find((v) => v.label === '1')?.targets).toEqual([
      expect.not.stringMatching(new RegExp(`:${lost}$`)),
    ]);
  });

  it('Install starts the replacement, traffic moves to its instances, the original stops after the termination wait', async () => {
    const sy = await startProxy(config({ '1': commandVersion(), '2': commandVersion({ instances: 2 }) }));
    const bluePid = pidOf((await get(`${sy.urls['production']}/`)).body);
    expect(alive(bluePid)).toBe(true);
    const blueUrl = sy.traffic.service('web').versions.find((v) => v.label === '1')!.targets[0]!;

    const { id, status } = await deployVersion(sy, '2');
    expect(status).toBe('Succeeded');
    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add((await get(`${sy.urls['production']}/`)).body.replace(/ pid \d+\n/, ''));
    // Both instances serve, by round robin.
    expect(answers).toEqual(new Set(['2#0', '2#1']));
    const record = sy.engine.get(id)!;
    expect(record.lifecycleEvents.find((e) => e.name === 'Install')?.status).toBe('Succeeded');
    // The original was retired once the termination wait ended: unrouted, and its process gone.
    await expect.poll(() => alive(bluePid), { timeout: 5_000 }).toBe(false);
    expect(sy.traffic.service('web').versions.find((v) => v.label === '1')?.targets).toEqual([]);
    await expect(request(blueUrl)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('fails Install with the output of a replacement that exits at start, and rolls back', async () => {
    const sy = await startProxy(
      config({ '1': commandVersion(), '3': commandVersion({ env: { EXIT_AT_START: '3' } }) }),
    );
    const { id, status } = await deployVersion(sy, '3');
    expect(status).toBe('Failed');
    const record = sy.engine.get(id)!;
    expect(record.errorInformation?.code).toBe('HEALTH_CONSTRAINTS');
    const install = record.lifecycleEvents.find((e) => e.name === 'Install')!;
    expect(install.status).toBe('Failed');
    expect(install.diagnostics?.message).toMatch(/exited with code 3 before it was ready/);
    // What the process printed is the event's log tail, as a hook's is.
    expect(install.diagnostics?.logTail).toBe('refusing to start (EXIT_AT_START=3)');
    expect(record.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    expect((await get(`${sy.urls['production']}/`)).body).toMatch(/^1#0/);
  });

  it('fails Install when the replacement stays unhealthy past readyTimeout, and stops it', async () => {
    const sy = await startProxy(
      config({ '1': commandVersion(), '4': commandVersion({ env: { UNHEALTHY: '1' }, readyTimeout: '500ms' }) }),
    );
    const started = Date.now();
    const { id, status } = await deployVersion(sy, '4');
    expect(status).toBe('Failed');
    expect(Date.now() - started).toBeLessThan(5_000);
    const install = sy.engine.get(id)!.lifecycleEvents.find((e) => e.name === 'Install')!;
    expect(install.diagnostics?.message).toMatch(
      /did not pass its health check within 500 ms \(last: GET \/health answered 503\)/,
    );
    expect(sy.traffic.service('web').versions.find((v) => v.label === '4')?.targets).toEqual([]);
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 100, '4': 0 });
  });

  it('health-checks a version with fixed targets and fails Install when they do not answer', async () => {
    const port = await closedPort();
    const sy = await startProxy(
      config({ '1': commandVersion(), '5': { targets: [`http://127.0.0.1:${port}`], readyTimeout: '300ms' } }),
    );
    const { id, status } = await deployVersion(sy, '5');
    expect(status).toBe('Failed');
    const install = sy.engine.get(id)!.lifecycleEvents.find((e) => e.name === 'Install')!;
    expect(install.diagnostics?.message).toMatch(
      /did not pass its health check within 300 ms \(last: GET \/ failed: ECONNREFUSED\)/,
    );
  });

  it('takes an instance that dies out of the rotation, and the others keep serving', async () => {
    const sy = await startProxy(config({ '1': commandVersion({ instances: 2 }), '2': commandVersion() }));
    const first = (await get(`${sy.urls['production']}/`)).body;
    process.kill(pidOf(first), 'SIGKILL');
    const targets = () => sy.traffic.service('web').versions.find((v) => v.label === '1')?.targets.length;
    await expect.poll(targets, { timeout: 5_000 }).toBe(1);
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await get(`${sy.urls['production']}/`);
      expect(res.status).toBe(200);
      answers.add(res.body);
    }
    expect(answers.size).toBe(1);
    expect([...answers][0]).not.toBe(first);
  });

  it('stops every process it started when it closes', async () => {
    const sy = await startProxy(config({ '1': commandVersion({ instances: 3 }), '2': commandVersion() }), {
      autoClose: false,
    });
    const pids = new Set<number>();
    for (let i = 0; i < 3; i++) pids.add(pidOf((await get(`${sy.urls['production']}/`)).body));
    expect(pids.size).toBe(3);
    await sy.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('refuses to start when the live version cannot start, and leaves no process behind', async () => {
    const err: unknown = await startProxy(
      config({ '1': commandVersion({ env: { EXIT_AT_START: '7' } }), '2': commandVersion() }),
    ).catch((e: unknown) => e);
    expect(isSwitchyardError(err, 'VERSION_NOT_READY')).toBe(true);
    expect((err as Error).message).toMatch(
      /^a live version cannot start: task on http:\/\/127\.0\.0\.1:\d+ exited with code 7 before it was ready; its last output:\nrefusing to start \(EXIT_AT_START=7\)$/,
    );
  });

  it('serves the declared application and group over the CodeDeploy API', async () => {
    const sy = await startProxy(config({ '1': commandVersion(), '2': commandVersion() }));
    const { applications } = await sdkClient(sy).send(new ListApplicationsCommand({}));
    expect(applications).toEqual(['shop']);
  });
});
