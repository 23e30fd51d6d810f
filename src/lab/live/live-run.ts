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
import type { Experiment } from '../experiment.js';
import type { RunResult, RunSpec } from '../results.js';
import { LAB, liveConfig, versionLabels } from './live-config.js';
import { type RunningLoad, startLoad } from './load.js';
import { measure, type WeightSample } from './measure.js';

/** How often the runner reads the replacement's weight and the deployment's status (real time). */
const POLL_MS = 20;

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

/** The ECS AppSpec that deploys `label` of the lab's service. */
export function appSpecFor(label: string): string {
  return [
    'version: 0.0',
    'Resources:',
    '  - TargetService:',
    '      Type: AWS::ECS::Service',
    '      Properties:',
    `        TaskDefinition: ${JSON.stringify(`arn:aws:ecs:us-east-1:000000000000:task-definition/${LAB.service}:${label}`)}`,
    `        LoadBalancerInfo: { ContainerName: ${LAB.service}, ContainerPort: 8080 }`,
    '',
  ].join('\n');
}

/** Creates the run's deployment through the CodeDeploy API on `controlUrl`; resolves with its id. */
async function createDeployment(controlUrl: string, replacement: string, signal: AbortSignal): Promise<string> {
  const res = await request(`${controlUrl}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'CodeDeploy_20141006.CreateDeployment',
    },
    body: JSON.stringify({
      applicationName: LAB.application,
      deploymentGroupName: LAB.group,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpecFor(replacement) } },
    }),
    signal,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    throw new SwitchyardError('EXPERIMENT_FAILED', `CreateDeployment answered ${res.statusCode}: ${text}`);
  }
  const id = (JSON.parse(text) as { deploymentId?: unknown }).deploymentId;
  if (typeof id !== 'string') throw new SwitchyardError('EXPERIMENT_FAILED', `CreateDeployment gave no id: ${text}`);
  return id;
}

/** Resolves with the deployment once it has ended (its status terminal), checking every POLL_MS. */
async function followDeployment(sy: Switchyard, id: string, signal: AbortSignal): Promise<DeploymentRecord> {
  for (;;) {
    const record = sy.engine.get(id);
    if (!record) throw new SwitchyardError('EXPERIMENT_FAILED', `deployment ${id} is gone`);
    if (TERMINAL_STATUSES.has(record.status)) return record;
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
    load = startLoad(experiment.load, {
      url: sy.urls['production']!,
      seed: spec.seed,
      versionHeader: config.versionHeader === false ? 'x-switchyard-version' : config.versionHeader,
      ...labels,
    });
    sampler = weightSampler(sy, labels.replacement, load.startedAt);
    await pause(experiment.load.before, signal);
    const createdAt = performance.now() - load.startedAt;
    const id = await createDeployment(sy.urls['control']!, labels.replacement, signal);
    const deployment = await followDeployment(sy, id, signal);
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
