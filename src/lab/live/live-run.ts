/**
 * @module lab/live/live-run
 * One live run: switchyard started in process with the run's config, the open-loop load on its production
 * listener, after `load.before` a deployment created through the CodeDeploy API and followed to its end,
 * `load.after` more load, then everything closed and the run measured. Nothing is left listening when it
 * returns or throws, and an abort ends it quickly.
 */
import { performance } from 'node:perf_hooks';

import { request } from 'undici';

import { startSwitchyard, type Switchyard } from '../../app/start.js';
import { TERMINAL_STATUSES } from '../../codedeploy/lifecycle.js';
import { describeError } from '../../core/describe-error.js';
import { SwitchyardError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { OUTCOME_ERROR, type StatsDelta } from '../../core/stats-delta.js';
import type { DeploymentRecord } from '../../shifting/deployment.js';
import { totalDurationMs } from '../../shifting/schedule.js';
import { labAppSpec } from '../appspec.js';
import type { Experiment } from '../experiment.js';
import type { RunResult, RunSpec } from '../results.js';
import { LAB, liveConfig, versionLabels } from './live-config.js';
import { type RunningLoad, startLoad } from './load.js';
import { measure, type WeightSample } from './measure.js';

/** How often the runner reads the replacement's weight and the deployment's status (real time). */
const POLL_MS = 20;

/** Real time a deployment may take beyond twice its schedule before a run gives up on it. */
const DEADLINE_MARGIN_MS = 30_000;

/** The error a run rejects with when its signal aborts it. */
function abortError(): Error {
  return new DOMException('the live run was aborted', 'AbortError');
}

/** Resolves after `ms`, or rejects with an AbortError as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Calls `action` of the CodeDeploy API on `controlUrl`; resolves with its answer's text. */
async function codeDeploy(controlUrl: string, action: string, body: unknown, signal: AbortSignal): Promise<string> {
  const res = await request(`${controlUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${action}` },
    body: JSON.stringify(body),
    signal,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    throw new SwitchyardError('EXPERIMENT_FAILED', `${action} answered ${res.statusCode}: ${text}`);
  }
  return text;
}

/** Creates the run's deployment through the CodeDeploy API on `controlUrl`; resolves with its id. */
async function createDeployment(controlUrl: string, replacement: string, signal: AbortSignal): Promise<string> {
  const text = await codeDeploy(
    controlUrl,
    'CreateDeployment',
    {
      applicationName: LAB.application,
      deploymentGroupName: LAB.group,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: labAppSpec(LAB.service, replacement) } },
    },
    signal,
  );
  const id = (JSON.parse(text) as { deploymentId?: unknown }).deploymentId;
  if (typeof id !== 'string') throw new SwitchyardError('EXPERIMENT_FAILED', `CreateDeployment gave no id: ${text}`);
  return id;
}

/**
 * The longest a run's deployment may take in real time before the run gives up: twice its shift and
 * bake, plus a margin for its lifecycle events (a version's start, health checks).
 */
export function deploymentDeadlineMs(experiment: Experiment, spec: RunSpec): number {
  const shift = totalDurationMs(spec.policy.shift);
  if (shift === null) {
    throw new SwitchyardError(
      'EXPERIMENT_INVALID',
      `policy "${spec.policy.name}" has a step that waits for a manual continue, which a live run cannot give`,
    );
  }
  return (2 * (shift + experiment.bake)) / experiment.timeScale + DEADLINE_MARGIN_MS;
}

/** Resolves with the deployment once it has ended (its status terminal), checking every POLL_MS. */
async function followDeployment(
  sy: Switchyard,
  id: string,
  deadlineMs: number,
  signal: AbortSignal,
): Promise<DeploymentRecord> {
  const giveUpAt = performance.now() + deadlineMs;
  for (;;) {
    const record = sy.engine.get(id);
    if (!record) throw new SwitchyardError('EXPERIMENT_FAILED', `deployment ${id} is gone`);
    if (TERMINAL_STATUSES.has(record.status)) return record;
    if (performance.now() > giveUpAt) {
      throw new SwitchyardError(
        'EXPERIMENT_FAILED',
        `deployment ${id} had not ended after ${Math.round(deadlineMs)} ms (status ${record.status})`,
      );
    }
    await pause(POLL_MS, signal);
  }
}

