/**
 * @module cli/commands/deploy
 * `switchyard deploy`: CreateDeployment from an AppSpec file on a running switchyard and, with `--wait`,
 * follow it to the end. The exit code says how it ended (0 Succeeded, 3 Failed, 4 Stopped) so scripts
 * and CI can branch on it without parsing output.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import type { CreateDeploymentAnswer } from '../../api/codedeploy/answers.js';
import { parseAppSpec } from '../../appspec/parse.js';
import { describeError } from '../../core/describe-error.js';
import { SwitchyardError } from '../../core/errors.js';
import { codedeploy, type CommandIo, type Endpoint, ENDPOINT_OPTION, endpointOf } from './client.js';
import { getDeployment, getTarget, outcomeLines, progressLine, targetIdOf, type TargetView, TERMINAL } from './view.js';

const POLL_MS = 250;
const EXIT_BY_STATUS: Record<string, number> = { Succeeded: 0, Failed: 3, Stopped: 4 };

/** CreateDeployment from `--appspec`; prints the id, and with `--wait` follows it to the end. */
export async function deploy(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ...ENDPOINT_OPTION,
      app: { type: 'string' },
      group: { type: 'string' },
      appspec: { type: 'string' },
      config: { type: 'string' },
      'time-scale': { type: 'string' },
      description: { type: 'string' },
      wait: { type: 'boolean', default: false },
    },
  });
  if (positionals.length) throw io.usageError(`deploy takes no positional arguments (got "${positionals.join(' ')}")`);
  if (!values.app || !values.group || !values.appspec)
    throw io.usageError('deploy needs --app A --group G --appspec FILE');
  let timeScale: number | undefined;
  if (values['time-scale'] !== undefined) {
    timeScale = Number(values['time-scale']);
    if (!Number.isFinite(timeScale) || timeScale <= 0) {
      throw io.usageError(`--time-scale must be a positive number, got "${values['time-scale']}"`);
    }
  }
  const endpoint = endpointOf(values, io);
  let content: string;
  try {
    content = await readFile(values.appspec, 'utf8');
  } catch (cause) {
    throw new SwitchyardError('CONFIG_NOT_FOUND', `cannot read ${values.appspec}: ${describeError(cause)}`, { cause });
  }
  // Checked here first, so a mistake is reported against the file's own name and lines (exit 2).
  parseAppSpec(content, values.appspec);

  const { deploymentId } = await codedeploy<CreateDeploymentAnswer>(endpoint, 'CreateDeployment', {
    applicationName: values.app,
    deploymentGroupName: values.group,
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
    ...(values.config !== undefined && { deploymentConfigName: values.config }),
    ...(values.description !== undefined && { description: values.description }),
    ...(timeScale !== undefined && { switchyardTimeScale: timeScale }),
  });
  io.out(deploymentId);
  if (!values.wait) return 0;
  return follow(endpoint, deploymentId, io);
}

/**
 * Polls until the deployment ends. On a terminal the line is redrawn in place; elsewhere (logs, CI,
 * pipes) a line is printed only when something changed, so the output stays a readable history.
 */
async function follow(endpoint: Endpoint, id: string, io: CommandIo): Promise<number> {
  const tty = process.stdout.isTTY;
  let targetId: string | undefined;
  let last = '';
  for (;;) {
    const info = await getDeployment(endpoint, id);
    if (targetId === undefined && info.status !== 'Created') targetId = await targetIdOf(endpoint, id);
    const target: TargetView | undefined = targetId === undefined ? undefined : await getTarget(endpoint, id, targetId);
    const line = progressLine(info, target);
    if (line !== last) {
      if (tty) process.stdout.write(`\r\x1b[2K${line}`);
      else io.out(line);
      last = line;
    }
    if (TERMINAL.has(info.status)) {
      if (tty) process.stdout.write('\n');
      for (const l of outcomeLines(info)) {
        if (info.status === 'Succeeded') io.out(l);
        else io.err(l);
      }
      return EXIT_BY_STATUS[info.status] ?? 1;
    }
    await sleep(POLL_MS);
  }
}
