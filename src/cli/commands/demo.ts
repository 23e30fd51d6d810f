/**
 * @module cli/commands/demo
 * `switchyard demo`: config/demo.yml with its two versions served in process, then the canary a user
 * would run themselves (`switchyard deploy ... --wait` against the demo's own control port) while a
 * steady trickle of requests shows the split, and finally what to try next. Ctrl-C stops it at any point.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { Agent, request } from 'undici';

import { loadConfig } from '../../app/config.js';
import { startSwitchyard, type Switchyard } from '../../app/start.js';
import type { Config } from '../../config/schema.js';
import { describeError } from '../../core/describe-error.js';
import { SwitchyardError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { packageRoot } from '../../core/package-root.js';
import { type DemoUpstream, startDemoUpstream } from '../../demo/upstreams.js';
import { configuredShelf } from '../../lab/report/shelf.js';
import { untilSignal } from '../until-signal.js';
import type { CommandIo } from './client.js';
import { deploy } from './deploy.js';

const APPLICATION = 'demo';
const GROUP = 'demo-prod';
/** Requests per second sent through the proxy while the canary runs. */
const TRICKLE_PER_SECOND = 20;

function demoTargets(config: Config): { name: string; host: string; port: number }[] {
  const service = config.services[0]!;
  return Object.entries(service.versions).flatMap(([label, v]) => {
    if (v.kind !== 'targets') return [];
    const url = new URL(v.targets[0]!);
    const colour = label === service.live ? 'blue' : 'green';
    return [{ name: `${colour} (version ${label})`, host: url.hostname, port: Number(url.port) }];
  });
}

/** Sends a steady trickle of requests and counts which version answered each. */
function trickle(url: string, versionHeader: string): { stop: () => Promise<Map<string, number>> } {
  const counts = new Map<string, number>();
  const agent = new Agent({ connections: 1 });
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const res = await request(url, { dispatcher: agent });
        await res.body.dump();
        const version = res.statusCode === 200 ? String(res.headers[versionHeader] ?? '?') : `HTTP ${res.statusCode}`;
        counts.set(version, (counts.get(version) ?? 0) + 1);
      } catch {
        counts.set('error', (counts.get('error') ?? 0) + 1);
      }
      await sleep(1000 / TRICKLE_PER_SECOND);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await agent.close();
      return counts;
    },
  };
}

/** The demo's upstreams and a switchyard in front of them; nothing is left running when one cannot start. */
async function startDemo(config: Config): Promise<{ sy: Switchyard; upstreams: DemoUpstream[] }> {
  const log = createLogger({ level: config.logLevel });
  const upstreams: DemoUpstream[] = [];
  try {
    for (const t of demoTargets(config)) upstreams.push(await startDemoUpstream(t.name, t.host, t.port));
  } catch (err) {
    await Promise.all(upstreams.map((u) => u.close()));
    throw new SwitchyardError('LISTEN_FAILED', `demo upstream cannot start: ${describeError(err)}`, {
      cause: err,
    });
  }
  try {
    return { sy: await startSwitchyard(config, { log, labReports: configuredShelf(config.control) }), upstreams };
  } catch (err) {
    await Promise.all(upstreams.map((u) => u.close()));
    throw err;
  }
}

/**
 * Deploys version 2 as a user would (`switchyard deploy --wait` against the control port) while a
 * trickle of requests through `prod` shows the split; rejects when the deployment does not succeed.
 */
async function deployWithTrickle(
  sy: Switchyard,
  root: string,
  appspec: string,
  io: CommandIo,
  signalled: () => boolean,
): Promise<void> {
  const load = trickle(`${sy.urls['production']!}/`, sy.config.versionHeader || 'x-switchyard-version');
  let code: number;
  try {
    code = await deploy(
      [
        '--app',
        APPLICATION,
        '--group',
        GROUP,
        '--appspec',
        join(root, appspec),
        '--endpoint',
        sy.urls['control']!,
        '--wait',
      ],
      io,
    );
  } finally {
    const counts = await load.stop();
    const served = [...counts].map(
      ([version, n]) => `${version === 'error' || version.startsWith('HTTP') ? version : `version ${version}`} × ${n}`,
    );
    if (!signalled()) io.out(`  served during the deployment: ${served.join(', ')}`);
  }
  if (code !== 0) throw new SwitchyardError('INTERNAL', `the demo deployment ended with exit code ${code}`);
}

