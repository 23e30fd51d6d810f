/**
 * What tests that speak CodeDeploy's API share: an AWS SDK client for a running switchyard (destroyed
 * when the test finishes), a count of which version answers, and (from ./until.js, re-exported for the
 * tests that take it from here) the bounded poll.
 */
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  type CreateDeploymentCommandInput,
  CreateDeploymentGroupCommand,
  type CreateDeploymentGroupCommandInput,
} from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { onTestFinished } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { ECS_APPSPEC, ECS_GROUP, LAMBDA_APPSPEC } from './appspecs.js';
import { until } from './until.js';

/** An SDK client for the control port of `sy` (in process or a child); any credentials do, and nothing is retried. */
export function sdkClient(sy: Pick<Switchyard, 'urls'>): CodeDeployClient {
  const cd = new CodeDeployClient({
    region: 'us-east-1',
    endpoint: sy.urls['control'],
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  onTestFinished(() => cd.destroy());
  return cd;
}

/** Polls a reading until a condition holds, failing after a deadline with the last value seen. */
export { until } from './until.js';

/** Which upstream (by its answer) serves each of `n` sequential requests to `sy`'s production listener. */
export async function count(sy: Switchyard, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await request(`${sy.urls['production']}/`);
    const name = await res.body.text();
    seen[name] = (seen[name] ?? 0) + 1;
  }
  return seen;
}

/** Application `web` (ECS) and its group `web-prod` for service `web`: ECS_GROUP with `settings` over it. */
export async function createWebGroup(
  cd: CodeDeployClient,
  settings: Partial<Omit<CreateDeploymentGroupCommandInput, 'applicationName' | 'deploymentGroupName'>> = {},
): Promise<void> {
  await cd.send(new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'ECS' }));
  await cd.send(
    new CreateDeploymentGroupCommand({
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      ...ECS_GROUP,
      ...settings,
    }),
  );
}

/** Deploys version 2 of `web` through group `web-prod` (with `extra` request members); resolves with its id. */
export async function deployWeb(
  cd: CodeDeployClient,
  extra: Partial<Omit<CreateDeploymentCommandInput, 'applicationName' | 'deploymentGroupName'>> = {},
): Promise<string> {
  const { deploymentId } = await cd.send(
    new CreateDeploymentCommand({
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ECS_APPSPEC } },
      ...extra,
    }),
  );
  return deploymentId!;
}

/**
 * A 10% canary of version 2 held 15 minutes, with `alarm` watched and a rollback when it fires; resolves
 * with the deployment's id once the replacement has its 10%.
 */
export async function deployWatchedCanary(
  cd: CodeDeployClient,
  sy: Pick<Switchyard, 'traffic'>,
  alarm = 'green-errors',
): Promise<string> {
  await createWebGroup(cd, {
    deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
    alarmConfiguration: { enabled: true, alarms: [{ name: alarm }] },
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
  });
  const deploymentId = await deployWeb(cd);
  await until(
    async () => sy.traffic.service('web').weights.production['2'],
    (w) => w === 10,
  );
  return deploymentId;
}

/** Application `fn` (Lambda) and its group `fn-live` for function `web`, with `settings` over the defaults. */
export async function createFunctionGroup(
  cd: CodeDeployClient,
  settings: Partial<Omit<CreateDeploymentGroupCommandInput, 'applicationName' | 'deploymentGroupName'>> = {},
): Promise<void> {
  await cd.send(new CreateApplicationCommand({ applicationName: 'fn', computePlatform: 'Lambda' }));
  await cd.send(
    new CreateDeploymentGroupCommand({
      applicationName: 'fn',
      deploymentGroupName: 'fn-live',
      serviceRoleArn: ECS_GROUP.serviceRoleArn,
      ...settings,
    }),
  );
}

/** The deployment (not sent yet) of version 2 of function `web` through group `fn-live`, as LAMBDA_APPSPEC says. */
export function functionDeployment(): CreateDeploymentCommand {
  return new CreateDeploymentCommand({
    applicationName: 'fn',
    deploymentGroupName: 'fn-live',
    revision: { revisionType: 'String', string: { content: LAMBDA_APPSPEC } },
  });
}