/** Counts what the proxy itself saw the replacement serve, retried requests included. */
function replacementCounter(replacement: string): {
  readonly counts: { served: number; failed: number };
  readonly listener: (delta: StatsDelta) => void;
} {
  const counts = { served: 0, failed: 0 };
  const listener = (delta: StatsDelta) => {
    for (const e of delta.entries) {
      if (e.service !== LAB.service || e.version !== replacement || e.mirrored) continue;
      for (const n of e.counts) counts.served += n;
      counts.failed += e.counts[3]! + e.counts[OUTCOME_ERROR]!;
    }
  };
  return { counts, listener };
}

/** Samples the replacement's production weight every POLL_MS, keeping only changes. */
function weightSampler(
  sy: Switchyard,
  replacement: string,
  startedAt: number,
): { samples: WeightSample[]; stop(): void } {
  const samples: WeightSample[] = [];
  let last = 0;
  const sample = () => {
    const weight = sy.traffic.service(LAB.service).weights.production[replacement] ?? 0;
    if (weight !== last) samples.push({ at: performance.now() - startedAt, weight });
    last = weight;
  };
  const timer = setInterval(sample, POLL_MS);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      sample();
    },
  };
}

/** What a caller may watch of a live run. */
export interface LiveRunOptions {
  /** Called once switchyard listens, with its base URLs (`production`, `control`). */
  readonly onStarted?: (urls: Readonly<Record<string, string>>) => void;
}

/**
 * Carries out one run of `experiment` live and measures it. Rejects with an AbortError soon after
 * `signal` aborts, with the load stopped and switchyard closed.
 */
export async function runLive(
  experiment: Experiment,
  spec: RunSpec,
  signal: AbortSignal,
  options: LiveRunOptions = {},
): Promise<RunResult> {
  if (signal.aborted) throw abortError();
  const labels = versionLabels(experiment);
  const deadlineMs = deploymentDeadlineMs(experiment, spec);
  const config = await liveConfig(experiment, spec);
  const sy = await startSwitchyard(config, { log: createLogger({ level: 'silent' }) });
  const counter = replacementCounter(labels.replacement);
  const unsubscribe = sy.stats.subscribe(counter.listener);
  let load: RunningLoad | undefined;
  let sampler: ReturnType<typeof weightSampler> | undefined;
  // An abort while the last answers are awaited cuts them off rather than waiting out their timeout.
  const cut = () => void load?.destroy();
  signal.addEventListener('abort', cut, { once: true });
  try {
    if (signal.aborted) throw abortError();
    options.onStarted?.(sy.urls);
    // One call before the load, so the deployment's creation finds a warm connection and API: it then
    // lands within a few ms of load.before rather than a cold first call's 100 ms or more.
    await codeDeploy(
      sy.urls['control']!,
      'GetDeploymentGroup',
      { applicationName: LAB.application, deploymentGroupName: LAB.group },
      signal,
    );
    load = startLoad(experiment.load, {
      url: sy.urls['production']!,
      seed: spec.seed,
      versionHeader: config.versionHeader === false ? 'x-switchyard-version' : config.versionHeader,
      ...labels,
    });
    sampler = weightSampler(sy, labels.replacement, load.startedAt);
    await pause(experiment.load.before, signal);
    const id = await createDeployment(sy.urls['control']!, labels.replacement, signal);
    const deployment = await followDeployment(sy, id, deadlineMs, signal);
    // The engine's creation instant (Date.now, as the load's start is kept too) on the load's clock.
    const createdAt = deployment.wallTimes.create - load.startedAtWall;
    await pause(experiment.load.after, signal);
    const record = await load.stop();
    if (signal.aborted) throw abortError();
    load = undefined;
    sampler.stop();
    // What the data plane counted since the last pull, so the replacement's figures are whole.
    sy.stats.pull();
    return measure({
      spec,
      load: record,
      weights: sampler.samples,
      deployment,
      createdAt,
      timeScale: experiment.timeScale,
      replacement: counter.counts,
      onsetAfterMs: spec.scenario.faults?.schedule?.afterMs ?? 0,
    });
  } catch (err) {
    if (signal.aborted) throw abortError();
    if (err instanceof SwitchyardError) throw err;
    throw new SwitchyardError('EXPERIMENT_FAILED', `live run failed: ${describeError(err)}`, { cause: err });
  } finally {
    signal.removeEventListener('abort', cut);
    sampler?.stop();
    unsubscribe();
    await load?.destroy();
    await sy.close();
  }
}
