#!/usr/bin/env node
/**
 * @module cli/main
 * The `switchyard` command. One try/catch maps errors to exit codes: 0 clean stop, 2 bad config or
 * arguments, 1 anything else (a server's error as `error: <__type>: <message>`). The commands that drive
 * a running switchyard live in ./commands and may return an exit code of their own (deploy --wait: 3
 * Failed, 4 Stopped).
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { isLoopbackHost } from '../api/auth/exposure.js';
import { loadConfig, parseConfig } from '../app/config.js';
import { followControlPlane } from '../app/fleet/follow.js';
import { urlOf } from '../app/phases/listen.js';
import { startSwitchyard } from '../app/start.js';
import { parseAppSpec } from '../appspec/parse.js';
import { loadDataPlaneConfig, parseDataPlaneConfig } from '../config/data-plane.js';
import { describeError } from '../core/describe-error.js';
import { formatIssue, isSwitchyardError, SwitchyardError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { isHttpUrl } from '../core/url.js';
import { readYaml } from '../core/yaml-source.js';
import { parseExperiment } from '../lab/experiment.js';
import { configuredShelf } from '../lab/report/shelf.js';
import { type CommandIo, DEFAULT_ENDPOINT, isRemoteError } from './commands/client.js';
import { continueDeployment, promote, stop, weight } from './commands/control.js';
import { demo } from './commands/demo.js';
import { deploy } from './commands/deploy.js';
import { experiment } from './commands/experiment.js';
import { list, status } from './commands/status.js';
import { untilSignal } from './until-signal.js';

const USAGE = `usage: switchyard <command> [options]

commands:
  serve --config FILE [--store memory|FILE|postgres://...] [--workers N|auto]
                          start the proxy and the control API from a config file; --store
                          overrides the config's store (memory: nothing kept after exit);
                          --workers runs the proxy in N processes (auto: one per core; 0: none here)
  serve --data-plane --config FILE --control URL[,URL...] [--name NAME] [--token TOKEN]
                          a data plane only, on this host's listeners (FILE holds them), following
                          the control planes at URL (tried in turn) with the control API's token
  validate FILE [--data-plane]
                          check a config file, an AppSpec, an experiment or (--data-plane, or a
                          file naming controlPlanes) a data plane's config without starting anything
  demo                    two demo versions behind the proxy, and a canary from one to the other
  experiment run FILE [--out DIR] [--mode live|sim|both] [--repeat N]
                          the policy lab: every policy × scenario of an experiment file, live
                          and simulated; prints the comparison, writes report.json/.md/.html
                          (default --out lab-reports/<name>)

commands that drive a running switchyard (--endpoint URL, default $SWITCHYARD_ENDPOINT or
${DEFAULT_ENDPOINT}; with control.auth on the server, --token TOKEN or $SWITCHYARD_TOKEN, and
$AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY to sign CodeDeploy calls):
  deploy --app A --group G --appspec FILE [--config NAME] [--time-scale N] [--description D] [--wait]
                          create a deployment and print its id; --wait follows it to the end
  status ID [--json] [--watch]
                          a deployment's status, versions, weight and lifecycle events;
                          --watch prints its events as they happen until it ends (exit 0, 3, 4)
  list [--app A --group G]
                          deployments, newest first
  stop ID [--rollback]    stop a deployment (--rollback sends traffic back to the original)
  continue ID [--termination]
                          end a ready wait (or, with --termination, a termination wait)
  promote ID              skip the rest of the shift: the target version takes all traffic now
  weight SERVICE PERCENT [--version LABEL]
                          set a version's share of production traffic outside a deployment

exit codes: 0 success or clean stop, 1 failure or server error, 2 bad config or arguments,
            3 deployment Failed, 4 deployment Stopped (deploy --wait), 130 experiment interrupted`;

const out = (text: string) => process.stdout.write(`${text}\n`);

function usageError(message: string): SwitchyardError {
  return new SwitchyardError('ARGUMENTS_INVALID', `${message}\n\n${USAGE}`);
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      store: { type: 'string' },
      workers: { type: 'string' },
      'data-plane': { type: 'boolean' },
      control: { type: 'string' },
      name: { type: 'string' },
      token: { type: 'string' },
    },
    strict: true,
  });
  if (!values.config) throw usageError('serve needs --config FILE');
  if (values['data-plane']) {
    if (values.store !== undefined || values.workers !== undefined)
      throw usageError(
        'a data plane keeps no store and runs no workers: --store and --workers are for a control plane',
      );
    return serveDataPlane({ ...values, config: values.config });
  }
  if (values.control !== undefined || values.name !== undefined || values.token !== undefined)
    throw usageError('--control, --name and --token go with --data-plane');
  if (values.store === '') throw usageError('--store needs memory, a file or a postgres:// URL');
  const workers = values.workers === undefined ? undefined : workersOf(values.workers);
  const loaded = await loadConfig(values.config);
  // A file given here is relative to where the command runs, as any command-line path is.
  const store =
    values.store === undefined
      ? loaded.store
      : values.store === 'memory'
        ? 'memory'
        : /^postgres(ql)?:\/\//.test(values.store)
          ? { postgres: values.store }
          : { sqlite: resolve(values.store) };
  const config = { ...loaded, store, ...(workers !== undefined && { workers }) };
  const sy = await startSwitchyard(config, { labReports: configuredShelf(config.control) });
  sy.log.info({ urls: sy.urls, services: config.services.map((s) => s.name) }, 'switchyard is serving');
  await untilSignal(sy);
}

/** `--workers N|auto` as the config's `workers` takes it. */
function workersOf(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 0 || n > 256)
    throw usageError(`--workers needs a number from 0 to 256 or auto, got "${text}"`);
  return n;
}

