/**
 * @module bench/rollback
 * How fast switchyard stops and rolls back a canary whose replacement starts failing under steady load,
 * and how many failed responses clients see meanwhile (the blast radius), with `routing.retryOnOriginal`
 * off and on, next to a plain deployment with no alarm, which never rolls back. Two failure kinds,
 * measured separately: every response of the replacement a 500, and every one 200 ms late.
 *
 * Everything the figures come from is timed in this process on one clock: the two upstreams (blue,
 * green) are node:http servers here, and green notes when it was switched to failing and when each
 * request reached it; the open-loop load generator here notes for every response when it arrived, its
 * status and the version that answered (`x-switchyard-version`). switchyard runs from its CLI on the
 * proxy core and is driven through its CodeDeploy API, as a pipeline would.
 *
 * The alarms are evaluated on a fixed tick, so how long a rollback takes depends on where in the tick the
 * failure starts: run k of n switches green (k-1)/n of an interval later than run 1, so the runs spread
 * over the whole tick instead of all hitting the same phase. A run whose deployment was already stopped
 * when green was switched (a false alarm) is left out of the figures and reported in a note.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, Pool } from 'undici';
import { freePort, waitFor200 } from './http-util.js';
import type { Child } from './procs.js';
import type { TargetCheck } from './summary.js';
import { exitedMessage, type Placement, spawnSwitchyard } from './targets.js';

/** How the replacement fails: every answer a 500, or every answer 200 ms late. */
export type FailureKind = '5xx' | 'slow';
const FAILURES: readonly FailureKind[] = ['5xx', 'slow'];

/** Steady load: evenly spaced GETs, enough for the alarms' minRequests within a fraction of a second. */
const RATE = 1_000;
/** Enough for the replacement's slow answers (about 20 at a time) to leave room for everyone else's. */
const CONNECTIONS = 32;
const LOAD_PATH = '/load';
const SLOW_EXTRA_MS = 200;
/** A response slower than this counts as slow: the latency alarm's threshold. */
const SLOW_LIMIT_MS = 100;
/** Healthy traffic on the canary before the replacement fails, so the alarms have a baseline to judge. */
const LEAD_MS = 1_000;
/**
 * Pause between runs. switchyard stamps traffic counts when it pulls them from the data plane (every
 * 250 ms): without it, the previous run's last failures are stamped after the next deployment started
 * watching and count in its alarm windows, which then fire on a healthy replacement.
 */
const SETTLE_MS = 600;
/** Load kept on after the deployment was seen stopped, to catch anything still routed to the replacement. */
const TAIL_MS = 500;
/** How long a plain deployment is watched failing (and how long an alarm gets to stop one). */
const OBSERVE_MS = 5_000;
const POLL_MS = 20;
const ALARM_INTERVAL_MS = 250;
const SERVICE = 'web';
const APPLICATION = 'web';
const GROUP = 'web-prod';

/** How many deployments to measure. */
export interface RollbackOptions {
  /** Runs per failure kind and retry setting with the alarms on. */
  readonly runs: number;
  /** Runs per failure kind and retry setting of the plain deployment (its figures barely vary). */
  readonly plainRuns: number;
}

