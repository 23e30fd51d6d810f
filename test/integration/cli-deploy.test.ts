/**
 * @module test/integration/cli-deploy
 * The commands that drive a running switchyard (deploy, status, list, stop, continue, weight): the built
 * bin in a child process against a switchyard in this process on real sockets, checked by exit code,
 * output and the state the control API reports afterwards.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { ECS_APPSPEC, ECS_GROUP } from '../support/appspecs.js';
import { runCli, startCli } from '../support/cli.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { until } from '../support/until.js';
import { closedPort, startUpstream } from '../support/upstream.js';

let dir: string;

const run = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15000) => runCli(args, env, timeoutMs);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-deploy-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function call(sy: Switchyard, operation: string, body: object): Promise<Record<string, unknown>> {
  const res = await request(`${sy.urls['control']}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${operation}` },
    body: JSON.stringify(body),
  });
  const answer = (await res.body.json()) as Record<string, unknown>;
  if (res.statusCode !== 200) throw new Error(`${operation}: ${JSON.stringify(answer)}`);
  return answer;
}

/** Switchyard fronting blue (1, live) and green (2), with application `web` and ECS group `web-prod`. */
/** `switchyard deploy` to application web, group web-prod, ending in --endpoint (its value follows). */
const DEPLOY_WEB = ['deploy', '--app', 'web', '--group', 'web-prod', '--endpoint'];

async function setup(): Promise<{ sy: Switchyard; endpoint: string }> {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  const sy = await startProxy({
    ...twoVersions(blue.url, green.url),
    // A smoke test that fails, saying why on its last line.
    hooks: { check: { command: 'echo "checking $LIFECYCLE_EVENT"; echo "smoke test failed: got 500"; exit 1' } },
  });
  await call(sy, 'CreateApplication', { applicationName: 'web', computePlatform: 'ECS' });
  await call(sy, 'CreateDeploymentGroup', { applicationName: 'web', deploymentGroupName: 'web-prod', ...ECS_GROUP });

  return { sy, endpoint: sy.urls['control']! };
}

async function productionWeights(sy: Switchyard): Promise<Record<string, number>> {
  const res = await request(`${sy.urls['control']}/v1/services/web`);
  return ((await res.body.json()) as { weights: { production: Record<string, number> } }).weights.production;
}

