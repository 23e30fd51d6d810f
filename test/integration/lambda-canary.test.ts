/**
 * Lambda's API on a whole switchyard (`startProxy`, function versions run by its function host) while a
 * CodeDeploy Lambda canary shifts the alias: a client invokes the alias without pause and counts
 * `X-Amz-Executed-Version`; at each step of the schedule the versions ran in exactly the step's share
 * (within one invocation, for the window a step change falls in), and GetAlias, read throughout, shows
 * the step in force, as AWS shows the alias moving. UpdateAlias is refused while the deployment shifts the
 * alias, naming it.
 */
import { CreateDeploymentConfigCommand, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, type GetAliasCommandOutput, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { Agent, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { createFunctionGroup, functionDeployment, sdkClient, until } from '../support/codedeploy.js';
import { apiHandler, lambdaClient } from '../support/functions-api.js';
import { startProxy } from '../support/switchyard.js';

/** A 10% canary held one minute, played 20 times faster: 3 s at 10%. */
const TIME_SCALE = 20;

/** Version 2's production share in percent, read from the traffic state (what the alias is). */
const share = (sy: Switchyard) => sy.traffic.service('web').weights.production['2'] ?? 0;

/** Starts the canary of version 2 over the alias; resolves with the deployment's id. */
async function startCanary(sy: Switchyard): Promise<string> {
  const cd = sdkClient(sy);
  await cd.send(
    new CreateDeploymentConfigCommand({
      deploymentConfigName: 'Canary10Percent1Minute',
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 1 } },
    }),
  );
  await createFunctionGroup(cd, { deploymentConfigName: 'Canary10Percent1Minute' });
  const command = functionDeployment();
  // switchyard's own time scale, which the SDK has no member for: added to the body before it is signed.
  command.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { body: string | Uint8Array };
      const text = typeof req.body === 'string' ? req.body : new TextDecoder().decode(req.body);
      req.body = JSON.stringify({ ...(JSON.parse(text) as object), switchyardTimeScale: TIME_SCALE });
      return next(args);
    },
    { step: 'build', priority: 'high' },
  );
  const { deploymentId } = await cd.send(command);
  return deploymentId!;
}

/** One alias invocation, with the share in force just before and just after it. */
interface Invocation {
  readonly before: number;
  readonly after: number;
  readonly version: string;
}

/** One GetAlias, with the traffic state just before and just after it. */
interface AliasReading {
  readonly before: { live: string; share: number };
  readonly after: { live: string; share: number };
  readonly alias: GetAliasCommandOutput;
}

describe('a Lambda canary through CodeDeploy, watched through the Lambda API', () => {
  it('splits alias invocations exactly by each step’s share, and GetAlias shows each step', async () => {
    const sy = await startProxy({
      services: [
        {
          name: 'web',
          live: '1',
          versions: {
            '1': { lambda: { handler: apiHandler('echo') } },
            '2': { lambda: { handler: apiHandler('echo') } },
          },
        },
      ],
    });
    const control = sy.urls['control']!;
    const lambda = lambdaClient(control);
    const agent = new Agent({ connections: 1 });
    onTestFinished(() => agent.close());
    const invocations: Invocation[] = [];
    const readings: AliasReading[] = [];
    const state = () => ({ live: sy.traffic.service('web').live, share: share(sy) });

    const deploymentId = await startCanary(sy);
    // UpdateAlias is refused while the deployment shifts the alias.
    await until(
      () => share(sy),
      (s) => s === 10,
      15_000,
      5,
      'the canary step',
    );
    const conflict = await lambda
      .send(new UpdateAliasCommand({ FunctionName: 'web', Name: 'live', FunctionVersion: '2' }))
      .then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    expect(conflict?.name).toBe('ResourceConflictException');
    expect(conflict?.message).toContain(deploymentId);

    let done = false;
    let afterDone = 0;
    for (let i = 0; afterDone < 50 && i < 50_000; i++) {
      const before = share(sy);
      const res = await request(`${control}/2015-03-31/functions/web/invocations?Qualifier=live`, {
        method: 'POST',
        body: '{}',
        dispatcher: agent,
      });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
      invocations.push({ before, after: share(sy), version: String(res.headers['x-amz-executed-version']) });
      if (i % 25 === 0) {
        const was = state();
        const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'web', Name: 'live' }));
        readings.push({ before: was, after: state(), alias });
      }
      if (!done && i % 50 === 0) {
        const status = (await sdkClient(sy).send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status;
        done = status === 'Succeeded';
        expect(['Created', 'InProgress', 'Succeeded']).toContain(status);
      }
      if (done) afterDone++;
    }
    expect(done).toBe(true);

    // Each step: the invocations made wholly within it ran in exactly its share, give or take the one a
    // step change can split.
    const steps = new Map<number, string[]>();
    for (const inv of invocations) {
      if (inv.before !== inv.after) continue;
      steps.set(inv.before, [...(steps.get(inv.before) ?? []), inv.version]);
    }
    expect([...steps.keys()]).toEqual(expect.arrayContaining([10, 100]));
    for (const [percent, versions] of steps) {
      const onTarget = versions.filter((v) => v === '2').length;
      expect(new Set(versions).size <= 2 && versions.every((v) => v === '1' || v === '2')).toBe(true);
      expect(
        Math.abs(onTarget - (versions.length * percent) / 100),
        `${percent}%: ${onTarget}/${versions.length}`,
      ).toBeLessThanOrEqual(1);
    }
    expect(steps.get(10)!.length).toBeGreaterThan(100);

    // GetAlias agrees with the step in force whenever the step did not change around the reading.
    const stable = readings.filter((r) => r.before.live === r.after.live && r.before.share === r.after.share);
    expect(stable.length).toBeGreaterThan(5);
    for (const { before, alias } of stable) {
      expect(alias.FunctionVersion).toBe(before.live);
      const additional = alias.RoutingConfig?.AdditionalVersionWeights ?? {};
      const expected = before.live === '1' && before.share > 0 ? { '2': before.share / 100 } : {};
      expect(additional).toEqual(expected);
    }
    expect(stable.some((r) => r.alias.RoutingConfig?.AdditionalVersionWeights?.['2'] === 0.1)).toBe(true);
    const final = await lambda.send(new GetAliasCommand({ FunctionName: 'web', Name: 'live' }));
    expect(final.FunctionVersion).toBe('2');
    expect(final.RoutingConfig).toBeUndefined();
  });
});