/** One deployment under load. Times are milliseconds from the instant green was switched to failing. */
export interface RollbackSample {
  readonly failure: FailureKind;
  readonly alarm: boolean;
  readonly retry: boolean;
  readonly run: number;
  readonly deploymentId: string;
  /** The deployment was no longer InProgress just before green was switched: a false alarm. */
  readonly stoppedBeforeFailure: boolean;
  /** GetDeployment's status when the observation ended (Stopped when an alarm rolled it back). */
  readonly status: string;
  readonly errorMessage: string | null;
  /** The last load request green received; null when the deployment was not stopped (plain: never). */
  readonly reactionMs: number | null;
  /** When GetDeployment (polled every 20 ms) first said Stopped. */
  readonly stopSeenMs: number | null;
  /** The last response from version 2 that a client received. */
  readonly lastGreenResponseMs: number | null;
  /** The first response a client saw fail (non-2xx or no answer). */
  readonly firstFailureMs: number | null;
  /** Load requests green received after the switch. */
  readonly greenRequestsAfter: number;
  /** Share of responses from version 2 before the switch (the canary's 10%). */
  readonly greenShareBefore: number;
  readonly requests: number;
  readonly rps: number;
  /** Non-2xx responses and requests with no answer: what clients saw fail. */
  readonly failed: number;
  /** Of `failed`, requests with no answer at all. */
  readonly errors: number;
  /** Responses that took longer than 100 ms. */
  readonly slow: number;
}

/** One line of the report: a failure kind, alarm or not, retry or not, over its runs. */
export interface RollbackRow {
  readonly failure: FailureKind;
  readonly alarm: boolean;
  readonly retry: boolean;
  readonly runs: number;
  /** Runs the alarm stopped within the observation period. */
  readonly stopped: number;
  readonly reactionP50Ms: number | null;
  readonly reactionMaxMs: number | null;
  readonly failedMedian: number | null;
  readonly failedMax: number | null;
  readonly slowMedian: number | null;
  readonly slowMax: number | null;
  readonly requestsMedian: number | null;
}

/** What the rollback scenario measured, for the report. */
export interface RollbackReport {
  readonly rate: number;
  readonly connections: number;
  readonly leadMs: number;
  readonly tailMs: number;
  readonly observeMs: number;
  readonly alarmIntervalMs: number;
  /** The core switchyard was pinned to (load and upstreams share the bench's core), if any. */
  readonly proxyCore: number | null;
  readonly runs: number;
  readonly plainRuns: number;
  readonly rows: readonly RollbackRow[];
  readonly samples: readonly RollbackSample[];
  readonly notes: readonly string[];
}

// ---------------------------------------------------------------------------------------------------
// Upstreams

type GreenMode = 'ok' | FailureKind;

/** Blue and green on loopback, in this process so their notes share the load generator's clock. */
class UpstreamPair {
  mode: GreenMode = 'ok';
  /** When green was last switched to failing. */
  flippedAt = Number.NaN;
  /** Arrival times of load requests at green since the last reset (bounded by the run's length). */
  greenArrivals: number[] = [];

  readonly blue = createServer({ keepAliveTimeout: 60_000 }, (_req, res) => answer(res, 200, 'blue'));
  readonly green = createServer({ keepAliveTimeout: 60_000 }, (req, res) => this.#onGreen(req, res));
  urls: readonly [string, string] = ['', ''];

  /** Both servers listening on loopback. */
  static async start(): Promise<UpstreamPair> {
    const pair = new UpstreamPair();
    const ports = [await listen(pair.blue), await listen(pair.green)];
    pair.urls = [`http://127.0.0.1:${ports[0]}`, `http://127.0.0.1:${ports[1]}`];
    return pair;
  }

  #onGreen(req: IncomingMessage, res: ServerResponse): void {
    // Only the load counts: Install's health check (GET /) is not traffic the proxy routed.
    if (req.url?.startsWith(LOAD_PATH)) this.greenArrivals.push(performance.now());
    if (this.mode === '5xx') answer(res, 500, 'green broke');
    else if (this.mode === 'slow') setTimeout(() => answer(res, 200, 'green'), SLOW_EXTRA_MS);
    else answer(res, 200, 'green');
  }

  /** Switches green to failing and returns the instant it did. */
  flip(mode: FailureKind): number {
    this.mode = mode;
    this.flippedAt = performance.now();
    return this.flippedAt;
  }

  heal(): void {
    this.mode = 'ok';
  }

  reset(): void {
    this.heal();
    this.greenArrivals = [];
    this.flippedAt = Number.NaN;
  }

