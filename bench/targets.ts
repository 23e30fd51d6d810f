/**
 * @module bench/targets
 * Starting and stopping what the load is aimed at: the upstream pair, switchyard, the node-http-proxy
 * peer and nginx, each splitting 90/10 between the same two upstreams, plus "direct" (the first upstream
 * with no proxy). Each proxy is pinned to the proxy core; a target is ready once a GET through it to an
 * upstream answers 200.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, waitFor200 } from './http-util.js';
import { nginxCommand } from './nginx.js';
import { processTree } from './proc-stats.js';
import { type Child, startChild } from './procs.js';
import type { TargetName } from './scenarios.js';

/** Something to aim load at. */
export interface Target {
  readonly name: TargetName;
  /** Base URL, no trailing slash. */
  readonly url: string;
  /** The processes whose CPU and memory are this target's (for direct: the upstream process). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** The upstream pair, running in its own process. */
export interface Upstreams {
  readonly urls: readonly [string, string];
  readonly child: Child;
}

/** Where things run. */
export interface Placement {
  /** Core for the proxy under test; undefined when not pinning. */
  readonly proxyCore: number | undefined;
  /** Core for the load generator and the upstreams. */
  readonly loadCore: number | undefined;
  /** A private directory for config files. */
  readonly workDir: string;
}

const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
/** The built CLI the bench starts switchyard from. */
export const SWITCHYARD_MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const READY_TIMEOUT_MS = 20_000;

/** For waitFor200: why `child` cannot answer any more (it exited, with its last output), or undefined. */
export function exitedMessage(child: Child): () => string | undefined {
  return () =>
    child.proc.exitCode !== null || child.proc.signalCode !== null
      ? `${child.name} exited (${child.proc.exitCode ?? child.proc.signalCode}) while starting\n${child.output()}`
      : undefined;
}

function targetOf(name: TargetName, url: string, child: Child, pids = [child.pid]): Target {
  return { name, url, pids, stop: () => child.stop() };
}

/** Starts the upstream pair on the load core. */
export async function startUpstreams(place: Placement): Promise<Upstreams> {
  const child = startChild('upstreams', process.execPath, [script('upstreams.js')], {
    core: place.loadCore,
    stdinPipe: true,
  });
  const line = await child.waitForLine((l) => l.startsWith('ready '), READY_TIMEOUT_MS);
  const { ports } = JSON.parse(line.slice(6)) as { ports: [number, number] };
  return { urls: [`http://127.0.0.1:${ports[0]}`, `http://127.0.0.1:${ports[1]}`], child };
}

/** Load straight at the first upstream: the baseline every proxy is compared with. */
export function directTarget(up: Upstreams): Target {
  return { name: 'direct', url: up.urls[0], pids: [up.child.pid], stop: async () => undefined };
}

/**
 * switchyard from its CLI with `configFile` (and `serveArgs` after it, e.g. `--workers 2`), pinned to the
 * proxy core; resolves once its control port (`controlPort`, from the same file) answers /healthz.
 */
export async function spawnSwitchyard(
  place: Placement,
  configFile: string,
  controlPort: number,
  cpuProfDir?: string,
  main = SWITCHYARD_MAIN,
  serveArgs: readonly string[] = [],
): Promise<Child> {
  const prof = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = startChild(
    main === SWITCHYARD_MAIN ? 'switchyard' : 'baseline',
    process.execPath,
    [...prof, main, 'serve', '--config', configFile, ...serveArgs],
    {
      core: place.proxyCore,
    },
  );
  try {
    await waitFor200(`http://127.0.0.1:${controlPort}/healthz`, READY_TIMEOUT_MS, exitedMessage(child));
  } catch (err) {
    await child.stop();
    throw err;
  }
  return child;
}

/**
 * switchyard from its CLI, with a config file like an operator would write; `baselineMain` runs another
 * revision's build (baseline.ts) as the target named baseline instead.
 */
export async function startSwitchyard(
  place: Placement,
  up: Upstreams,
  cpuProfDir?: string,
  baselineMain?: string,
  faultsArmed = false,
): Promise<Target> {
  const port = await freePort();
  const control = await freePort();
  const name = baselineMain ? 'baseline' : faultsArmed ? 'faults-armed' : 'switchyard';
  // Armed: each version carries a fault that almost never fires, so every request takes the injector's
  // path (two draws) and is forwarded; without a fault the table has none and the forwarder one check.
  const faults = faultsArmed
    ? `    faults:
      "1": { abort: { percent: 0.0001 }, seed: 1 }
      "2": { abort: { percent: 0.0001 }, seed: 2 }
`
    : '';
  const config = join(place.workDir, `${name}.yml`);
  writeFileSync(
    config,
    `listeners:
  production: { host: 127.0.0.1, port: ${port} }
control: { host: 127.0.0.1, port: ${control} }
logLevel: warn
versionHeader: x-switchyard-version
services:
  - name: bench
    versions:
      "1": { targets: ["${up.urls[0]}"] }
      "2": { targets: ["${up.urls[1]}"] }
    live: "1"
    weights: { "1": 90, "2": 10 }
${faults}`,
  );
  const child = await spawnSwitchyard(place, config, control, cpuProfDir, baselineMain);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(`${url}/bytes/1`, READY_TIMEOUT_MS, exitedMessage(child));
  } catch (err) {
    await child.stop();
    throw err;
  }
  // A graceful stop lets switchyard exit on its own, which is also when --cpu-prof writes its profile.
  return { name, url, pids: [child.pid], stop: () => child.stop(15_000) };
}

/** The node-http-proxy peer script. */
export function startHttpProxy(place: Placement, up: Upstreams): Promise<Target> {
  return startPeerScript('http-proxy', 'http-proxy-peer.js', place, up);
}

/** The least a Node proxy built like switchyard does per request (node-floor-peer.ts). */
export function startNodeFloor(place: Placement, up: Upstreams): Promise<Target> {
  return startPeerScript('node-floor', 'node-floor-peer.js', place, up);
}

/** A peer script that prints `ready PORT`, pinned where switchyard runs. */
async function startPeerScript(name: TargetName, file: string, place: Placement, up: Upstreams): Promise<Target> {
  const child = startChild(name, process.execPath, [script(file), JSON.stringify(up.urls)], {
    core: place.proxyCore,
    stdinPipe: true,
  });
  try {
    const line = await child.waitForLine((l) => l.startsWith('ready '), READY_TIMEOUT_MS);
    const url = `http://127.0.0.1:${Number(line.slice(6))}`;
    await waitFor200(`${url}/bytes/1`, READY_TIMEOUT_MS, exitedMessage(child));
    return targetOf(name, url, child);
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** nginx with one worker; its CPU and memory are the master's and the worker's together. */
export async function startNginx(place: Placement, up: Upstreams): Promise<Target> {
  const port = await freePort();
  const args = nginxCommand(join(place.workDir, 'nginx'), port, up.urls);
  const child = startChild('nginx', 'nginx', args, { core: place.proxyCore });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(`${url}/bytes/1`, READY_TIMEOUT_MS, exitedMessage(child));
  } catch (err) {
    await child.stop();
    throw err;
  }
  return targetOf('nginx', url, child, processTree(child.pid));
}
