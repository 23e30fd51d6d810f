/**
 * @module cli/commands/status
 * `switchyard status` and `switchyard list`: read-only views of deployments on a running switchyard.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import type { BatchGetDeploymentsAnswer, ListDeploymentsAnswer } from '../../api/codedeploy/answers.js';
import type { StreamedEvent, TimelineAnswer, TimelineEntry } from '../../api/rest/wire.js';
import { isSwitchyardError } from '../../core/errors.js';
import {
  codedeploy,
  type CommandIo,
  type Endpoint,
  ENDPOINT_OPTION,
  endpointOf,
  rest,
  streamEvents,
} from './client.js';
import { getDeployment, getTarget, isoTime, outcomeLines, summary, targetIdOf, TERMINAL } from './view.js';

const EXIT_BY_STATUS: Record<string, number> = { Succeeded: 0, Failed: 3, Stopped: 4 };

/** CodeDeploy's BatchGetDeployments limit. */
const BATCH = 25;

/** A deployment's summary (or `--json`), or with `--watch` its events until it ends. */
export async function status(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ...ENDPOINT_OPTION,
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw io.usageError('status needs exactly one deployment ID');
  const id = positionals[0]!;
  const endpoint = endpointOf(values, io);
  if (values.watch) return watch(endpoint, id, io);
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

/** Every deployment (or a group's), newest first, one line each. */
export async function list(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { ...ENDPOINT_OPTION, app: { type: 'string' }, group: { type: 'string' } },
  });
  if (positionals.length) throw io.usageError('list takes no positional arguments');
  // CodeDeploy filters by a whole group or not at all; say so here rather than relay its exception.
  if ((values.app === undefined) !== (values.group === undefined))
    throw io.usageError('list takes --app and --group together');
  const endpoint = endpointOf(values, io);
  const filter = values.app === undefined ? {} : { applicationName: values.app, deploymentGroupName: values.group };
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await codedeploy<ListDeploymentsAnswer>(endpoint, 'ListDeployments', {
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
    const { deploymentsInfo = [] } = await codedeploy<Partial<BatchGetDeploymentsAnswer>>(
      endpoint,
      'BatchGetDeployments',
      {
        deploymentIds: ids.slice(i, i + BATCH),
      },
    );
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

/** How long `--watch` keeps trying to reach a switchyard that went away (a restart) before it gives up. */
const RECONNECT_FOR_MS = 60_000;
const RECONNECT_EVERY_MS = 500;

/**
 * `status ID --watch`: the deployment's events as they happen (from its start, while the server still
 * holds them), one line each, until it ends; exits like `deploy --wait` (0, 3, 4). When switchyard goes
 * away meanwhile (a restart), it reconnects with the id of the last event it printed, so it goes on where
 * it was once switchyard is back.
 */
async function watch(endpoint: Endpoint, id: string, io: CommandIo): Promise<number> {
  let info = await getDeployment(endpoint, id);
  // The whole timeline so far (kept across restarts), then the stream from Last-Event-ID 0: every event
  // the server still holds, then the live ones; what both give is printed once.
  const printed = new Set<string>();
  const print = (event: TimelineEntry): void => {
    const detail = Object.entries(event.detail)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const line = `${new Date(event.wallTime).toISOString().slice(11, 23)}  ${(event.status ?? '').padEnd(10)} ${event.message}${detail ? `  ${detail}` : ''}`;
    if (printed.has(line)) return;
    printed.add(line);
    io.out(line);
  };
  if (!TERMINAL.has(info.status)) {
    const history = await rest<TimelineAnswer>(endpoint, 'GET', `/v1/deployments/${encodeURIComponent(id)}/events`);
    for (const event of history.events) print(event);
  }
  let lastId = '0';
  let lostSince: number | undefined;
  let reconnected = false;
  while (!TERMINAL.has(info.status)) {
    let ended = false;
    try {
      await streamEvents(
        endpoint,
        `/v1/events?deploymentId=${encodeURIComponent(id)}`,
        { 'last-event-id': lastId },
        (sse) => {
          lostSince = undefined;
          lastId = sse.id ?? lastId;
          const event = JSON.parse(sse.data) as StreamedEvent;
          print(event);
          ended = event.status !== undefined && TERMINAL.has(event.status);
          return ended;
        },
      );
    } catch (err) {
      if (!isSwitchyardError(err) || err.code !== 'UPSTREAM_UNREACHABLE') throw err;
    }
    if (ended) break;
    // The stream closed before the deployment ended: switchyard stopped. Wait for it to be back.
    reconnected = true;
    if (lostSince === undefined) {
      lostSince = Date.now();
      io.err(`lost the connection to ${endpoint.url}; reconnecting for up to ${RECONNECT_FOR_MS / 1000} s`);
    }
    for (;;) {
      await sleep(RECONNECT_EVERY_MS);
      try {
        info = await getDeployment(endpoint, id);
        break;
      } catch (err) {
        if (!isSwitchyardError(err) || err.code !== 'UPSTREAM_UNREACHABLE' || Date.now() - lostSince > RECONNECT_FOR_MS)
          throw err;
      }
    }
  }
  if (reconnected) {
    // It may have ended while the watch was away (a rollback at start, say): what it missed is in the timeline.
    const history = await rest<TimelineAnswer>(endpoint, 'GET', `/v1/deployments/${encodeURIComponent(id)}/events`);
    for (const event of history.events) print(event);
  }
  const end = await getDeployment(endpoint, id);
  io.out(`${id} ${end.status}`);
  for (const line of outcomeLines(end)) {
    if (end.status === 'Succeeded') io.out(line);
    else io.err(line);
  }
  return EXIT_BY_STATUS[end.status] ?? 1;
}
