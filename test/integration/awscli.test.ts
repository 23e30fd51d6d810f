/**
 * The README's "Deployments with awscli" flow driven by the real awscli v2 (`aws deploy …`) in child
 * processes against a running switchyard on loopback: an ECS application and group made with awscli's
 * shorthand, an all-at-once deployment followed with `aws deploy wait` and GetDeploymentTarget until the
 * production listener answers with version 2, a custom canary config, listing, errors as awscli prints
 * them (exit 254), and a canary stopped with rollback.
 *
 * Needs an awscli v2 binary (test/support/awscli.ts): /usr/bin/aws (Debian's `awscli` package), else the first `aws` on PATH whose
 * `--version` says aws-cli/2 (a v1 shim earlier on PATH is passed over). Without one the suite is skipped,
 * except under CI, which installs awscli (.ci/run) and so fails here instead.
 *
 * The `it`s share one switchyard and run in order: each builds on what the ones before created.
 * awscli starts in about a second, so calls are kept few; state the test only waits for is polled over
 * plain HTTP instead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { ECS_APPSPEC } from '../support/appspecs.js';
import { AWS, awsDeploy, type AwsRun, MISSING, skipWithoutAws } from '../support/awscli.js';
import { count as countOn, until } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

let sy: Switchyard;
let blue: TestUpstream;
let green: TestUpstream;
let home: string;

/** Runs `aws deploy <args>` against switchyard's control port, isolated from the user's own setup. */
const aws = (...args: string[]): Promise<AwsRun> => awsDeploy(sy.urls['control']!, home, args);

