/**
 * @module bench/functions-rig
 * What the functions scenario runs against: the trivial Node handler (written into the work folder at run
 * time), the plain HTTP version doing the same work, and switchyard from its CLI with config files as an
 * operator would write them — one serving both (the function under /fn, the HTTP version under /plain),
 * and one with a single function version whose environment is reaped after a short idle time, so that
 * every request after a reap is a cold start.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { freePort, get, waitFor200 } from './http-util.js';
import { processTree } from './proc-stats.js';
import { type Child, startChild } from './procs.js';
import { exitedMessage, type Placement, spawnSwitchyard } from './targets.js';

/** Execution environments of the measured function version, and connections of the load at it. */
export const CONCURRENCY = 4;
/** The path prefixes of the two services of the measured switchyard. */
export const FUNCTION_PATH = '/fn/';
export const PLAIN_PATH = '/plain/';
/** How long the cold-start instance keeps an idle environment before it is reaped. */
const COLD_IDLE_MS = 300;
const READY_TIMEOUT_MS = 20_000;

/** The handler: the same work as the plain version (a 200 with `ok`), in API Gateway's result shape. */
const HANDLER_SOURCE = `export const handler = async () => ({ statusCode: 200, body: 'ok' });\n`;

/** Writes the handler's folder under `workDir` and returns the handler string relative to `workDir`. */
function writeHandler(workDir: string): string {
  const dir = join(workDir, 'functions', 'trivial');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.mjs'), HANDLER_SOURCE);
  return 'functions/trivial/index.handler';
}

/** A running switchyard of this scenario. */
export interface FunctionsProxy {
  /** Base URL of the production listener, no trailing slash. */
  readonly url: string;
  readonly child: Child;
}

