/**
 * @module cli/commands/control
 * `switchyard stop`, `continue`, `promote` and `weight`: commands that change what a running switchyard does.
 */
import { parseArgs } from 'node:util';

import type { StopDeploymentAnswer } from '../../api/codedeploy/answers.js';
import type { PromoteAnswer, ServiceAnswer, SetWeightBody } from '../../api/rest/wire.js';
import { codedeploy, type CommandIo, ENDPOINT_OPTION, endpointOf, rest } from './client.js';

/** StopDeployment, with `--rollback` to send traffic back to the original. */
export async function stop(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { ...ENDPOINT_OPTION, rollback: { type: 'boolean' } },
  });
  if (positionals.length !== 1) throw io.usageError('stop needs exactly one deployment ID');
  const endpoint = endpointOf(values, io);
  // Without --rollback the member is left out, so the deployment's own autoRollbackConfiguration decides,
  // as with awscli.
  const answer = await codedeploy<StopDeploymentAnswer>(endpoint, 'StopDeployment', {
    deploymentId: positionals[0],
    ...(values.rollback && { autoRollbackEnabled: true }),
  });
  io.out(`${positionals[0]!}: ${answer.statusMessage ?? answer.status ?? 'stopped'}`);
  return 0;
}

/** ContinueDeployment: ends a ready wait, or with `--termination` a termination wait. */
export async function continueDeployment(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { ...ENDPOINT_OPTION, termination: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw io.usageError('continue needs exactly one deployment ID');
  const endpoint = endpointOf(values, io);
  const waitType = values.termination ? 'TERMINATION_WAIT' : 'READY_WAIT';
  await codedeploy(endpoint, 'ContinueDeployment', { deploymentId: positionals[0], deploymentWaitType: waitType });
  io.out(`${positionals[0]!}: continued (${waitType})`);
  return 0;
}

/** Skips the rest of a deployment's shift schedule (a switchyard extension; CodeDeploy has no such call). */
export async function promote(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: ENDPOINT_OPTION });
  if (positionals.length !== 1) throw io.usageError('promote needs exactly one deployment ID');
  const endpoint = endpointOf(values, io);
  const id = encodeURIComponent(positionals[0]!);
  const answer = await rest<PromoteAnswer>(endpoint, 'POST', `/v1/deployments/${id}/promote`);
  io.out(`${positionals[0]!}: promoted (${answer.status}); the target version takes all production traffic`);
  return 0;
}

/**
 * Sets a version's share of production traffic outside a deployment; without `--version`, the one
 * version besides the live one.
 */
export async function weight(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { ...ENDPOINT_OPTION, version: { type: 'string' } },
  });
  if (positionals.length !== 2) throw io.usageError('weight needs SERVICE PERCENT');
  const [service, rawPercent] = positionals as [string, string];
  const percent = Number(rawPercent);
  if (rawPercent.trim() === '' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw io.usageError(`PERCENT must be a number from 0 to 100, got "${rawPercent}"`);
  }
  const endpoint = endpointOf(values, io);
  const path = `/v1/services/${encodeURIComponent(service)}`;
  let version = values.version;
  if (version === undefined) {
    const view = await rest<ServiceAnswer>(endpoint, 'GET', path);
    const others = view.versions.map((v) => v.label).filter((l) => l !== view.live);
    if (others.length !== 1) {
      throw io.usageError(
        `service "${service}" has ${others.length === 0 ? 'no version besides' : 'several versions besides'} the live one (${view.live})` +
          (others.length ? `: name one with --version (${others.join(', ')})` : ''),
      );
    }
    version = others[0]!;
  }
  const body: SetWeightBody = { version, percent };
  const view = await rest<ServiceAnswer>(endpoint, 'PUT', `${path}/weight`, body);
  const weights = Object.entries(view.weights.production)
    .map(([label, p]) => `${label}${label === view.live ? ' (live)' : ''} ${p}%`)
    .join(', ');
  io.out(`${view.name}: production weights ${weights}`);
  return 0;
}