describe('switchyard deploy, status, list, stop', () => {
  it('follows a canary to Succeeded, reports it, lists it, refuses to stop it, and exits 3 on a failed one', async () => {
    const { sy, endpoint } = await setup();
    const appspec = await file('ecs.yml', ECS_APPSPEC);

    // Fifteen minutes of canary at scale 600 last 1.5 s: several 250 ms polls see the 10% step.
    const deployed = await run([
      ...DEPLOY_WEB,
      endpoint,
      '--appspec',
      appspec,
      '--config',
      'CodeDeployDefault.ECSCanary10Percent15Minutes',
      '--time-scale',
      '600',
      '--description',
      'cli canary',
      '--wait',
    ]);
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    const lines = deployed.stdout.trim().split('\n');
    const id = lines[0]!;
    expect(id).toMatch(/^d-[A-Z0-9]{9}$/);
    // Output that is not a terminal gets one line per change, never a redrawn line.
    expect(deployed.stdout).not.toContain('\r');
    expect(new Set(lines).size).toBe(lines.length);
    expect(
      lines.some(
        (l) =>
          l.startsWith(`${id} InProgress`) && l.includes('event AllowTraffic') && l.includes('weight 10% on version 2'),
      ),
    ).toBe(true);
    expect(lines.at(-1)).toMatch(new RegExp(`^${id} Succeeded .*weight 100% on version 2$`));
    expect(await productionWeights(sy)).toEqual({ '1': 0, '2': 100 });

    const json = await run(['status', id, '--json', '--endpoint', endpoint]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      deploymentId: id,
      status: 'Succeeded',
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
      description: 'cli canary',
    });

    const human = await run(['status', id], { SWITCHYARD_ENDPOINT: endpoint });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`${id}  Succeeded\n`);
    expect(human.stdout).toContain('app/group   web / web-prod\n');
    expect(human.stdout).toContain('versions    1 → 2 (100% on 2)\n');
    expect(human.stdout).toMatch(/\n {2}AllowTraffic +Succeeded\n/);

    const stopped = await run(['stop', id, '--endpoint', endpoint]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/^error: DeploymentAlreadyCompletedException: .+\n$/);

    // A hook that fails fails AfterInstall; version 1 is the replacement now.
    const failing = await file(
      'failing.yml',
      `${ECS_APPSPEC.replace('web:2', 'web:1')}Hooks:\n  - AfterInstall: check\n`,
    );
    const failed = await run([...DEPLOY_WEB, endpoint, '--appspec', failing, '--time-scale', '600', '--wait']);
    expect(failed.code).toBe(3);
    const failedId = failed.stdout.split('\n')[0]!;
    expect(failed.stdout).toMatch(new RegExp(`\\n${failedId} Failed .*event AfterInstall`));
    expect(failed.stderr).toContain('error       HOOK_EXECUTION_FAILURE');
    // status says why, with what the hook printed.
    const why = await run(['status', failedId, '--endpoint', endpoint]);
    expect(why.stdout).toContain(
      '  AfterInstall           Failed  (ScriptFailed: check: command exited with code 1)\n',
    );
    expect(why.stdout).toContain('      | checking AfterInstall\n      | smoke test failed: got 500\n');
    const whyJson = JSON.parse((await run(['status', failedId, '--json', '--endpoint', endpoint])).stdout) as {
      lifecycleEvents: { lifecycleEventName: string; diagnostics?: { logTail?: string } }[];
    };
    expect(whyJson.lifecycleEvents.find((e) => e.lifecycleEventName === 'AfterInstall')?.diagnostics?.logTail).toBe(
      'checking AfterInstall\nsmoke test failed: got 500',
    );

    const listed = await run(['list', '--endpoint', endpoint, '--app', 'web', '--group', 'web-prod']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${failedId}  Failed +web/web-prod  \\d{4}-\\d\\d-\\d\\dT`)),
      expect.stringMatching(new RegExp(`^${id}  Succeeded +web/web-prod  \\d{4}-\\d\\d-\\d\\dT`)),
    ]);
  });

  it("status --watch prints a deployment's events as they happen and exits as deploy --wait does", async () => {
    const { endpoint } = await setup();
    const appspec = await file('watch.yml', ECS_APPSPEC);
    // Five minutes of canary at scale 300: one second.
    const deployed = await run([
      ...DEPLOY_WEB,
      endpoint,
      '--appspec',
      appspec,
      '--config',
      'CodeDeployDefault.ECSCanary10Percent5Minutes',
      '--time-scale',
      '300',
    ]);
    const id = deployed.stdout.trim();
    const watched = await run(['status', id, '--watch', '--endpoint', endpoint]);
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}Created +deployment created {2}application=web /);
    expect(lines.some((l) => / weight changed {2}weight=10$/.test(l))).toBe(true);
    expect(lines.at(-2)).toMatch(/ Succeeded +deployment succeeded$/);
    expect(lines.at(-1)).toBe(`${id} Succeeded`);
    // Already over: it says so at once.
    expect(await run(['status', id, '--watch', '--endpoint', endpoint])).toMatchObject({
      code: 0,
      stdout: `${id} Succeeded\n`,
    });
  });

  it('promotes a deployment that would otherwise shift for half an hour', async () => {
    const { sy, endpoint } = await setup();
    const appspec = await file('promote.yml', ECS_APPSPEC);
    const deployed = await run([
      ...DEPLOY_WEB,
      endpoint,
      '--appspec',
      appspec,
      '--config',
      'CodeDeployDefault.ECSLinear10PercentEvery3Minutes',
    ]);
    expect(deployed.code).toBe(0);
    const id = deployed.stdout.trim();
    await expect.poll(async () => (await productionWeights(sy))['2']).toBe(10);
    const promoted = await run(['promote', id, '--endpoint', endpoint]);
    expect(promoted).toMatchObject({ code: 0, stderr: '' });
    expect(promoted.stdout).toContain(`${id}: promoted`);
    await expect.poll(async () => (await productionWeights(sy))['2']).toBe(100);
    const again = await run(['promote', id, '--endpoint', endpoint]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('DEPLOYMENT_COMPLETED');
  });

  it('prints the server error for an unknown deployment and group', async () => {
    const { endpoint } = await setup();
    const missing = await run(['status', 'd-AAAAAAAAA', '--endpoint', endpoint]);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/^error: DeploymentDoesNotExistException: /);
    const appspec = await file('ecs-missing-group.yml', ECS_APPSPEC);
    const noGroup = await run([
      'deploy',
      '--endpoint',
      endpoint,
      '--app',
      'web',
      '--group',
      'nope',
      '--appspec',
      appspec,
    ]);
    expect(noGroup.code).toBe(1);
    expect(noGroup.stderr).toMatch(/^error: DeploymentGroupDoesNotExistException: /);
  });
});

describe('switchyard continue and stop on a waiting deployment', () => {
  it('continues a ready wait, and a stop with --rollback ends a following deploy --wait with exit 4', async () => {
    const { sy, endpoint } = await setup();
    await call(sy, 'UpdateDeploymentGroup', {
      applicationName: 'web',
      currentDeploymentGroupName: 'web-prod',
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 },
      },
    });
    const statusOf = async (id: string): Promise<string> =>
      ((await call(sy, 'GetDeployment', { deploymentId: id })) as { deploymentInfo: { status: string } }).deploymentInfo
        .status;
    const reach = (id: string, status: string) =>
      until(
        () => statusOf(id),
        (s) => s === status,
        5_000,
        20,
        `${id} reaching ${status}`,
      );

    const first = await run([...DEPLOY_WEB, endpoint, '--appspec', await file('ready.yml', ECS_APPSPEC)]);
    expect(first.code).toBe(0);
    const firstId = first.stdout.trim();
    await reach(firstId, 'Ready');
    const continued = await run(['continue', firstId, '--endpoint', endpoint]);
    expect(continued).toEqual({ code: 0, stdout: `${firstId}: continued (READY_WAIT)\n`, stderr: '' });
    await reach(firstId, 'Succeeded');
    const notWaiting = await run(['continue', firstId, '--termination', '--endpoint', endpoint]);
    expect(notWaiting.code).toBe(1);
    expect(notWaiting.stderr).toMatch(/^error: DeploymentAlreadyCompletedException: /);

    // Version 2 is live now; the second deployment goes back to 1 and waits in Ready until it is stopped.
    const waiting = startCli([
      ...DEPLOY_WEB,
      endpoint,
      '--wait',
      '--appspec',
      await file('ready-back.yml', ECS_APPSPEC.replace('web:2', 'web:1')),
    ]);
    await waiting.printed(' Ready (waiting: switchyard continue ');
    const { deployments } = (await call(sy, 'ListDeployments', {})) as { deployments: string[] };
    const secondId = deployments[0]!;
    expect(secondId).not.toBe(firstId);
    const stopped = await run(['stop', secondId, '--rollback', '--endpoint', endpoint]);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('traffic was returned to the original version');
    const followed = await waiting.done;
    expect(followed.code).toBe(4);
    expect(followed.stdout.startsWith(`${secondId}\n`)).toBe(true);
    expect(followed.stdout).toMatch(new RegExp(`\\n${secondId} Stopped `));
    expect(followed.stderr).toContain('error       MANUAL_STOP');
    expect(await productionWeights(sy)).toEqual({ '1': 0, '2': 100 });
  });
});

describe('switchyard weight', () => {
  it("sets a version's share, picks the one non-live version by itself, and relays REST errors", async () => {
    const { sy, endpoint } = await setup();
    const named = await run(['weight', 'web', '30', '--version', '2', '--endpoint', endpoint]);
    expect(named).toEqual({ code: 0, stdout: 'web: production weights 1 (live) 70%, 2 30%\n', stderr: '' });
    expect(await productionWeights(sy)).toEqual({ '1': 70, '2': 30 });

    const implied = await run(['weight', 'web', '45'], { SWITCHYARD_ENDPOINT: endpoint });
    expect(implied.code).toBe(0);
    expect(await productionWeights(sy)).toEqual({ '1': 55, '2': 45 });

    const unknown = await run(['weight', 'api', '10', '--version', '2', '--endpoint', endpoint]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: SERVICE_NOT_FOUND: /);
  });
});

describe.concurrent('remote commands without a server or with bad arguments', () => {
  it('names the endpoint it cannot reach and exits 1', async ({ expect }) => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [['list'], ['status', 'd-AAAAAAAAA'], ['weight', 'web', '10']]) {
      const r = await run([...args, '--endpoint', endpoint]);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toContain(`cannot reach switchyard at ${endpoint}`);
    }
  });

  it('exits 2 with the usage on bad arguments', async ({ expect }) => {
    const appspec = await file('args.yml', ECS_APPSPEC);
    for (const args of [
      ['deploy', '--app', 'web'],
      ['deploy', '--app', 'web', '--group', 'g', '--appspec', appspec, '--time-scale', 'fast'],
      ['status'],
      ['list', '--app', 'web'],
      ['stop'],
      ['continue', 'a', 'b'],
      ['weight', 'web', 'abc'],
      ['weight', 'web', '101'],
      ['status', 'd-AAAAAAAAA', '--endpoint', 'not a url'],
      ['status', 'd-AAAAAAAAA', '--frobnicate'],
    ]) {
      const r = await run(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain('usage: switchyard');
    }
  });
});