  async close(): Promise<void> {
    for (const s of [this.blue, this.green]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, ['content-type', 'text/plain', 'content-length', String(text.length)]);
  res.end(text);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

// ---------------------------------------------------------------------------------------------------
// Load

/** Per response of one run, by the order requests were sent. */
interface LoadRecords {
  readonly count: number;
  readonly sentAt: Float64Array;
  readonly doneAt: Float64Array;
  /** HTTP status; 0 when no answer came. */
  readonly status: Int16Array;
  /** The version that answered (1 or 2), 0 when the header was missing. */
  readonly version: Uint8Array;
}

const VERSION_HEADER = 'x-switchyard-version';

/** Notes one response into the recorder's arrays, at its index. */
class Recorded implements Dispatcher.DispatchHandler {
  #finished = false;

  constructor(
    readonly load: PacedRecorder,
    readonly index: number,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.load.status[this.index] = statusCode;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (name.length === VERSION_HEADER.length && name.toString('latin1').toLowerCase() === VERSION_HEADER) {
        const label = rawHeaders[i + 1]!.toString('latin1');
        this.load.version[this.index] = label === '1' ? 1 : label === '2' ? 2 : 0;
      }
    }
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.#finish();
  }

  onError(): void {
    // A body cut short is no answer either, whatever its status said.
    this.load.status[this.index] = 0;
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.load.doneAt[this.index] = performance.now();
    this.load.finished();
  }
}

/**
 * Open-loop GETs at evenly spaced times over a keep-alive pool (like paced-load.ts, which only counts),
 * each response noted. Bounded: at most `capacity` requests per run.
 */
class PacedRecorder {
  readonly #pool: Pool;
  readonly #spacingMs: number;
  readonly sentAt: Float64Array;
  readonly doneAt: Float64Array;
  readonly status: Int16Array;
  readonly version: Uint8Array;
  #sent = 0;
  #done = 0;
  #start = 0;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;
  readonly #options: Dispatcher.DispatchOptions;

  constructor(
    origin: string,
    rate: number,
    connections: number,
    readonly capacity: number,
  ) {
    this.#pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
    this.#spacingMs = 1000 / rate;
    this.#options = { path: LOAD_PATH, method: 'GET' };
    this.sentAt = new Float64Array(capacity);
    this.doneAt = new Float64Array(capacity);
    this.status = new Int16Array(capacity);
    this.version = new Uint8Array(capacity);
  }

  /** Starts sending; the previous run's notes are dropped. */
  start(): void {
    this.status.fill(0);
    this.version.fill(0);
    this.#sent = 0;
    this.#done = 0;
    this.#running = true;
    this.#start = performance.now();
    this.#tick();
  }

  readonly #tick = (): void => {
    const now = performance.now();
    while (this.#running && this.#sent < this.capacity && this.#start + this.#sent * this.#spacingMs <= now) {
      const i = this.#sent++;
      this.sentAt[i] = performance.now();
      this.#pool.dispatch(this.#options, new Recorded(this, i));
    }
    this.#timer = this.#running && this.#sent < this.capacity ? setTimeout(this.#tick, 1) : undefined;
  };