/** `serve --data-plane`: proxies on this host's listeners as the control planes' tables say, until a signal. */
async function serveDataPlane(values: {
  config: string;
  control?: string | undefined;
  name?: string | undefined;
  token?: string | undefined;
}): Promise<void> {
  const config = await loadDataPlaneConfig(values.config);
  const controlUrls = values.control?.split(',').map((u) => u.trim()) ?? config.controlPlanes ?? [];
  if (controlUrls.length === 0) throw usageError('a data plane needs --control URL (or controlPlanes in its config)');
  for (const url of controlUrls) if (!isHttpUrl(url)) throw usageError(`--control needs http(s) URLs, got "${url}"`);
  const name = values.name ?? config.name ?? `${hostname()}:${process.pid}`;
  const log = createLogger({ level: config.logLevel }).child({ component: 'data-plane', dataPlane: name });
  const follower = followControlPlane({
    controlUrls,
    token: (values.token ?? process.env['SWITCHYARD_TOKEN']) || undefined,
    name,
    listeners: config.listeners,
    log,
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal, drainTimeoutMs: config.drainTimeout }, 'stopping: draining in-flight requests');
    void follower.stop(config.drainTimeout);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const addresses = await Promise.race([follower.serving, follower.ended.then(() => undefined)]);
  if (addresses) {
    const urls = Object.fromEntries(Object.entries(addresses).map(([k, a]) => [k, urlOf(a)]));
    log.info({ urls, controlPlanes: controlUrls }, 'switchyard is serving');
  }
  await follower.ended;
  log.info('stopped');
}

/** Whether a document is an AppSpec (it has `Resources` or `version` at the top, in any case) rather than a config. */
/**
 * What a file to validate looks like from its top-level keys: an AppSpec, an experiment, a data plane's
 * config (it names its control planes) or a config.
 */
