/**
 * The CodeDeploy JSON 1.1 protocol driven by the real AWS SDK against a running switchyard on loopback:
 * resources with CodeDeploy's exact member names, ECS and Lambda deployments whose GetDeploymentTarget
 * weights are followed while a client counts which upstream answers, stop, rollback, the ready wait, the
 * waiter, and errors as typed SDK exceptions. Deployments play at a time scale so minutes take seconds.
 */
import {
  BatchGetApplicationsCommand,
  BatchGetDeploymentsCommand,
  BatchGetDeploymentTargetsCommand,
  type CodeDeployClient,
  ContinueDeploymentCommand,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  type CreateDeploymentCommandInput,
  CreateDeploymentConfigCommand,
  CreateDeploymentGroupCommand,
  DeleteApplicationCommand,
  DeleteDeploymentConfigCommand,
  DeleteDeploymentGroupCommand,
  GetApplicationCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  GetDeploymentTargetCommand,
  ListApplicationsCommand,
  ListDeploymentConfigsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
  UpdateDeploymentGroupCommand,
  waitUntilDeploymentSuccessful,
} from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { ECS_APPSPEC, ECS_GROUP, LAMBDA_APPSPEC } from '../support/appspecs.js';
import { count, createWebGroup, sdkClient, until } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

const ROLE = ECS_GROUP.serviceRoleArn;

/** A switchyard fronting two real upstreams (service `web`, versions 1 = blue live, 2 = green) and an SDK client. */
async function setup(hooks: Record<string, unknown> = {}) {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  const sy = await startProxy({ ...twoVersions(blue.url, green.url), hooks });
  const cd = sdkClient(sy);
  return { sy, cd, blue, green };
}

/**
 * CreateDeployment with switchyard's own `switchyardTimeScale` member, which the SDK has no field for:
 * added to the serialized body before it is signed.
 */
async function deploy(cd: CodeDeployClient, input: CreateDeploymentCommandInput, timeScale?: number): Promise<string> {
  const command = new CreateDeploymentCommand(input);
  if (timeScale !== undefined) {
    command.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { body: string | Uint8Array };
        const text = typeof req.body === 'string' ? req.body : new TextDecoder().decode(req.body);
        req.body = JSON.stringify({ ...JSON.parse(text), switchyardTimeScale: timeScale });
        return next(args);
      },
      { step: 'build', priority: 'high' },
    );
  }
  const { deploymentId } = await cd.send(command);
  return deploymentId!;
}

