/**
 * Request bodies nested deeper than the control API takes: refused before they reach the registry or the
 * store, in CodeDeploy's form on `POST /` and in the REST form elsewhere, and nothing is left half-made.
 */
import {
  type CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentGroupCommand,
  ListDeploymentGroupsCommand,
} from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { ECS_GROUP } from '../support/appspecs.js';
import { sdkClient } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

/** `{"a":{"a":…1…}}`, `levels` objects deep, as text (the SDK could not serialise it). */
function deep(levels: number): string {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

async function setup() {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  const sy = await startProxy(twoVersions(blue.url, green.url));
  const cd = sdkClient(sy);
  /** A raw CodeDeploy call with `body` as its exact text. */
  const call = async (operation: string, body: string) => {
    const res = await request(`${sy.urls['control']}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${operation}` },
      body,
    });
    return { status: res.statusCode, body: (await res.body.json()) as { __type?: string; message?: string } };
  };
  return { sy, cd, call };
}

const ROLE = ECS_GROUP.serviceRoleArn;

/** Application `fleet` (Server, where tag sets belong) and its group `hosts`. */
async function createFleet(cd: CodeDeployClient): Promise<void> {
  await cd.send(new CreateApplicationCommand({ applicationName: 'fleet', computePlatform: 'Server' }));
  await cd.send(
    new CreateDeploymentGroupCommand({ applicationName: 'fleet', deploymentGroupName: 'hosts', serviceRoleArn: ROLE }),
  );
}

/** A CreateDeploymentGroup body for `fleet`/`name` whose `field` is `value` (raw JSON text). */
function groupBody(name: string, field: string, value: string): string {
  const head = JSON.stringify({ applicationName: 'fleet', deploymentGroupName: name, serviceRoleArn: ROLE });
  return `${head.slice(0, -1)},"${field}":${value}}`;
}

describe('request body nesting', () => {
  it('refuses a CreateDeploymentGroup nested 10,000 deep and creates nothing', async () => {
    const { cd, call } = await setup();
    await createFleet(cd);
    const answer = await call('CreateDeploymentGroup', groupBody('deep', 'ec2TagSet', deep(10_000)));
    expect(answer.status).toBe(400);
    expect(answer.body.__type).toBe('SerializationException');
    expect(answer.body.message).toMatch(/64/);

    await expect(
      cd.send(new GetDeploymentGroupCommand({ applicationName: 'fleet', deploymentGroupName: 'deep' })),
    ).rejects.toMatchObject({ name: 'DeploymentGroupDoesNotExistException' });
    const list = await cd.send(new ListDeploymentGroupsCommand({ applicationName: 'fleet' }));
    expect(list.deploymentGroups).toEqual(['hosts']);
  });

  it('refuses an UpdateDeploymentGroup nested 10,000 deep and leaves the group as it was', async () => {
    const { cd, call } = await setup();
    await createFleet(cd);
    const get = () =>
      cd.send(new GetDeploymentGroupCommand({ applicationName: 'fleet', deploymentGroupName: 'hosts' }));
    const before = (await get()).deploymentGroupInfo;
    const body = `{"applicationName":"fleet","currentDeploymentGroupName":"hosts","onPremisesTagSet":${deep(10_000)}}`;
    const answer = await call('UpdateDeploymentGroup', body);
    expect(answer.status).toBe(400);
    expect(answer.body.__type).toBe('SerializationException');
    expect((await get()).deploymentGroupInfo).toEqual(before);
  });

  it('takes a body exactly 64 levels deep and refuses one level more', async () => {
    const { cd, call } = await setup();
    await createFleet(cd);
    // The body itself is level 1 and ec2TagSet's object level 2: 62 more reach 64.
    const at = await call('CreateDeploymentGroup', groupBody('at-limit', 'ec2TagSet', deep(63)));
    expect(at.status).toBe(200);
    const over = await call('CreateDeploymentGroup', groupBody('over-limit', 'ec2TagSet', deep(64)));
    expect(over).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
    // Brackets inside strings are text, not nesting.
    const quoted = JSON.stringify('{['.repeat(1000));
    const named = await call('ListDeploymentGroups', `{"applicationName":"fleet","nextToken":${quoted}}`);
    expect(named.body.__type).not.toBe('SerializationException');
  });

  it('bounds a CodeDeploy body at 1 MiB as well', async () => {
    const { call } = await setup();
    const huge = JSON.stringify({ applicationName: 'x'.repeat(1024 * 1024) });
    expect(await call('GetApplication', huge)).toMatchObject({
      status: 400,
      body: { __type: 'SerializationException' },
    });
  });

  it('refuses a REST body nested 10,000 deep with a 400 JSON error', async () => {
    const { sy } = await setup();
    for (const [method, path] of [
      ['PUT', '/v1/alarms/deep'],
      ['PUT', '/v1/services/web/weight'],
      ['POST', '/v1/deployment-configs'],
    ] as const) {
      const res = await request(`${sy.urls['control']}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: deep(10_000),
      });
      expect(res.statusCode, `${method} ${path}`).toBe(400);
      const body = (await res.body.json()) as { error: string; message: string };
      expect(body.error).toBe('ARGUMENTS_INVALID');
      expect(body.message).toMatch(/64/);
    }
    const alarms = await request(`${sy.urls['control']}/v1/alarms`);
    expect(alarms.statusCode).toBe(200);
    expect(((await alarms.body.json()) as { alarms: object }).alarms).not.toHaveProperty('deep');
  });
});