  finished(): void {
    if (++this.#done === this.#sent) this.#drained?.();
  }

  /** Stops sending and resolves with every response once the last one is in (or has failed). */
  async stop(): Promise<LoadRecords> {
    this.#running = false;
    clearTimeout(this.#timer);
    if (this.#done < this.#sent) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
      this.#drained = undefined;
    }
    const n = this.#sent;
    return {
      count: n,
      sentAt: this.sentAt.slice(0, n),
      doneAt: this.doneAt.slice(0, n),
      status: this.status.slice(0, n),
      version: this.version.slice(0, n),
    };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// switchyard and its CodeDeploy API

const APPSPEC = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:us-east-1:111122223333:task-definition/web:2"
        LoadBalancerInfo: { ContainerName: web, ContainerPort: 8080 }
`;

function configText(port: number, control: number, urls: readonly [string, string], retry: boolean): string {
  // retryOnOriginal is left out rather than set false when off, so the file suits builds without it.
  const routing = retry ? '\n    routing: { retryOnOriginal: true }' : '';
  return `listeners: { production: { host: 127.0.0.1, port: ${port} } }
control: { host: 127.0.0.1, port: ${control} }
logLevel: warn
versionHeader: ${VERSION_HEADER}
alarmEvaluationInterval: ${ALARM_INTERVAL_MS}ms
alarms:
  green-errors: { kind: error-rate, version: replacement, threshold: 0.05, window: 5s, minRequests: 20 }
  green-p99: { kind: latency, version: replacement, quantile: 0.99, threshold: ${SLOW_LIMIT_MS}ms, window: 5s, minRequests: 20 }
services:
  - name: ${SERVICE}
    versions: { "1": { targets: ["${urls[0]}"] }, "2": { targets: ["${urls[1]}"] } }
    live: "1"${routing}
applications:
  ${APPLICATION}:
    computePlatform: ECS
    deploymentGroups:
      ${GROUP}:
        ecsServices: [{ serviceName: ${SERVICE} }]
        # Real minutes: the canary holds 10% for the whole run while the alarms judge.
        deploymentConfigName: CodeDeployDefault.ECSCanary10Percent15Minutes
        alarmConfiguration: { enabled: true, alarms: [{ name: green-errors }, { name: green-p99 }] }
        autoRollbackConfiguration: { enabled: true, events: [DEPLOYMENT_STOP_ON_ALARM] }
`;
}

/** A switchyard serving the rollback config. */
interface RollbackProxy {
  readonly url: string;
  readonly control: string;
  readonly child: Child;
}

/** The config file for one switchyard, on fresh ports. */
async function writeConfig(file: string, up: UpstreamPair, retry: boolean): Promise<{ port: number; control: number }> {
  const port = await freePort();
  const control = await freePort();
  writeFileSync(file, configText(port, control, up.urls, retry));
  return { port, control };
}

async function startProxy(place: Placement, file: string, port: number, control: number): Promise<RollbackProxy> {
  const child = await spawnSwitchyard(place, file, control);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(`${url}${LOAD_PATH}`, 20_000, exitedMessage(child));
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { url, control: `http://127.0.0.1:${control}`, child };
}

/** A refusal from the CodeDeploy API, with CodeDeploy's exception name. */
class CodeDeployError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'CodeDeployError';
  }
}

async function codeDeploy<T>(sy: RollbackProxy, op: string, body: object): Promise<T> {
  const res = await fetch(`${sy.control}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${op}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  if (!res.ok) {
    let type = `HTTP ${res.status}`;
    try {
      type = (JSON.parse(text) as { __type?: string }).__type?.split('#').pop() ?? type;
    } catch {
      // not JSON: the status is all there is
    }
    throw new CodeDeployError(type, `${op}: ${type}: ${text.slice(0, 500)}`);
  }
  return JSON.parse(text) as T;
}

interface DeploymentInfo {
  readonly status: string;
  readonly errorInformation?: { readonly code?: string; readonly message?: string };
}

async function getDeployment(sy: RollbackProxy, deploymentId: string): Promise<DeploymentInfo> {
  return (await codeDeploy<{ deploymentInfo: DeploymentInfo }>(sy, 'GetDeployment', { deploymentId })).deploymentInfo;
}

/**
 * CreateDeployment of version 2, with the group's alarms or with them overridden off. The previous run's
 * rollback may still hold the group for a moment, so DeploymentLimitExceeded is retried briefly.
 */
async function createDeployment(sy: RollbackProxy, alarm: boolean): Promise<string> {
  const body = {
    applicationName: APPLICATION,
    deploymentGroupName: GROUP,
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: APPSPEC } },
    ...(!alarm && { overrideAlarmConfiguration: { enabled: false } }),
  };
  const deadline = performance.now() + 5_000;
  for (;;) {
    try {
      return (await codeDeploy<{ deploymentId: string }>(sy, 'CreateDeployment', body)).deploymentId;
    } catch (err) {
      if (!(err instanceof CodeDeployError && err.type === 'DeploymentLimitExceededException')) throw err;
      if (performance.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

async function productionWeights(sy: RollbackProxy): Promise<Record<string, number>> {
  const res = await fetch(`${sy.control}/v1/services/${SERVICE}`, { signal: AbortSignal.timeout(2_000) });
  const view = (await res.json()) as { weights: { production: Record<string, number> } };
  return view.weights.production;
}

/** Polls the production split until `wanted` accepts it. */
async function waitForWeights(
  sy: RollbackProxy,
  wanted: (w: Record<string, number>) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: Record<string, number> = {};
  while (performance.now() < deadline) {
    last = await productionWeights(sy);
    if (wanted(last)) return;
    await sleep(10);
  }
  throw new Error(`production weights never became ${what} (last ${JSON.stringify(last)})`);
}

const canary = (w: Record<string, number>) => w['1'] === 90 && w['2'] === 10;
const allBlue = (w: Record<string, number>) => w['1'] === 100 && (w['2'] ?? 0) === 0;

// ---------------------------------------------------------------------------------------------------
// One run

interface RunSetup {
  readonly sy: RollbackProxy;
  readonly up: UpstreamPair;
  readonly load: PacedRecorder;
  readonly failure: FailureKind;
  readonly alarm: boolean;
  readonly retry: boolean;
  readonly run: number;
  /** How much later than LEAD_MS green is switched, to vary the phase against the alarm tick. */
  readonly phaseMs: number;
}

interface Watched {
  readonly info: DeploymentInfo;
  readonly flippedAt: number;
  readonly stopSeen: number | null;
  readonly stoppedBeforeFailure: boolean;
}

/**
 * One deployment: canary at 10%, a second of healthy load, green switched to failing, then watched until
 * the deployment is stopped (plus a tail) or the observation period ends. Leaves version 1 all-live.
 */
async function oneRun(s: RunSetup): Promise<RollbackSample> {
  const { sy, up, load } = s;
  up.reset();
  await waitForWeights(sy, allBlue, '100% on version 1');
  const deploymentId = await createDeployment(sy, s.alarm);
  await waitForWeights(sy, canary, '90/10');
  load.start();
  let watched: Watched;
  let records: LoadRecords;
  try {
    await sleep(LEAD_MS + s.phaseMs);
    const before = await getDeployment(sy, deploymentId);
    watched = await watch(s, deploymentId, up.flip(s.failure), before.status !== 'InProgress');
  } finally {
    records = await load.stop();
    up.heal();
  }
  // A plain deployment (or one no alarm stopped) is still shifting: stopped with rollback, as an operator would.
  if (watched.info.status === 'InProgress' || watched.info.status === 'Ready')
    await codeDeploy(sy, 'StopDeployment', { deploymentId, autoRollbackEnabled: true });
  await waitForWeights(sy, allBlue, '100% on version 1 after the run', 5_000);
  const sample = sampleOf(s, deploymentId, watched, records, [...up.greenArrivals]);
  await sleep(SETTLE_MS);
  return sample;
}

/**
 * After the switch: with alarms, GetDeployment every 20 ms until it is no longer InProgress (then the
 * tail) or the observation period ends; without, the whole observation period.
 */
async function watch(
  s: RunSetup,
  deploymentId: string,
  flippedAt: number,
  stoppedBeforeFailure: boolean,
): Promise<Watched> {
  const deadline = flippedAt + OBSERVE_MS;
  if (!s.alarm) {
    await sleep(deadline - performance.now());
    return { info: await getDeployment(s.sy, deploymentId), flippedAt, stopSeen: null, stoppedBeforeFailure };
  }
  for (;;) {
    const info = await getDeployment(s.sy, deploymentId);
    if (info.status !== 'InProgress') {
      const stopSeen = performance.now();
      await sleep(TAIL_MS);
      return { info, flippedAt, stopSeen, stoppedBeforeFailure };
    }
    if (performance.now() >= deadline) return { info, flippedAt, stopSeen: null, stoppedBeforeFailure };
    await sleep(POLL_MS);
  }
}

function sampleOf(
  s: RunSetup,
  deploymentId: string,
  w: Watched,
  r: LoadRecords,
  greenArrivals: readonly number[],
): RollbackSample {
  const { info, flippedAt, stopSeen } = w;
  let failed = 0;
  let errors = 0;
  let slow = 0;
  let before = 0;
  let greenBefore = 0;
  let lastGreen = -Infinity;
  let firstFailure = Infinity;
  for (let i = 0; i < r.count; i++) {
    const status = r.status[i]!;
    const done = r.doneAt[i]!;
    if (status < 200 || status >= 300) {
      failed++;
      if (status === 0) errors++;
      firstFailure = Math.min(firstFailure, done);
    }
    if (done - r.sentAt[i]! > SLOW_LIMIT_MS) slow++;
    if (r.version[i] === 2) lastGreen = Math.max(lastGreen, done);
    if (r.sentAt[i]! < flippedAt) {
      before++;
      if (r.version[i] === 2) greenBefore++;
    }
  }
  const after = greenArrivals.filter((t) => t >= flippedAt);
  const stopped = s.alarm && info.status === 'Stopped' && !w.stoppedBeforeFailure;
  const rel = (t: number) => (Number.isFinite(t) ? t - flippedAt : null);
  const spanS = r.count > 1 ? (r.sentAt[r.count - 1]! - r.sentAt[0]!) / 1000 : 0;
  return {
    failure: s.failure,
    alarm: s.alarm,
    retry: s.retry,
    run: s.run,
    deploymentId,
    stoppedBeforeFailure: w.stoppedBeforeFailure,
    status: info.status,
    errorMessage: info.errorInformation?.message ?? null,
    // No request reached green after the switch: traffic had left it before anything could fail.
    reactionMs: stopped ? (after.length ? after[after.length - 1]! - flippedAt : 0) : null,
    stopSeenMs: stopSeen === null ? null : stopSeen - flippedAt,
    lastGreenResponseMs: rel(lastGreen),
    firstFailureMs: rel(firstFailure),
    greenRequestsAfter: after.length,
    greenShareBefore: before ? greenBefore / before : 0,
    requests: r.count,
    rps: spanS > 0 ? r.count / spanS : 0,
    failed,
    errors,
    slow,
  };
}

const ms = (n: number | null) => (n === null ? 'never' : `${n.toFixed(0)} ms`);

function describe(x: RollbackSample): string {
  const head = `${x.failure.padEnd(4)} ${x.alarm ? 'alarm   ' : 'no alarm'} retry ${x.retry ? 'on ' : 'off'} r${x.run}`;
  const why = x.errorMessage ? `  (${x.status}: ${x.errorMessage})` : `  (${x.status})`;
  const early = x.stoppedBeforeFailure ? '  STOPPED BEFORE GREEN FAILED' : '';
  return `  ${head}${early}  reaction ${ms(x.reactionMs).padStart(7)}  failed ${String(x.failed).padStart(4)}  slow ${String(x.slow).padStart(4)}  of ${x.requests} responses${why}`;
}

// ---------------------------------------------------------------------------------------------------
// Summary

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

const maxOf = (values: readonly number[]) => (values.length ? Math.max(...values) : null);

function rowOf(
  failure: FailureKind,
  alarm: boolean,
  retry: boolean,
  samples: readonly RollbackSample[],
): RollbackRow {
  const runs = samples.filter(
    (x) => x.failure === failure && x.alarm === alarm && x.retry === retry && !x.stoppedBeforeFailure,
  );
  const reactions = runs.map((x) => x.reactionMs).filter((x): x is number => x !== null);
  return {
    failure,
    alarm,
    retry,
    runs: runs.length,
    stopped: reactions.length,
    reactionP50Ms: median(reactions),
    reactionMaxMs: maxOf(reactions),
    failedMedian: median(runs.map((x) => x.failed)),
    failedMax: maxOf(runs.map((x) => x.failed)),
    slowMedian: median(runs.map((x) => x.slow)),
    slowMax: maxOf(runs.map((x) => x.slow)),
    requestsMedian: median(runs.map((x) => x.requests)),
  };
}

/** Some sanity checks on the runs, as notes for the report. */
function anomalies(samples: readonly RollbackSample[]): string[] {
  const notes: string[] = [];
  for (const x of samples) {
    const which = `${x.failure}, ${x.alarm ? 'alarm' : 'no alarm'}, retry ${x.retry ? 'on' : 'off'}, run ${x.run}`;
    if (x.stoppedBeforeFailure) {
      notes.push(
        `(${which}) the deployment was already ${x.status} before green failed (a false alarm): ${x.errorMessage ?? ''}. Left out of the figures.`,
      );
      continue;
    }
    if (Math.abs(x.greenShareBefore - 0.1) > 0.03)
      notes.push(`(${which}) version 2 answered ${(100 * x.greenShareBefore).toFixed(1)}% before the failure, not 10%.`);
    if (x.alarm && x.status !== 'Stopped')
      notes.push(`(${which}) no alarm stopped the deployment within ${OBSERVE_MS / 1000} s (status ${x.status}).`);
    if (!x.alarm && x.status !== 'InProgress')
      notes.push(`(${which}) the deployment without alarms ended on its own: ${x.status} ${x.errorMessage ?? ''}`);
    if (x.alarm && x.failure === 'slow' && x.errorMessage !== null && !x.errorMessage.includes('green-p99'))
      notes.push(`(${which}) stopped by something other than the latency alarm: ${x.errorMessage}`);
  }
  return notes;
}

// ---------------------------------------------------------------------------------------------------
// The scenario

/** Runs the whole rollback scenario: retry off, then on (when this build takes it), each failure kind. */
export async function runRollback(
  place: Placement,
  options: RollbackOptions,
  progress: (text: string) => void,
): Promise<RollbackReport> {
  progress(
    `\n== rollback: a 10% canary whose replacement fails under ${RATE} req/s; ${options.runs} runs with alarms, ${options.plainRuns} without, per failure kind and retry setting`,
  );
  const notes: string[] = [];
  const samples: RollbackSample[] = [];
  // Room for the longest run (lead, observation, tail) with a second to spare.
  const capacity = Math.ceil((RATE * (LEAD_MS + OBSERVE_MS + TAIL_MS + 1_000)) / 1000);
  const up = await UpstreamPair.start();
  try {
    for (const retry of [false, true]) {
      const file = join(place.workDir, `rollback-retry-${retry ? 'on' : 'off'}.yml`);
      const { port, control } = await writeConfig(file, up, retry);
      const sy = await startProxy(place, file, port, control);
      progress(`  retry on original ${retry ? 'on' : 'off'}: switchyard pid ${sy.child.pid}, ${file}`);
      const load = new PacedRecorder(sy.url, RATE, CONNECTIONS, capacity);
      try {
        // Warm-up, not recorded: JIT for switchyard's data and control paths and for this generator.
        load.start();
        await sleep(1_000);
        await load.stop();
        await oneRun({ sy, up, load, failure: '5xx', alarm: true, retry, run: 0, phaseMs: 0 });
        for (const failure of FAILURES) {
          for (const alarm of [true, false]) {
            const n = alarm ? options.runs : options.plainRuns;
            for (let run = 1; run <= n; run++) {
              const phaseMs = ((run - 1) / n) * ALARM_INTERVAL_MS;
              const sample = await oneRun({ sy, up, load, failure, alarm, retry, run, phaseMs });
              samples.push(sample);
              progress(describe(sample));
            }
          }
        }
      } finally {
        await load.close();
        await sy.child.stop();
      }
    }
  } finally {
    await up.close();
  }
  const rows: RollbackRow[] = [];
  for (const failure of FAILURES)
    for (const alarm of [true, false]) {
      // BENCH_ROLLBACK_PLAIN_RUNS=0 leaves the plain deployment out altogether.
      if ((alarm ? options.runs : options.plainRuns) === 0) continue;
      for (const retry of [false, true])
        rows.push(rowOf(failure, alarm, retry, samples));
    }
  notes.push(...anomalies(samples));
  return {
    rate: RATE,
    connections: CONNECTIONS,
    leadMs: LEAD_MS,
    tailMs: TAIL_MS,
    observeMs: OBSERVE_MS,
    alarmIntervalMs: ALARM_INTERVAL_MS,
    proxyCore: place.proxyCore ?? null,
    runs: options.runs,
    plainRuns: options.plainRuns,
    rows,
    samples,
    notes,
  };
}

/** The rollback goals, checked against what the scenario measured (or why it could not). */
export function rollbackChecks(r: RollbackReport | null): TargetCheck[] {
  const goalReaction = 'rollback: reaction ≤ 500 ms max, error-rate alarm at the default 250 ms interval (100% 5xx)';
  const goalRetry = 'rollback: 0 client-visible failures for GET with retryOnOriginal on (100% 5xx)';
  if (!r)
    return [goalReaction, goalRetry].map((goal) => ({ goal, measured: '—', met: null, detail: 'needs rollback' }));
  const checks: TargetCheck[] = [];
  const rows5xx = r.rows.filter((x) => x.failure === '5xx' && x.runs > 0);
  const alarmRows = rows5xx.filter((x) => x.alarm);
  const runs = alarmRows.reduce((a, x) => a + x.runs, 0);
  const stopped = alarmRows.reduce((a, x) => a + x.stopped, 0);
  const max = maxOf(alarmRows.map((x) => x.reactionMaxMs).filter((x): x is number => x !== null));
  if (runs === 0) checks.push({ goal: goalReaction, measured: '—', met: null, detail: 'no runs' });
  else
    checks.push({
      goal: goalReaction,
      measured: `max ${ms(max)} (${alarmRows.map((x) => `retry ${x.retry ? 'on' : 'off'}: p50 ${ms(x.reactionP50Ms)}, max ${ms(x.reactionMaxMs)}`).join('; ')})`,
      met: stopped === runs && max !== null && max <= 500,
      detail:
        stopped < runs
          ? `${runs - stopped} of ${runs} runs never stopped`
          : max! <= 500
            ? `${(500 - max!).toFixed(0)} ms to spare`
            : `over by ${(max! - 500).toFixed(0)} ms`,
    });
  const retryRows = rows5xx.filter((x) => x.retry);
  if (retryRows.length === 0) checks.push({ goal: goalRetry, measured: '—', met: null, detail: 'no runs' });
  else {
    const worst = Math.max(...retryRows.map((x) => x.failedMax ?? 0));
    checks.push({
      goal: goalRetry,
      measured: retryRows
        .map((x) => `${x.alarm ? 'alarm' : 'no alarm'}: max ${x.failedMax} of ~${x.requestsMedian} per run`)
        .join('; '),
      met: worst === 0,
      detail: worst === 0 ? 'none' : `${worst} failed in the worst run`,
    });
  }
  return checks;
}