/** What to try once version 2 is live. */
function printNextSteps(sy: Switchyard, service: string, io: CommandIo): void {
  const prod = sy.urls['production']!;
  const control = sy.urls['control']!;
  io.out('');
  io.out(`Version 2 is live. Try:`);
  io.out(`  send requests   for i in $(seq 10); do curl -s ${prod}/; done`);
  io.out(`  pin a version   curl -s -H 'x-switchyard-version: 1' ${prod}/`);
  if (sy.urls['test']) io.out(`  test listener   curl -s ${sy.urls['test']}/`);
  io.out(
    `  shift by hand   curl -s -X PUT -H 'content-type: application/json' -d '{"version":"1","percent":10}' ${control}/v1/services/${service}/weight`,
  );
  io.out(
    `  deploy again    node dist/src/cli/main.js deploy --app ${APPLICATION} --group ${GROUP} --appspec config/appspec/ecs-v1.yml --endpoint ${control} --wait`,
  );
  io.out(`  dashboard       ${control}/   (services, each deployment's timeline and charts, history, lab reports)`);
  io.out(`  a function      curl -s '${prod}/orders?name=you'   (version 1 of the function "orders", a Node handler)`);
  io.out(`  Lambda API      aws lambda invoke --endpoint-url ${control} --function-name orders --qualifier live \\`);
  io.out(
    `                    --cli-binary-format raw-in-base64-out --payload '{"queryStringParameters":{"name":"you"}}' /dev/stdout`,
  );
  io.out(
    `  function canary node dist/src/cli/main.js deploy --app orders --group orders-live --appspec config/appspec/lambda-orders.yml --endpoint ${control} --wait`,
  );
  io.out(`  see state       curl -s ${control}/v1/services   and   curl -s ${control}/metrics`);
  io.out('  every core      node dist/src/cli/main.js serve --config config/example.yml --workers auto');
  io.out('                  (after this demo stops: the proxy in one worker per core, the control plane in');
  io.out('                  the first process; README "Every core")');
  io.out(
    `  a data plane    node dist/src/cli/main.js serve --data-plane --config config/data-plane.yml --control ${control}`,
  );
  io.out('                  (in another terminal: one more proxy, on 127.0.0.1:8181, following this control');
  io.out(`                  plane; curl -s 127.0.0.1:8181/ and curl -s ${control}/v1/data-planes; README "A fleet")`);
  io.out('  policy lab      npm run lab   (four shift policies against the same load and faults, live and');
  io.out('                  simulated, in about two minutes; the report in lab-reports/policies/report.html,');
  io.out(`                  and at ${control}/lab while this demo runs)`);
  io.out('  stop            Ctrl-C');
  io.out('');
}

/** Runs the demo until Ctrl-C. */
export async function demo(args: string[], io: CommandIo): Promise<void> {
  parseArgs({ args, strict: true });
  const root = packageRoot();
  const config = await loadConfig(join(root, 'config', 'demo.yml'));
  const { sy, upstreams } = await startDemo(config);
  let signalled = false;
  const onSignal = () => (signalled = true);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stopped = untilSignal(sy, async () => {
    await Promise.all(upstreams.map((u) => u.close()));
  });

  const service = config.services[0]!;
  io.out('');
  io.out(`switchyard demo: service "${service.name}", ${upstreams.map((u) => `${u.name} at ${u.url}`).join(', ')}`);
  io.out(`  weights now     ${JSON.stringify(sy.traffic.service(service.name).weights.production)} (percent)`);
  io.out(`  dashboard       ${sy.urls['control']!}/   (open it now to watch the canary below move the split)`);
  io.out('');
  const group = sy.registry.group(APPLICATION, GROUP);
  const appspec = join('config', 'appspec', 'ecs.yml');
  io.out(
    `Deploying version 2 with ${group.settings.deploymentConfigName} at time scale ${config.timeScale}, ` +
      `while ${TRICKLE_PER_SECOND} requests a second go through ${sy.urls['production']!}:`,
  );
  io.out(`  $ switchyard deploy --app ${APPLICATION} --group ${GROUP} --appspec ${appspec} --wait`);

  // Stopped with Ctrl-C mid-deployment, the deployment's polling fails as the server goes: no error.
  const ended = deployWithTrickle(sy, root, appspec, io, () => signalled).then(
    () => 'deployed' as const,
    (err: unknown) => {
      if (signalled) return 'stopped' as const;
      throw err;
    },
  );
  try {
    if ((await Promise.race([stopped.then(() => 'stopped' as const), ended])) === 'stopped') return await stopped;
  } catch (err) {
    await sy.close();
    await Promise.all(upstreams.map((u) => u.close()));
    throw err;
  }
  printNextSteps(sy, service.name, io);
  return stopped;
}