/** The error an SDK call rejects with. */
async function failure(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

const revision = (content: string) => ({ revisionType: 'AppSpecContent' as const, appSpecContent: { content } });

describe('CodeDeploy protocol', () => {
  it('answers in CodeDeploy JSON 1.1 form and keeps the REST API', async () => {
    const { sy } = await setup();
    const post = (target: string | undefined, body: string, type = 'application/x-amz-json-1.1') =>
      request(`${sy.urls['control']}/`, {
        method: 'POST',
        headers: { 'content-type': type, ...(target && { 'x-amz-target': target }) },
        body,
      });

    const ok = await post('CodeDeploy_20141006.ListApplications', '');
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(ok.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(await ok.body.json()).toEqual({ applications: [] });

    const v10 = await post('CodeDeploy_20141006.ListApplications', '{}', 'application/x-amz-json-1.0');
    expect(v10.statusCode).toBe(200);
    await v10.body.dump();

    const unknown = await post('CodeDeploy_20141006.Frobnicate', '{}');
    expect(unknown.statusCode).toBe(400);
    expect(await unknown.body.json()).toMatchObject({ __type: 'UnknownOperationException' });

    const missing = await post(undefined, '{}');
    expect(await missing.body.json()).toMatchObject({ __type: 'UnknownOperationException' });

    const bad = await post('CodeDeploy_20141006.ListApplications', '{not json');
    expect(bad.statusCode).toBe(400);
    expect(await bad.body.json()).toMatchObject({ __type: 'SerializationException' });

    const health = await request(`${sy.urls['control']}/healthz`);
    expect(await health.body.json()).toEqual({ status: 'ok' });
    const services = await request(`${sy.urls['control']}/v1/services`);
    expect(services.statusCode).toBe(200);
    await services.body.dump();
  });

  it('creates, lists, gets, updates and deletes applications, groups and configs with exact member names', async () => {
    const { cd } = await setup();
    const { applicationId } = await cd.send(
      new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'ECS' }),
    );
    expect(applicationId).toMatch(/^[0-9a-f-]{36}$/);
    await cd.send(new CreateApplicationCommand({ applicationName: 'fn', computePlatform: 'Lambda' }));

    const { application } = await cd.send(new GetApplicationCommand({ applicationName: 'web' }));
    expect(Object.keys(application!).sort()).toEqual(
      ['applicationId', 'applicationName', 'computePlatform', 'createTime', 'linkedToGitHub'].sort(),
    );
    expect(application).toMatchObject({ applicationId, applicationName: 'web', computePlatform: 'ECS' });
    expect(application!.createTime).toBeInstanceOf(Date);
    expect(Math.abs(application!.createTime!.getTime() - Date.now())).toBeLessThan(5_000);

    expect((await cd.send(new ListApplicationsCommand({}))).applications).toEqual(['fn', 'web']);
    const batch = await cd.send(new BatchGetApplicationsCommand({ applicationNames: ['fn', 'web'] }));
    expect(batch.applicationsInfo!.map((a) => a.computePlatform)).toEqual(['Lambda', 'ECS']);

    expect((await failure(cd.send(new CreateApplicationCommand({ applicationName: 'web' })))).name).toBe(
      'ApplicationAlreadyExistsException',
    );
    const missing = await failure(cd.send(new GetApplicationCommand({ applicationName: 'nope' })));
    expect(missing.name).toBe('ApplicationDoesNotExistException');
    expect(missing.$metadata?.httpStatusCode).toBe(400);

    // A custom config, as awscli's --traffic-routing-config would send it.
    const { deploymentConfigId } = await cd.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'Canary25Percent45Minutes',
        computePlatform: 'ECS',
        trafficRoutingConfig: {
          type: 'TimeBasedCanary',
          timeBasedCanary: { canaryPercentage: 25, canaryInterval: 45 },
        },
      }),
    );
    expect(deploymentConfigId).toMatch(/^[0-9a-f-]{36}$/);
    const { deploymentConfigInfo } = await cd.send(
      new GetDeploymentConfigCommand({ deploymentConfigName: 'Canary25Percent45Minutes' }),
    );
    expect(deploymentConfigInfo).toMatchObject({
      deploymentConfigId,
      deploymentConfigName: 'Canary25Percent45Minutes',
      computePlatform: 'ECS',
      trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 25, canaryInterval: 45 } },
    });
    const configs = (await cd.send(new ListDeploymentConfigsCommand({}))).deploymentConfigsList!;
    expect(configs).toContain('CodeDeployDefault.ECSCanary10Percent5Minutes');
    expect(configs).toContain('CodeDeployDefault.LambdaLinear10PercentEvery1Minute');
    expect(configs.at(-1)).toBe('Canary25Percent45Minutes');
    expect(
      (
        await failure(
          cd.send(
            new CreateDeploymentConfigCommand({
              deploymentConfigName: 'Canary25Percent45Minutes',
              computePlatform: 'ECS',
              trafficRoutingConfig: { type: 'AllAtOnce' },
            }),
          ),
        )
      ).name,
    ).toBe('DeploymentConfigAlreadyExistsException');
    expect(
      (
        await failure(
          cd.send(
            new CreateDeploymentConfigCommand({
              deploymentConfigName: 'Bad',
              computePlatform: 'ECS',
              trafficRoutingConfig: { type: 'TimeBasedLinear' },
            }),
          ),
        )
      ).name,
    ).toBe('InvalidTrafficRoutingConfigurationException');
    expect(
      (
        await failure(
          cd.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' })),
        )
      ).name,
    ).toBe('InvalidOperationException');

    const { deploymentGroupId } = await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        deploymentConfigName: 'Canary25Percent45Minutes',
        ...ECS_GROUP,
      }),
    );
    const { deploymentGroupInfo } = await cd.send(
      new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' }),
    );
    expect(deploymentGroupInfo).toEqual({
      applicationName: 'web',
      deploymentGroupId,
      deploymentGroupName: 'web-prod',
      deploymentConfigName: 'Canary25Percent45Minutes',
      serviceRoleArn: ROLE,
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 },
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 0 },
      },
      loadBalancerInfo: ECS_GROUP.loadBalancerInfo,
      computePlatform: 'ECS',
      ecsServices: ECS_GROUP.ecsServices,
    });
    expect(
      (await failure(cd.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'Canary25Percent45Minutes' }))))
        .name,
    ).toBe('DeploymentConfigInUseException');
    expect(
      (
        await failure(
          cd.send(
            new CreateDeploymentGroupCommand({
              applicationName: 'web',
              deploymentGroupName: 'other',
              ...ECS_GROUP,
              ecsServices: [{ clusterName: 'main', serviceName: 'api' }],
            }),
          ),
        )
      ).name,
    ).toBe('InvalidECSServiceException');
    expect(
      (
        await failure(
          cd.send(
            new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-prod', ...ECS_GROUP }),
          ),
        )
      ).name,
    ).toBe('DeploymentGroupAlreadyExistsException');
    expect(
      (
        await failure(
          cd.send(
            new CreateDeploymentGroupCommand({
              applicationName: 'web',
              deploymentGroupName: 'g',
              ...ECS_GROUP,
              deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
            }),
          ),
        )
      ).name,
    ).toBe('InvalidDeploymentConfigNameException');

    await cd.send(
      new UpdateDeploymentGroupCommand({
        applicationName: 'web',
        currentDeploymentGroupName: 'web-prod',
        newDeploymentGroupName: 'web-live',
        deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      }),
    );
    const groups = await cd.send(new ListDeploymentGroupsCommand({ applicationName: 'web' }));
    expect(groups).toMatchObject({ applicationName: 'web', deploymentGroups: ['web-live'] });
    const renamed = await cd.send(
      new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-live' }),
    );
    expect(renamed.deploymentGroupInfo).toMatchObject({
      deploymentGroupId,
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      ecsServices: ECS_GROUP.ecsServices,
    });
    await cd.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'Canary25Percent45Minutes' }));
    expect(
      (await failure(cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'Canary25Percent45Minutes' }))))
        .name,
    ).toBe('DeploymentConfigDoesNotExistException');

    await cd.send(new DeleteDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-live' }));
    expect(
      (
        await failure(
          cd.send(new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-live' })),
        )
      ).name,
    ).toBe('DeploymentGroupDoesNotExistException');
    await cd.send(new DeleteApplicationCommand({ applicationName: 'fn' }));
    expect((await cd.send(new ListApplicationsCommand({}))).applications).toEqual(['web']);
  });

  it('runs an ECS canary: GetDeploymentTarget weights match what a client sees, then the waiter succeeds', async () => {
    const { sy, cd } = await setup();
    await cd.send(new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'ECS' }));
    await cd.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'Canary20Percent1Minute',
        computePlatform: 'ECS',
        trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 20, canaryInterval: 1 } },
      }),
    );
    await cd.send(
      new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-prod', ...ECS_GROUP }),
    );
    // One minute of canary plays in 2 s.
    const deploymentId = await deploy(
      cd,
      {
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        deploymentConfigName: 'Canary20Percent1Minute',
        revision: revision(ECS_APPSPEC),
        description: 'canary',
      },
      30,
    );
    expect(deploymentId).toMatch(/^d-[A-Z0-9]{9}$/);

    const target = () => cd.send(new GetDeploymentTargetCommand({ deploymentId, targetId: 'main:web' }));
    const during = await until(target, (t) => t.deploymentTarget?.ecsTarget?.taskSetsInfo?.[1]?.trafficWeight === 20);
    const ecs = during.deploymentTarget!.ecsTarget!;
    expect(during.deploymentTarget!.deploymentTargetType).toBe('ECSTarget');
    expect(ecs).toMatchObject({
      deploymentId,
      targetId: 'main:web',
      status: 'InProgress',
      targetArn: expect.stringContaining('service/main/web'),
    });
    expect(ecs.taskSetsInfo).toEqual([
      {
        identifer: 'web/1',
        desiredCount: 1,
        pendingCount: 0,
        runningCount: 1,
        status: 'PRIMARY',
        trafficWeight: 80,
        targetGroup: { name: 'web-tg-1' },
        taskSetLabel: 'Blue',
      },
      {
        identifer: 'web/2',
        desiredCount: 1,
        pendingCount: 0,
        runningCount: 1,
        status: 'ACTIVE',
        trafficWeight: 20,
        targetGroup: { name: 'web-tg-2' },
        taskSetLabel: 'Green',
      },
    ]);
    expect(ecs.lifecycleEvents!.map((e) => `${e.lifecycleEventName}:${e.status}`)).toEqual([
      'BeforeInstall:Succeeded',
      'Install:Succeeded',
      'AfterInstall:Succeeded',
      // The group has no test traffic route.
      'AllowTestTraffic:Skipped',
      'AfterAllowTestTraffic:Skipped',
      'BeforeAllowTraffic:Succeeded',
      'AllowTraffic:InProgress',
      'AfterAllowTraffic:Pending',
    ]);
    expect(await count(sy, 10)).toEqual({ blue: 8, green: 2 });
    // Still within the canary step, so the count above saw the weight the target reported.
    expect((await target()).deploymentTarget!.ecsTarget!.taskSetsInfo![1]!.trafficWeight).toBe(20);

    const inProgress = await cd.send(new GetDeploymentCommand({ deploymentId }));
    expect(inProgress.deploymentInfo).toMatchObject({
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      deploymentConfigName: 'Canary20Percent1Minute',
      deploymentId,
      status: 'InProgress',
      creator: 'user',
      description: 'canary',
      computePlatform: 'ECS',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ECS_APPSPEC } },
      deploymentOverview: { Pending: 0, InProgress: 1, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 },
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      autoRollbackConfiguration: { enabled: false, events: [] },
      instanceTerminationWaitTimeStarted: false,
    });
    expect(inProgress.deploymentInfo!.revision!.appSpecContent!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(inProgress.deploymentInfo!.startTime).toBeInstanceOf(Date);

    const result = await waitUntilDeploymentSuccessful(
      { client: cd, maxWaitTime: 10, minDelay: 1, maxDelay: 1 },
      { deploymentId },
    );
    expect(result.state).toBe('SUCCESS');
    expect(await count(sy, 4)).toEqual({ green: 4 });
    const done = await cd.send(new GetDeploymentCommand({ deploymentId }));
    expect(done.deploymentInfo).toMatchObject({
      status: 'Succeeded',
      deploymentOverview: { Succeeded: 1, InProgress: 0 },
    });
    expect(done.deploymentInfo!.completeTime).toBeInstanceOf(Date);
    const after = (await target()).deploymentTarget!.ecsTarget!;
    expect(after.status).toBe('Succeeded');
    expect(after.taskSetsInfo!.map((t) => [t.taskSetLabel, t.status, t.trafficWeight])).toEqual([
      ['Blue', 'ACTIVE', 0],
      ['Green', 'PRIMARY', 100],
    ]);

    const group = await cd.send(
      new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' }),
    );
    expect(group.deploymentGroupInfo!.lastSuccessfulDeployment).toMatchObject({ deploymentId, status: 'Succeeded' });
    expect(group.deploymentGroupInfo!.lastAttemptedDeployment!.deploymentId).toBe(deploymentId);
    expect((await cd.send(new ListDeploymentTargetsCommand({ deploymentId }))).targetIds).toEqual(['main:web']);
    expect(
      (await cd.send(new ListDeploymentTargetsCommand({ deploymentId, targetFilters: { TargetStatus: ['Failed'] } })))
        .targetIds,
    ).toEqual([]);
    const batch = await cd.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ['main:web'] }));
    expect(batch.deploymentTargets).toHaveLength(1);
    expect((await failure(cd.send(new GetDeploymentTargetCommand({ deploymentId, targetId: 'main:api' })))).name).toBe(
      'DeploymentTargetDoesNotExistException',
    );
  });

  it('runs a Lambda linear shift: targetVersionWeight follows the schedule and the client count', async () => {
    const { sy, cd } = await setup();
    await cd.send(new CreateApplicationCommand({ applicationName: 'fn', computePlatform: 'Lambda' }));
    await cd.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'Linear50PercentEvery1Minute',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 50, linearInterval: 1 } },
      }),
    );
    await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'fn',
        deploymentGroupName: 'fn-prod',
        serviceRoleArn: ROLE,
        deploymentConfigName: 'Linear50PercentEvery1Minute',
      }),
    );
    const deploymentId = await deploy(
      cd,
      {
        applicationName: 'fn',
        deploymentGroupName: 'fn-prod',
        revision: { revisionType: 'String', string: { content: LAMBDA_APPSPEC } },
      },
      30,
    );
    const target = () => cd.send(new GetDeploymentTargetCommand({ deploymentId, targetId: 'web' }));
    const during = await until(
      target,
      (t) => t.deploymentTarget?.lambdaTarget?.lambdaFunctionInfo?.targetVersionWeight === 50,
    );
    expect(during.deploymentTarget).toMatchObject({
      deploymentTargetType: 'LambdaTarget',
      lambdaTarget: {
        deploymentId,
        targetId: 'web',
        status: 'InProgress',
        lambdaFunctionInfo: {
          functionName: 'web',
          functionAlias: 'live',
          currentVersion: '1',
          targetVersion: '2',
          targetVersionWeight: 50,
        },
      },
    });
    expect(during.deploymentTarget!.lambdaTarget!.lifecycleEvents!.map((e) => e.lifecycleEventName)).toEqual([
      'BeforeAllowTraffic',
      'AllowTraffic',
      'AfterAllowTraffic',
    ]);
    expect(await count(sy, 10)).toEqual({ blue: 5, green: 5 });
    expect((await target()).deploymentTarget!.lambdaTarget!.lambdaFunctionInfo!.targetVersionWeight).toBe(50);

    await waitUntilDeploymentSuccessful({ client: cd, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { deploymentId });
    expect(await count(sy, 4)).toEqual({ green: 4 });
    const info = (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!;
    expect(info).toMatchObject({
      status: 'Succeeded',
      computePlatform: 'Lambda',
      deploymentConfigName: 'Linear50PercentEvery1Minute',
      revision: { revisionType: 'String', string: { content: LAMBDA_APPSPEC } },
    });
    expect(info.blueGreenDeploymentConfiguration).toBeUndefined();
  });

  it('refuses deployments as CodeDeploy does, one active deployment per group', async () => {
    const { cd } = await setup();
    await cd.send(new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'ECS' }));
    await cd.send(new CreateApplicationCommand({ applicationName: 'ec2', computePlatform: 'Server' }));
    await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
        ...ECS_GROUP,
      }),
    );
    await cd.send(
      new CreateDeploymentGroupCommand({ applicationName: 'ec2', deploymentGroupName: 'fleet', serviceRoleArn: ROLE }),
    );
    const base = { applicationName: 'web', deploymentGroupName: 'web-prod', revision: revision(ECS_APPSPEC) };
    const name = async (input: CreateDeploymentCommandInput) =>
      (await failure(cd.send(new CreateDeploymentCommand(input)))).name;

    expect(await name({ ...base, applicationName: 'nope' })).toBe('ApplicationDoesNotExistException');
    expect(await name({ ...base, deploymentGroupName: 'nope' })).toBe('DeploymentGroupDoesNotExistException');
    expect(await name({ ...base, deploymentGroupName: undefined })).toBe('DeploymentGroupNameRequiredException');
    expect(await name({ ...base, revision: undefined })).toBe('RevisionRequiredException');
    expect(await name({ ...base, deploymentConfigName: 'Nope' })).toBe('DeploymentConfigDoesNotExistException');
    expect(
      await name({
        ...base,
        revision: { revisionType: 'S3', s3Location: { bucket: 'b', key: 'k', bundleType: 'YAML' } },
      }),
    ).toBe('InvalidRevisionException');
    expect(await name({ applicationName: 'ec2', deploymentGroupName: 'fleet', revision: revision(ECS_APPSPEC) })).toBe(
      'InvalidRevisionException',
    );
    const invalid = await failure(
      cd.send(
        new CreateDeploymentCommand({
          ...base,
          revision: revision(ECS_APPSPEC.replace('TaskDefinition', 'TaskDefinitio')),
        }),
      ),
    );
    expect(invalid.name).toBe('InvalidRevisionException');
    expect(invalid.message).toMatch(/TaskDefinition/);
    const unknownVersion = await failure(
      cd.send(new CreateDeploymentCommand({ ...base, revision: revision(ECS_APPSPEC.replace('web:2', 'web:7')) })),
    );
    expect(unknownVersion.name).toBe('InvalidRevisionException');
    expect(unknownVersion.message).toMatch(/"1", "2"/);

    const first = await deploy(cd, base);
    const limit = await failure(cd.send(new CreateDeploymentCommand(base)));
    expect(limit.name).toBe('DeploymentLimitExceededException');
    expect(limit.message).toContain(first);
    await cd.send(new StopDeploymentCommand({ deploymentId: first }));

    expect((await failure(cd.send(new GetDeploymentCommand({ deploymentId: 'd-AAAAAAAAA' })))).name).toBe(
      'DeploymentDoesNotExistException',
    );
    expect((await failure(cd.send(new GetDeploymentCommand({ deploymentId: 'nope' })))).name).toBe(
      'InvalidDeploymentIdException',
    );
    const hook = await failure(
      cd.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: first,
          lifecycleEventHookExecutionId: 'x',
          status: 'Succeeded',
        }),
      ),
    );
    expect(hook.name).toBe('InvalidLifecycleEventHookExecutionIdException');
  });

  it('stops without rollback (traffic stays) and with rollback (traffic returns, a rollback deployment records it)', async () => {
    const { sy, cd } = await setup();
    await cd.send(new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'ECS' }));
    await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
        ...ECS_GROUP,
      }),
    );
    const base = { applicationName: 'web', deploymentGroupName: 'web-prod', revision: revision(ECS_APPSPEC) };
    const weightOf = async (deploymentId: string) =>
      (await cd.send(new GetDeploymentTargetCommand({ deploymentId, targetId: 'main:web' }))).deploymentTarget!
        .ecsTarget!.taskSetsInfo![1]!.trafficWeight;

    const kept = await deploy(cd, base);
    await until(
      () => weightOf(kept),
      (w) => w === 10,
    );
    const stopped = await cd.send(new StopDeploymentCommand({ deploymentId: kept, autoRollbackEnabled: false }));
    expect(stopped.status).toBe('Succeeded');
    const keptInfo = (await cd.send(new GetDeploymentCommand({ deploymentId: kept }))).deploymentInfo!;
    expect(keptInfo).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    expect(keptInfo.rollbackInfo).toBeUndefined();
    expect(await count(sy, 10)).toEqual({ blue: 9, green: 1 });
    expect((await failure(cd.send(new StopDeploymentCommand({ deploymentId: kept })))).name).toBe(
      'DeploymentAlreadyCompletedException',
    );
    expect((await failure(cd.send(new ContinueDeploymentCommand({ deploymentId: kept })))).name).toBe(
      'DeploymentAlreadyCompletedException',
    );

    const back = await deploy(cd, base);
    await until(
      () => weightOf(back),
      (w) => w === 10,
    );
    await cd.send(new StopDeploymentCommand({ deploymentId: back, autoRollbackEnabled: true }));
    expect(await count(sy, 10)).toEqual({ blue: 10 });
    const backInfo = (await cd.send(new GetDeploymentCommand({ deploymentId: back }))).deploymentInfo!;
    expect(backInfo.status).toBe('Stopped');
    const rollbackId = backInfo.rollbackInfo!.rollbackDeploymentId!;
    const rollback = (await cd.send(new GetDeploymentCommand({ deploymentId: rollbackId }))).deploymentInfo!;
    expect(rollback).toMatchObject({
      creator: 'codeDeployRollback',
      rollbackInfo: { rollbackTriggeringDeploymentId: back },
    });

    const listed = await cd.send(
      new ListDeploymentsCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' }),
    );
    expect(listed.deployments).toEqual([rollbackId, back, kept]);
    const onlyStopped = await cd.send(new ListDeploymentsCommand({ includeOnlyStatuses: ['Stopped'] }));
    expect(onlyStopped.deployments).toEqual([back, kept]);
    expect((await failure(cd.send(new ListDeploymentsCommand({ applicationName: 'web' })))).name).toBe(
      'DeploymentGroupNameRequiredException',
    );
    const batch = await cd.send(new BatchGetDeploymentsCommand({ deploymentIds: [kept, back, 'd-AAAAAAAAA'] }));
    expect(batch.deploymentsInfo!.map((d) => d.deploymentId)).toEqual([kept, back]);
  });

  it('waits in Ready until ContinueDeployment, then shifts', async () => {
    const { sy, cd } = await setup();
    await createWebGroup(cd, {
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 },
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 0 },
      },
    });
    const deploymentId = await deploy(cd, {
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      revision: revision(ECS_APPSPEC),
    });
    const info = await until(
      () => cd.send(new GetDeploymentCommand({ deploymentId })),
      (d) => d.deploymentInfo?.status === 'Ready',
    );
    expect(info.deploymentInfo!.deploymentOverview).toMatchObject({ Ready: 1, InProgress: 0 });
    const target = await cd.send(new GetDeploymentTargetCommand({ deploymentId, targetId: 'main:web' }));
    expect(target.deploymentTarget!.ecsTarget!.status).toBe('Ready');
    expect(await count(sy, 4)).toEqual({ blue: 4 });
    expect(
      (await failure(cd.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'TERMINATION_WAIT' }))))
        .name,
    ).toBe('DeploymentIsNotInReadyStateException');

    await cd.send(new ContinueDeploymentCommand({ deploymentId }));
    await waitUntilDeploymentSuccessful({ client: cd, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { deploymentId });
    expect(await count(sy, 4)).toEqual({ green: 4 });
  });

  it('keeps the original routable through the termination wait until ContinueDeployment(TERMINATION_WAIT)', async () => {
    const { sy, cd } = await setup();
    await createWebGroup(cd, {
      blueGreenDeploymentConfiguration: {
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 60 },
      },
    });
    const deploymentId = await deploy(cd, {
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      revision: revision(ECS_APPSPEC),
    });
    const waiting = await until(
      () => cd.send(new GetDeploymentCommand({ deploymentId })),
      (d) => d.deploymentInfo?.instanceTerminationWaitTimeStarted === true,
    );
    // Traffic has moved, but the deployment is still in progress and can still roll back.
    expect(waiting.deploymentInfo!.status).toBe('InProgress');
    expect(await count(sy, 4)).toEqual({ green: 4 });
    expect(
      (await failure(cd.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'READY_WAIT' })))).name,
    ).toBe('DeploymentIsNotInReadyStateException');
    await cd.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'TERMINATION_WAIT' }));
    await waitUntilDeploymentSuccessful({ client: cd, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { deploymentId });
    expect(sy.traffic.service('web').live).toBe('2');
  });

  it('times out a hook that never reports: ScriptTimedOut, HOOK_EXECUTION_FAILURE, and a rollback', async () => {
    // The hook takes the invocation and never calls PutLifecycleEventHookExecutionStatus.
    const hook = await startUpstream('silent', (_req, res) => res.writeHead(202).end());
    const { sy, cd } = await setup({ silent: { url: hook.url, timeout: '1h' } });
    await createWebGroup(cd, {
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    });
    // At time scale 36,000 the hook's hour is 100 ms.
    const deploymentId = await deploy(
      cd,
      {
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        revision: revision(`${ECS_APPSPEC}Hooks:\n  - AfterInstall: silent\n`),
      },
      36_000,
    );
    const failed = await until(
      () => cd.send(new GetDeploymentCommand({ deploymentId })),
      (d) => d.deploymentInfo?.status === 'Failed',
    );
    expect(failed.deploymentInfo!.errorInformation).toMatchObject({ code: 'HOOK_EXECUTION_FAILURE' });
    expect(failed.deploymentInfo!.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    const target = await cd.send(new GetDeploymentTargetCommand({ deploymentId, targetId: 'main:web' }));
    const event = target.deploymentTarget!.ecsTarget!.lifecycleEvents!.find(
      (e) => e.lifecycleEventName === 'AfterInstall',
    );
    expect(event).toMatchObject({
      status: 'Failed',
      diagnostics: { errorCode: 'ScriptTimedOut', scriptName: 'silent' },
    });
    expect(await count(sy, 4)).toEqual({ blue: 4 });
  });

  it('refuses a deployment whose AppSpec names a hook the config does not define, before anything starts', async () => {
    const { sy, cd } = await setup({ smoke: { command: 'true' } });
    await createWebGroup(cd);
    const refused = await failure(
      deploy(cd, {
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        revision: revision(`${ECS_APPSPEC}Hooks:\n  - AfterInstall: check\n`),
      }),
    );
    expect(refused.name).toBe('InvalidRevisionException');
    expect(refused.message).toBe(
      'The AfterInstall hook cannot run: hook "check" is neither a name in the config\'s hooks: map (known hooks: smoke) nor an http(s) URL',
    );
    expect(sy.engine.list()).toEqual([]);
  });

  it('runs an HTTP hook that reports back through the AWS SDK, as a hook written for CodeDeploy does', async () => {
    const calls: { body: unknown; event: string }[] = [];
    // The SDK client exists only after setup(), which needs the hook's URL first.
    const sdk: { client?: CodeDeployClient } = {};
    // The hook answers 202 at once and reports later, as an asynchronously invoked Lambda hook would.
    const hook = await startUpstream('hook', (req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as { DeploymentId: string; LifecycleEventHookExecutionId: string };
        calls.push({ body, event: req.url ?? '' });
        res.writeHead(202).end();
        const status = req.url === '/fail' ? 'Failed' : 'Succeeded';
        void sdk.client!.send(
          new PutLifecycleEventHookExecutionStatusCommand({
            deploymentId: body.DeploymentId,
            lifecycleEventHookExecutionId: body.LifecycleEventHookExecutionId,
            status,
          }),
        );
      });
    });
    const { cd, sy } = await setup({ smoke: { url: `${hook.url}/ok` }, verify: { url: `${hook.url}/fail` } });
    sdk.client = cd;
    await createWebGroup(cd, {
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    });
    const ok = await deploy(cd, {
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      revision: revision(`${ECS_APPSPEC}Hooks:\n  - AfterInstall: smoke\n  - BeforeAllowTraffic: smoke\n`),
    });
    await waitUntilDeploymentSuccessful(
      { client: cd, maxWaitTime: 10, minDelay: 1, maxDelay: 1 },
      { deploymentId: ok },
    );
    expect(calls.map((c) => c.body)).toEqual([
      { DeploymentId: ok, LifecycleEventHookExecutionId: expect.any(String) },
      { DeploymentId: ok, LifecycleEventHookExecutionId: expect.any(String) },
    ]);
    const target = await cd.send(new GetDeploymentTargetCommand({ deploymentId: ok, targetId: 'main:web' }));
    const afterInstall = target.deploymentTarget!.ecsTarget!.lifecycleEvents!.find(
      (e) => e.lifecycleEventName === 'AfterInstall',
    );
    expect(afterInstall).toMatchObject({ status: 'Succeeded', diagnostics: { errorCode: 'Success' } });
    // A second report for the same execution is refused as CodeDeploy refuses it.
    const again = await failure(
      cd.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: ok,
          lifecycleEventHookExecutionId: (calls[0]!.body as { LifecycleEventHookExecutionId: string })
            .LifecycleEventHookExecutionId,
          status: 'Succeeded',
        }),
      ),
    );
    expect(again.name).toBe('LifecycleEventAlreadyCompletedException');

    // Version 2 is live now; the next deployment shifts back to 1 and its hook reports Failed.
    const bad = await deploy(cd, {
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      revision: revision(`${ECS_APPSPEC.replace('web:2', 'web:1')}Hooks:\n  - AfterAllowTraffic: verify\n`),
    });
    const failed = await until(
      () => cd.send(new GetDeploymentCommand({ deploymentId: bad })),
      (d) => d.deploymentInfo?.status === 'Failed',
    );
    expect(failed.deploymentInfo!.errorInformation).toMatchObject({ code: 'HOOK_EXECUTION_FAILURE' });
    expect(failed.deploymentInfo!.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    expect(await count(sy, 4)).toEqual({ green: 4 });
  });
});
