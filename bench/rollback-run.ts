/**
 * @module bench/rollback-run
 * One measured deployment of the rollback scenario: a canary at 10% under steady load, green switched to
 * failing at a known instant, the deployment watched until an alarm stops it (or the observation period
 * ends), and what the load and green noted turned into one sample.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  allBlue,
  canary,
  createDeployment,
  type DeploymentInfo,
  getDeployment,
  stopDeployment,
  waitForWeights,
} from './rollback-codedeploy.js';
import type { LoadRecords, RecordedLoad } from './rollback-load.js';
import {
  type FailureKind,
  LEAD_MS,
  OBSERVE_MS,
  POLL_MS,
  SETTLE_MS,
  SLOW_LIMIT_MS,
  TAIL_MS,
} from './rollback-settings.js';
import type { RollbackProxy } from './rollback-switchyard.js';
import type { UpstreamPair } from './rollback-upstreams.js';

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

/** What one run needs: the switchyard, upstreams and load it shares with the others, and its settings. */
export interface RunSetup {
  readonly sy: RollbackProxy;
  readonly up: UpstreamPair;
  readonly load: RecordedLoad;
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
export async function oneRun(s: RunSetup): Promise<RollbackSample> {
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
  if (watched.info.status === 'InProgress' || watched.info.status === 'Ready') await stopDeployment(sy, deploymentId);
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

/** What clients saw over the run, counted from the load's records. */
interface ClientView {
  failed: number;
  errors: number;
  slow: number;
  /** Responses to requests sent before the switch, and of those, how many version 2 answered. */
  before: number;
  greenBefore: number;
  lastGreen: number;
  firstFailure: number;
}

function clientView(r: LoadRecords, flippedAt: number): ClientView {
  const v: ClientView = {
    failed: 0,
    errors: 0,
    slow: 0,
    before: 0,
    greenBefore: 0,
    lastGreen: -Infinity,
    firstFailure: Infinity,
  };
  for (let i = 0; i < r.count; i++) {
    const status = r.status[i]!;
    const done = r.doneAt[i]!;
    if (status < 200 || status >= 300) {
      v.failed++;
      if (status === 0) v.errors++;
      v.firstFailure = Math.min(v.firstFailure, done);
    }
    if (done - r.sentAt[i]! > SLOW_LIMIT_MS) v.slow++;
    if (r.version[i] === 2) v.lastGreen = Math.max(v.lastGreen, done);
    if (r.sentAt[i]! < flippedAt) {
      v.before++;
      if (r.version[i] === 2) v.greenBefore++;
    }
  }
  return v;
}

function sampleOf(
  s: RunSetup,
  deploymentId: string,
  w: Watched,
  r: LoadRecords,
  greenArrivals: readonly number[],
): RollbackSample {
  const { info, flippedAt, stopSeen } = w;
  const v = clientView(r, flippedAt);
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
    lastGreenResponseMs: rel(v.lastGreen),
    firstFailureMs: rel(v.firstFailure),
    greenRequestsAfter: after.length,
    greenShareBefore: v.before ? v.greenBefore / v.before : 0,
    requests: r.count,
    rps: spanS > 0 ? r.count / spanS : 0,
    failed: v.failed,
    errors: v.errors,
    slow: v.slow,
  };
}