async function startFromConfig(place: Placement, file: string, text: string, paths: string[]): Promise<FunctionsProxy> {
  const port = await freePort();
  const control = await freePort();
  writeFileSync(
    file,
    `listeners: { production: { host: 127.0.0.1, port: ${port} } }\ncontrol: { host: 127.0.0.1, port: ${control} }\n${text}`,
  );
  const child = await spawnSwitchyard(place, file, control);
  const url = `http://127.0.0.1:${port}`;
  try {
    for (const path of paths) await waitFor200(`${url}${path}`, READY_TIMEOUT_MS, exitedMessage(child));
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { url, child };
}

/** switchyard with the function version (under /fn) and the plain HTTP version `plainUrl` (under /plain). */
export async function startMeasured(place: Placement, plainUrl: string): Promise<FunctionsProxy> {
  const handler = writeHandler(place.workDir);
  const config = `logLevel: warn
services:
  - name: fn
    match: { pathPrefix: /fn }
    versions: { "1": { lambda: { handler: ${handler}, concurrency: ${CONCURRENCY} } } }
    live: "1"
  - name: plain
    match: { pathPrefix: /plain }
    versions: { "1": { targets: ["${plainUrl}"] } }
    live: "1"
`;
  return startFromConfig(place, join(place.workDir, 'functions.yml'), config, [FUNCTION_PATH, PLAIN_PATH]);
}

/** The plain HTTP version, a process of its own placed as switchyard is (its runtimes inherit its core). */
export async function startPlainVersion(place: Placement): Promise<{ url: string; child: Child }> {
  const script = fileURLToPath(new URL('./plain-version.js', import.meta.url));
  const child = startChild('plain HTTP version', process.execPath, [script], {
    core: place.proxyCore,
    stdinPipe: true,
  });
  try {
    const line = await child.waitForLine((l) => l.startsWith('ready '), READY_TIMEOUT_MS);
    return { url: `http://127.0.0.1:${Number(line.slice(6))}`, child };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/**
 * Lets `pid` and every process under it run on any core. Needed for the whole-machine placement: the
 * bench pins itself to the load core, and what it starts inherits that unless told otherwise. Processes
 * started later by one of them (runtimes) inherit the new setting. False when taskset refused.
 */
export function unpinTree(pid: number): boolean {
  const all = `0-${cpus().length - 1}`;
  return processTree(pid).every((p) => {
    const r = spawnSync('taskset', ['-a', '-p', '-c', all, String(p)], { stdio: 'ignore' });
    return r.error === undefined && r.status === 0;
  });
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** The runtime processes (switchyard's Node bootstrap) switchyard `pid` runs now. */
export function runtimePids(pid: number): number[] {
  return processTree(pid)
    .slice(1)
    .filter((p) => cmdline(p).includes('node-runtime/bootstrap'));
}

/** One cold start: the Init switchyard reported, and the first request's time as the client saw it. */
export interface ColdSample {
  /** `Init Duration` of the REPORT line: from starting the runtime process to its first `next`. */
  readonly initMs: number | null;
  /** The request that started the environment, sent to answered, on a fresh connection. */
  readonly firstMs: number;
  /** The request right after it, on the environment it started (a warm invocation), the same way. */
  readonly warmMs: number;
}

/** What the cold-start instance measured. */
export interface ColdStartResult {
  readonly samples: readonly ColdSample[];
  /** The Init of the environment switchyard made ready at start, from its 'function version ready' line. */
  readonly startupInitMs: number | null;
  readonly notes: readonly string[];
}

/** The number in `Init Duration: 123.45 ms` of a REPORT line logged as a JSON record, if any. */
function initDuration(line: string): number | undefined {
  try {
    const msg = (JSON.parse(line) as { msg?: unknown }).msg;
    const m = typeof msg === 'string' ? /^REPORT .*Init Duration: ([\d.]+) ms/.exec(msg) : null;
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The `initMs` of switchyard's 'function version ready' record among `output`'s lines, if there is one. */
function startupInit(output: string): number | null {
  for (const line of output.split('\n')) {
    try {
      const r = JSON.parse(line) as { msg?: unknown; initMs?: unknown };
      if (r.msg === 'function version ready' && typeof r.initMs === 'number') return r.initMs;
    } catch {
      // Not a JSON record (a partial line): not the one sought.
    }
  }
  return null;
}

async function until(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function timedGet(url: string): Promise<number> {
  const t0 = performance.now();
  const r = await get(url, 10_000);
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.body.slice(0, 200)}`);
  return ms;
}

/**
 * `runs` cold starts of the trivial handler through the HTTP front, each after switchyard reaped the
 * previous environment (seen by its runtime process being gone), on a switchyard of its own logging at
 * info so that its REPORT lines (with Init Duration) can be read.
 */
export async function measureColdStarts(place: Placement, runs: number): Promise<ColdStartResult> {
  const handler = writeHandler(place.workDir);
  const config = `logLevel: info
services:
  - name: cold
    versions: { "1": { lambda: { handler: ${handler}, concurrency: 1, idleTimeout: ${COLD_IDLE_MS}ms } } }
    live: "1"
`;
  const sy = await startFromConfig(place, join(place.workDir, 'functions-cold.yml'), config, ['/']);
  const notes: string[] = [];
  const samples: ColdSample[] = [];
  try {
    const startupInitMs = startupInit(sy.child.output());
    const url = `${sy.url}/`;
    for (let i = 0; i < runs; i++) {
      await until('the idle environment to be reaped', () => runtimePids(sy.child.pid).length === 0, 10_000);
      const report = sy.child
        .waitForLine((l) => initDuration(l) !== undefined, 5_000)
        .then(initDuration, () => undefined);
      const firstMs = await timedGet(url);
      const warmMs = await timedGet(url);
      const initMs = (await report) ?? null;
      if (initMs === null) notes.push(`cold start ${i + 1}: no REPORT line with an Init Duration was logged.`);
      samples.push({ initMs, firstMs, warmMs });
    }
    return { samples, startupInitMs, notes };
  } finally {
    await sy.child.stop(15_000);
  }
}