function kindOf(text: string): 'appspec' | 'experiment' | 'data-plane' | 'config' {
  try {
    // readYaml, not yaml's parse: it refuses a document nested deep enough to crash the parser.
    const doc = readYaml(text, '').value;
    if (!doc || typeof doc !== 'object') return 'config';
    const keys = Object.keys(doc).map((k) => k.toLowerCase());
    if (keys.includes('services')) return 'config';
    if (keys.includes('controlplanes')) return 'data-plane';
    if (keys.includes('policies') || keys.includes('scenarios')) return 'experiment';
    return keys.includes('resources') || keys.includes('version') ? 'appspec' : 'config';
  } catch {
    return 'config';
  }
}

async function validate(args: string[]): Promise<void> {
  // `--config FILE` as serve takes it, since that is what a hand fresh from serve types.
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { config: { type: 'string', short: 'c' }, 'data-plane': { type: 'boolean' } },
  });
  const files = [...positionals, ...(values.config === undefined ? [] : [values.config])];
  if (files.length !== 1) throw usageError('validate needs exactly one FILE');
  const file = files[0]!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new SwitchyardError('CONFIG_NOT_FOUND', `cannot read ${file}: ${describeError(cause)}`, { cause });
  }
  const kind = values['data-plane'] ? 'data-plane' : kindOf(text);
  if (kind === 'data-plane') {
    const config = parseDataPlaneConfig(text, file);
    const listeners = (['production', 'test'] as const).filter((l) => config.listeners[l] !== undefined);
    out(`${file}: valid data plane config (listeners: ${listeners.join(', ')})`);
    return;
  }
  if (kind === 'experiment') {
    const e = parseExperiment(text, file);
    const runs = e.policies.length * e.scenarios.length * e.repeat;
    out(
      `${file}: valid experiment (${e.policies.length} policies × ${e.scenarios.length} scenarios × ${e.repeat}: ${runs} runs per mode)`,
    );
    return;
  }
  if (kind === 'appspec') {
    const spec = parseAppSpec(text, file);
    const what =
      spec.platform === 'ECS'
        ? `task definition ${spec.taskDefinition}`
        : `${spec.functionName} ${spec.currentVersion} → ${spec.targetVersion}`;
    out(
      `${file}: valid ${spec.platform} AppSpec (${what}, ${spec.hooks.length} hook${spec.hooks.length === 1 ? '' : 's'})`,
    );
    return;
  }
  const config = parseConfig(text, file);
  out(`${file}: valid config (${config.services.length} service${config.services.length === 1 ? '' : 's'})`);
  if (config.control.auth === undefined && !isLoopbackHost(config.control.host)) {
    process.stderr.write(
      `warning: control.host ${config.control.host} is reachable beyond this machine and there is no control.auth: ` +
        'anyone who can reach it can move traffic (README: "Securing the control API")\n',
    );
  }
}

const io: CommandIo = { out, err: (text) => process.stderr.write(`${text}\n`), usageError };

/** Commands resolve with their exit code, or with nothing for 0. */
const COMMANDS: Record<string, (args: string[]) => Promise<unknown>> = {
  serve,
  validate,
  demo: (args) => demo(args, io),
  experiment: (args) => experiment(args, io),
  deploy: (args) => deploy(args, io),
  status: (args) => status(args, io),
  list: (args) => list(args, io),
  stop: (args) => stop(args, io),
  continue: (args) => continueDeployment(args, io),
  promote: (args) => promote(args, io),
  weight: (args) => weight(args, io),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const code = await run(rest);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    if (isRemoteError(err)) {
      process.stderr.write(`error: ${err.type}: ${err.message}\n`);
      return 1;
    }
    if (isSwitchyardError(err)) {
      process.stderr.write(`error: ${err.message}\n`);
      for (const issue of err.issues) process.stderr.write(`  ${formatIssue(issue)}\n`);
      const bad = [
        'CONFIG_INVALID',
        'CONFIG_NOT_FOUND',
        'ARGUMENTS_INVALID',
        'APPSPEC_INVALID',
        'EXPERIMENT_INVALID',
      ].includes(err.code);
      return bad ? 2 : 1;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${describeError(err)}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

// Output piped into a reader that stops early (`| head`) is not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
