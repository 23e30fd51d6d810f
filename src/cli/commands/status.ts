/**
 * @module cli/commands/status
 * `switchyard status` and `switchyard list`: read-only views of deployments on a running switchyard.
 */
import { parseArgs } from 'node:util';
import { codedeploy, type CommandIo, ENDPOINT_OPTION, endpointOf } from './client.js';
import { type DeploymentInfo, getDeployment, getTarget, isoTime, summary, targetIdOf } from './view.js';

/** CodeDeploy's BatchGetDeployments limit. */
const BATCH = 25;

export async function status(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { ...ENDPOINT_OPTION, json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw io.usageError('status needs exactly one deployment ID');
  const id = positionals[0]!;
  const endpoint = endpointOf(values.endpoint, io);
  const info = await getDeployment(endpoint, id);
  const targetId = info.status === 'Created' ? undefined : await targetIdOf(endpoint, id);
  const target = targetId === undefined ? undefined : await getTarget(endpoint, id, targetId);
  if (values.json) {
    // GetDeployment's answer, plus the lifecycle events (with diagnostics and log tails) of its target.
    io.out(JSON.stringify({ ...info, lifecycleEvents: target?.events ?? [] }, null, 2));
    return 0;
  }
  for (const line of summary(info, target)) io.out(line);
  return 0;
}

export async function list(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { ...ENDPOINT_OPTION, app: { type: 'string' }, group: { type: 'string' } },
  });
  if (positionals.length) throw io.usageError('list takes no positional arguments');
  // CodeDeploy filters by a whole group or not at all; say so here rather than relay its exception.
  if ((values.app === undefined) !== (values.group === undefined)) throw io.usageError('list takes --app and --group together');
  const endpoint = endpointOf(values.endpoint, io);
  const filter = values.app === undefined ? {} : { applicationName: values.app, deploymentGroupName: values.group };
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page: { deployments?: string[]; nextToken?: string } = await codedeploy(endpoint, 'ListDeployments', {
      ...filter,
      ...(nextToken && { nextToken }),
    });
    ids.push(...(page.deployments ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  if (ids.length === 0) {
    io.err('no deployments');
    return 0;
  }
  for (let i = 0; i < ids.length; i += BATCH) {
    const { deploymentsInfo = [] } = await codedeploy<{ deploymentsInfo?: DeploymentInfo[] }>(endpoint, 'BatchGetDeployments', {
      deploymentIds: ids.slice(i, i + BATCH),
    });
    // The batch answer's order is not promised; keep ListDeployments' newest-first order.
    const byId = new Map(deploymentsInfo.map((d) => [d.deploymentId, d]));
    for (const id of ids.slice(i, i + BATCH)) {
      const d = byId.get(id);
      if (!d) continue;
      io.out(
        `${d.deploymentId}  ${d.status.padEnd(10)} ${d.applicationName ?? '-'}/${d.deploymentGroupName ?? '-'}  ${isoTime(d.createTime)}`,
      );
    }
  }
  return 0;
}
