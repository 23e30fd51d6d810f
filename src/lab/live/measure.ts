/**
 * @module lab/live/measure
 * Turns what a live run saw (every request the load sent, the replacement's weight over time, the
 * deployment's record and the proxy's own counts for the replacement) into the run's figures. Pure: the
 * runner gathers, this counts.
 */
import type { DeploymentRecord } from '../../shifting/deployment.js';
import type { RunOutcome, RunResult, TimelinePoint } from '../results.js';
import type { RunSpec } from '../results.js';
import { isFailure, type LoadRecord, NO_VERSION, REPLACEMENT } from './load.js';

/** The replacement's percent of production traffic from `at` (ms since the load started) on. */
export interface WeightSample {
  readonly at: number;
  readonly weight: number;
}

/** Everything a live run gathered. */
export interface LiveObservations {
  readonly spec: RunSpec;
  readonly load: LoadRecord;
  /** Weight changes, oldest first; the weight is 0 before the first. */
  readonly weights: readonly WeightSample[];
  /** The deployment as it ended. */
  readonly deployment: DeploymentRecord;
  /** ms since the load started when the deployment was created (real time). */
  readonly createdAt: number;
  readonly timeScale: number;
  /** The proxy's counts for the replacement: requests it answered or failed, retried ones included. */
  readonly replacement: { readonly served: number; readonly failed: number };
  /** When the scenario's fault (or behaviour) sets in, ms of deployment time after AllowTraffic starts. */
  readonly onsetAfterMs: number;
}

/** Real time of a timeline bucket. */
export const BUCKET_MS = 1000;

const ALARM_MESSAGE = /^Alarm "(.*)" went into ALARM: (.*)$/s;

/** The weight at `at` from the samples (the last one at or before it). */
function weightAt(weights: readonly WeightSample[], at: number): number {
  let w = 0;
  for (const s of weights) {
    if (s.at > at) break;
    w = s.weight;
  }
  return w;
}

/** The `q` quantile of `values` (sorted in place), nearest rank; 0 when empty. */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return 0;
  const i = Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1));
  return values[i]!;
}

function outcomeOf(d: DeploymentRecord): RunOutcome {
  if (d.status === 'Succeeded') return 'Succeeded';
  if (d.status === 'Stopped' || d.status === 'Failed') {
    return d.rollbackInfo?.rollbackDeploymentId !== undefined ? 'RolledBack' : d.status;
  }
  // The runner follows a deployment to its end; anything else is a deployment it gave up on.
  return 'Failed';
}

/** The alarm that ended the deployment, from its error. */
function alarmOf(d: DeploymentRecord): { name: string; reason: string } | undefined {
  if (d.errorInformation?.code !== 'ALARM_ACTIVE') return undefined;
  const m = ALARM_MESSAGE.exec(d.errorInformation.message);
  return m ? { name: m[1]!, reason: m[2]! } : { name: '', reason: d.errorInformation.message };
}

/** Deployment-time figures: detection, time to full traffic, duration. */
function deploymentTimes(
  d: DeploymentRecord,
  onsetAfterMs: number,
): Pick<RunResult, 'detectionMs' | 'timeToFullTrafficMs' | 'durationMs'> {
  const allowStart = d.lifecycleEvents.find((e) => e.name === 'AllowTraffic')?.startTime;
  const full = d.timeline.find((e) => e.message === 'weight changed' && e.detail['weight'] === 100);
  const fired = d.errorInformation?.code === 'ALARM_ACTIVE' ? d.completeTime : undefined;
  return {
    detectionMs: fired !== undefined && allowStart !== undefined ? fired - (allowStart + onsetAfterMs) : null,
    timeToFullTrafficMs: full && allowStart !== undefined ? full.time - allowStart : null,
    durationMs: (d.completeTime ?? d.createTime) - d.createTime,
  };
}

/** Per-second buckets; a request without a version header counts for the replacement when it held weight. */
function timelineOf(o: LiveObservations): TimelinePoint[] {
  const { load } = o;
  const buckets = Math.max(1, Math.ceil((load.count > 0 ? load.due[load.count - 1]! + 1 : 0) / BUCKET_MS));
  const counts = new Float64Array(buckets * 4);
  for (let k = 0; k < load.count; k++) {
    const due = load.due[k]!;
    const b = Math.min(buckets - 1, Math.floor(due / BUCKET_MS));
    const v = load.version[k]!;
    const onReplacement = v === REPLACEMENT || (v === NO_VERSION && weightAt(o.weights, due) > 0);
    const base = b * 4 + (onReplacement ? 2 : 0);
    counts[base]!++;
    if (isFailure(load.status[k]!)) counts[base + 1]!++;
  }
  const points: TimelinePoint[] = [];
  for (let b = 0; b < buckets; b++) {
    points.push({
      t: Math.round((b * BUCKET_MS - o.createdAt) * o.timeScale),
      weight: weightAt(o.weights, (b + 1) * BUCKET_MS),
      original: { requests: counts[b * 4]!, failed: counts[b * 4 + 1]! },
      replacement: { requests: counts[b * 4 + 2]!, failed: counts[b * 4 + 3]! },
    });
  }
  return points;
}

/** The run's figures. */
export function measure(o: LiveObservations): RunResult {
  const { load, deployment: d } = o;
  let failed = 0;
  const affected = new Set<number>();
  const latencies: number[] = [];
  for (let k = 0; k < load.count; k++) {
    if (isFailure(load.status[k]!)) {
      failed++;
      affected.add(load.user[k]!);
    }
    const latency = load.latency[k]!;
    if (!Number.isNaN(latency)) latencies.push(latency);
  }
  const sorted = Float64Array.from(latencies).sort();
  const alarm = alarmOf(d);
  return {
    mode: 'live',
    policy: o.spec.policy.name,
    scenario: o.spec.scenario.name,
    repeat: o.spec.repeat,
    outcome: outcomeOf(d),
    requests: load.count,
    failed,
    servedByReplacement: o.replacement.served,
    failedOnReplacement: o.replacement.failed,
    usersAffected: affected.size,
    ...deploymentTimes(d, o.onsetAfterMs),
    latency: { p50: round(quantile(sorted, 0.5)), p99: round(quantile(sorted, 0.99)) },
    ...(alarm && { alarm }),
    timeline: timelineOf(o),
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