/** `aws deploy <args>` that must succeed; its JSON output, parsed (`{}` when it printed nothing). */
async function awsJson(...args: string[]): Promise<Record<string, unknown>> {
  const result = await aws(...args);
  if (result.code !== 0) {
    throw new Error(`aws deploy ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout.trim() === '' ? {} : (JSON.parse(result.stdout) as Record<string, unknown>);
}

/** A CodeDeploy call over plain HTTP, for polling without starting awscli each time. */
async function api(operation: string, body: object): Promise<Record<string, unknown>> {
  const res = await request(`${sy.urls['control']}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${operation}` },
    body: JSON.stringify(body),
  });
  return (await res.body.json()) as Record<string, unknown>;
}

/** Which upstream answers each of `n` sequential requests to the production listener. */
const count = (n: number) => countOn(sy, n);

const statusOf = async (deploymentId: string) =>
  ((await api('GetDeployment', { deploymentId })).deploymentInfo as { status?: string } | undefined)?.status;

const revision = (content: string) => JSON.stringify({ revisionType: 'AppSpecContent', appSpecContent: { content } });

const APP = ['--application-name', 'web'];
const GROUP = [...APP, '--deployment-group-name', 'web-prod'];
const CANARY = 'Canary10Percent30Minutes';

// Each awscli call takes about a second, more in a loaded full run: room beyond the default 20 s.
describe.skipIf(skipWithoutAws('awscli.test.ts'))(
  'aws deploy (awscli v2) against switchyard',
  { timeout: 60_000 },
  () => {
    /** Shared between the `it`s, which run in order. */
    let deploymentId = '';

    beforeAll(async () => {
      if (AWS === undefined) throw new Error(`CI is set but ${MISSING}`);
      home = await mkdtemp(join(tmpdir(), 'switchyard-awscli-'));
      blue = await startUpstream('blue', undefined, { autoClose: false });
      green = await startUpstream('green', undefined, { autoClose: false });
      sy = await startProxy(twoVersions(blue.url, green.url), { autoClose: false });
    });

    afterAll(async () => {
      await sy?.close();
      await blue?.close();
      await green?.close();
      if (home) await rm(home, { recursive: true, force: true });
    });

    it('creates an ECS application and a deployment group from shorthand, and reads the group back', async () => {
      const app = await awsJson('create-application', ...APP, '--compute-platform', 'ECS');
      expect(app['applicationId']).toMatch(/^[0-9a-f-]{36}$/);
      const group = await awsJson(
        'create-deployment-group',
        ...GROUP,
        '--service-role-arn',
        'arn:aws:iam::000000000000:role/local',
        '--ecs-services',
        'clusterName=local,serviceName=web',
        '--deployment-config-name',
        'CodeDeployDefault.ECSAllAtOnce',
      );
      expect(group['deploymentGroupId']).toMatch(/^[0-9a-f-]{36}$/);

      const { deploymentGroupInfo } = await awsJson('get-deployment-group', ...GROUP);
      expect(deploymentGroupInfo).toMatchObject({
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        deploymentGroupId: group['deploymentGroupId'],
        deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
        serviceRoleArn: 'arn:aws:iam::000000000000:role/local',
        computePlatform: 'ECS',
        ecsServices: [{ clusterName: 'local', serviceName: 'web' }],
        deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      });
    });

    it('deploys version 2 all at once: the waiter succeeds, the target shows 100 on the replacement, traffic moves', async () => {
      expect(await count(4)).toEqual({ blue: 4 });
      const created = await awsJson(
        'create-deployment',
        ...GROUP,
        '--revision',
        revision(ECS_APPSPEC),
        '--description',
        'awscli',
      );
      deploymentId = String(created['deploymentId']);
      expect(deploymentId).toMatch(/^d-[A-Z0-9]{9}$/);

      // awscli's waiter polls every 15 s; once the deployment has ended its first poll decides.
      await until(
        () => statusOf(deploymentId),
        (s) => s === 'Succeeded' || s === 'Failed' || s === 'Stopped',
        10_000,
        20,
      );
      const waited = await aws('wait', 'deployment-successful', '--deployment-id', deploymentId);
      expect(waited, waited.stderr).toMatchObject({ code: 0, stdout: '' });

      const { deploymentInfo } = await awsJson('get-deployment', '--deployment-id', deploymentId);
      expect(deploymentInfo).toMatchObject({
        deploymentId,
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
        status: 'Succeeded',
        description: 'awscli',
        computePlatform: 'ECS',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ECS_APPSPEC } },
      });

      const { targetIds } = await awsJson('list-deployment-targets', '--deployment-id', deploymentId);
      expect(targetIds).toEqual(['local:web']);
      const { deploymentTarget } = await awsJson(
        'get-deployment-target',
        '--deployment-id',
        deploymentId,
        '--target-id',
        'local:web',
      );
      expect(deploymentTarget).toMatchObject({
        deploymentTargetType: 'ECSTarget',
        ecsTarget: {
          deploymentId,
          targetId: 'local:web',
          status: 'Succeeded',
          targetArn: expect.stringContaining('service/local/web'),
        },
      });
      const taskSets = (
        deploymentTarget as {
          ecsTarget: { taskSetsInfo: { taskSetLabel: string; identifer: string; trafficWeight: number }[] };
        }
      ).ecsTarget.taskSetsInfo;
      expect(taskSets.map((t) => [t.taskSetLabel, t.identifer, t.trafficWeight])).toEqual([
        ['Blue', 'web/1', 0],
        ['Green', 'web/2', 100],
      ]);

      expect(await count(4)).toEqual({ green: 4 });
    });

    it('creates a TimeBasedCanary deployment config and reads it back', async () => {
      const created = await awsJson(
        'create-deployment-config',
        '--deployment-config-name',
        CANARY,
        '--compute-platform',
        'ECS',
        '--traffic-routing-config',
        'type=TimeBasedCanary,timeBasedCanary={canaryPercentage=10,canaryInterval=30}',
      );
      expect(created['deploymentConfigId']).toMatch(/^[0-9a-f-]{36}$/);
      const { deploymentConfigInfo } = await awsJson('get-deployment-config', '--deployment-config-name', CANARY);
      expect(deploymentConfigInfo).toMatchObject({
        deploymentConfigId: created['deploymentConfigId'],
        deploymentConfigName: CANARY,
        computePlatform: 'ECS',
        trafficRoutingConfig: {
          type: 'TimeBasedCanary',
          timeBasedCanary: { canaryPercentage: 10, canaryInterval: 30 },
        },
      });
    });

    it("lists the group's deployments", async () => {
      const { deployments } = await awsJson('list-deployments', ...GROUP);
      expect(deployments).toEqual([deploymentId]);
    });

    it('fails with exit code 254 and the exception name on stderr', async () => {
      const [unknown, twice] = await Promise.all([
        aws('get-deployment', '--deployment-id', 'd-AAAAAAAAA'),
        aws('create-application', ...APP, '--compute-platform', 'ECS'),
      ]);
      expect(unknown.code, unknown.stderr).toBe(254);
      expect(unknown.stderr).toContain('DeploymentDoesNotExistException');
      expect(unknown.stderr).toContain('d-AAAAAAAAA');
      expect(unknown.stdout).toBe('');
      expect(twice.code, twice.stderr).toBe(254);
      expect(twice.stderr).toContain('ApplicationAlreadyExistsException');
    });

    it('stops a running canary with rollback: the deployment is Stopped and traffic returns', async () => {
      // Version 2 is live now; this deployment shifts back to 1, 10% at first, for 30 minutes.
      const created = await awsJson(
        'create-deployment',
        ...GROUP,
        '--deployment-config-name',
        CANARY,
        '--revision',
        revision(ECS_APPSPEC.replace('web:2', 'web:1')),
      );
      const canaryId = String(created['deploymentId']);
      const weight = async () => {
        const { deploymentTarget } = await api('GetDeploymentTarget', {
          deploymentId: canaryId,
          targetId: 'local:web',
        });
        return (deploymentTarget as { ecsTarget?: { taskSetsInfo?: { trafficWeight?: number }[] } } | undefined)
          ?.ecsTarget?.taskSetsInfo?.[1]?.trafficWeight;
      };
      await until(weight, (w) => w === 10, 10_000, 20);
      expect(await count(10)).toEqual({ green: 9, blue: 1 });

      const stopped = await awsJson('stop-deployment', '--deployment-id', canaryId, '--auto-rollback-enabled');
      expect(stopped).toMatchObject({ status: 'Succeeded' });

      const { deploymentInfo } = await awsJson('get-deployment', '--deployment-id', canaryId);
      expect(deploymentInfo).toMatchObject({
        deploymentId: canaryId,
        deploymentConfigName: CANARY,
        status: 'Stopped',
        errorInformation: { code: 'MANUAL_STOP' },
        rollbackInfo: { rollbackDeploymentId: expect.stringMatching(/^d-[A-Z0-9]{9}$/) },
      });
      const rollbackId = (deploymentInfo as { rollbackInfo: { rollbackDeploymentId: string } }).rollbackInfo
        .rollbackDeploymentId;
      expect(await api('GetDeployment', { deploymentId: rollbackId })).toMatchObject({
        deploymentInfo: { creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: canaryId } },
      });
      expect(await count(4)).toEqual({ green: 4 });
    });
  },
);
