/**
 * @module lab/live/live-config
 * The switchyard config of one live run: one service `lab` with the original (live) and the replacement,
 * the scenario's faults on the replacement, the policy's routing, shift and alarms on an ECS application
 * `lab` with group `lab`, listeners on ephemeral loopback ports and a store in memory. It is built as a
 * config file's content would be and parsed through the same schema and checks, so defaults fill in and
 * anything the API would refuse is refused before the run starts.
 */
import { CONFIG_CHECKS, loadConfig } from '../../app/config.js';
import type { TrafficShift } from '../../codedeploy/traffic-shift.js';
import type { FaultConfig } from '../../config/faults.js';
import { type Config, ConfigSchema, type VersionSpec } from '../../config/schema.js';
import type { SyntheticConfig } from '../../config/synthetic.js';
import { SwitchyardError } from '../../core/errors.js';
import { deriveSeed } from '../../core/random.js';
import type { Experiment } from '../experiment.js';
import type { RunSpec } from '../results.js';

/** The names a live run's config uses. */
export const LAB = {
  service: 'lab',
  application: 'lab',
  group: 'lab',
  /** The custom deployment configuration a policy with its own shift is declared under. */
  customConfig: 'lab-policy',
} as const;

/** The two version labels of a run: `original`/`replacement`, or the user's own with a config file. */
export function versionLabels(experiment: Experiment): { readonly original: string; readonly replacement: string } {
  const v = experiment.versions;
  return v.kind === 'config'
    ? { original: v.original, replacement: v.replacement }
    : { original: 'original', replacement: 'replacement' };
}

/** A synthetic behaviour back in the config file's form (durations as milliseconds). */
export function syntheticInput(s: SyntheticConfig): Record<string, unknown> {
  const latency =
    'fixedMs' in s.latency ? { fixed: s.latency.fixedMs } : { p50: s.latency.p50Ms, p99: s.latency.p99Ms };
  return {
    latency,
    bodyBytes: s.bodyBytes,
    ...(s.errors && { errors: s.errors }),
    ...(s.warmup && {
      warmup:
        'durationMs' in s.warmup
          ? { duration: s.warmup.durationMs, factor: s.warmup.factor }
          : { requests: s.warmup.requests, factor: s.warmup.factor },
    }),
    ...(s.capacity && {
      capacity: { inFlight: s.capacity.inFlight, queue: s.capacity.queue, queueTimeout: s.capacity.queueTimeoutMs },
    }),
    ...(s.seed !== undefined && { seed: s.seed }),
  };
}

/** Faults back in the config file's form; `seed` stands in for an absent one. */
export function faultsInput(f: FaultConfig, seed: number): Record<string, unknown> {
  const delay = f.delay;
  return {
    ...(f.abort && { abort: f.abort }),
    ...(delay && {
      delay:
        'fixedMs' in delay
          ? { percent: delay.percent, fixed: delay.fixedMs }
          : { percent: delay.percent, p50: delay.p50Ms, p99: delay.p99Ms },
    }),
    seed: f.seed ?? seed,
    ...(f.schedule && {
      schedule: {
        after: f.schedule.afterMs,
        ...(f.schedule.rampMs !== undefined && { ramp: f.schedule.rampMs, from: f.schedule.fromPercent }),
      },
    }),
  };
}

/** A traffic shift back in the config's ShiftSpec form (percentages and milliseconds). */
export function shiftInput(shift: TrafficShift): Record<string, unknown> {
  switch (shift.kind) {
    case 'allAtOnce':
      return { type: 'AllAtOnce' };
    case 'canary':
      return { type: 'TimeBasedCanary', percent: shift.weight / 100, interval: shift.intervalMs };
    case 'linear':
      return { type: 'TimeBasedLinear', percent: shift.step / 100, interval: shift.intervalMs };
    case 'steps':
      return {
        steps: shift.steps.map((s) => ({ weight: s.weight / 100, ...(s.pauseMs !== null && { pause: s.pauseMs }) })),
      };
  }
}

/** The deployment group of a run: its configuration, alarms, automatic rollback and bake (termination wait). */
function groupInput(experiment: Experiment, spec: RunSpec, configName: string): Record<string, unknown> {
  return {
    deploymentConfigName: configName,
    serviceRoleArn: 'arn:aws:iam::000000000000:role/lab',
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    ecsServices: [{ clusterName: 'lab', serviceName: LAB.service }],
    alarmConfiguration: {
      enabled: spec.policy.alarms.length > 0,
      alarms: spec.policy.alarms.map((name) => ({ name })),
    },
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: experiment.bake / 60_000,
      },
    },
  };
}

/** The two versions as the schema takes them, with a placeholder for a config file's (spliced in after). */
function versionsInput(experiment: Experiment, spec: RunSpec): Record<string, unknown> {
  const v = experiment.versions;
  if (v.kind === 'config') {
    const placeholder = { targets: ['http://127.0.0.1:9'] };
    return { [v.original]: placeholder, [v.replacement]: placeholder };
  }
  // Seeded from the run when the behaviour names no seed, so a repeat draws as its simulation does.
  const seeded = (s: SyntheticConfig, label: string) => ({
    synthetic: { ...syntheticInput(s), seed: s.seed ?? deriveSeed(spec.seed, 'synthetic', label) },
  });
  return {
    original: seeded(v.original, 'original'),
    replacement: seeded(spec.scenario.replacement ?? v.replacement, 'replacement'),
  };
}

/** The plain config object of a run, before parsing. */
export function liveConfigInput(experiment: Experiment, spec: RunSpec): Record<string, unknown> {
  const labels = versionLabels(experiment);
  // A predefined Lambda configuration (which an ECS group refuses) runs as the same shift declared custom.
  const predefined = spec.policy.configName.startsWith('CodeDeployDefault.ECS');
  const configName = predefined ? spec.policy.configName : LAB.customConfig;
  const faults = spec.scenario.faults;
  return {
    listeners: { production: { host: '127.0.0.1', port: 0 } },
    control: { host: '127.0.0.1', port: 0 },
    store: 'memory',
    logLevel: 'silent',
    // The load has stopped when switchyard closes: nothing is left to drain but stragglers.
    drainTimeout: 1_000,
    timeScale: experiment.timeScale,
    alarmEvaluationInterval: experiment.alarmEvaluationInterval,
    alarms: experiment.alarms,
    services: [
      {
        name: LAB.service,
        versions: versionsInput(experiment, spec),
        live: labels.original,
        ...(faults && { faults: { [labels.replacement]: faultsInput(faults, deriveSeed(spec.seed, 'faults')) } }),
        routing: {
          retryOnOriginal: spec.policy.retryOnOriginal,
          ...(experiment.load.sticky && { sticky: { header: experiment.load.userHeader } }),
        },
      },
    ],
    ...(!predefined && {
      deploymentConfigs: { [configName]: { computePlatform: 'ECS', trafficRouting: shiftInput(spec.policy.shift) } },
    }),
    applications: {
      [LAB.application]: {
        computePlatform: 'ECS',
        deploymentGroups: { [LAB.group]: groupInput(experiment, spec, configName) },
      },
    },
  };
}

/** Parses a run's config object through the config schema and the declaration checks. */
function parseLive(input: Record<string, unknown>): Config {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new SwitchyardError('EXPERIMENT_INVALID', `the run's config is invalid: ${parsed.error.message}`);
  }
  const problems = CONFIG_CHECKS.flatMap((check) => check(parsed.data));
  if (problems.length) {
    const text = problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ');
    throw new SwitchyardError('EXPERIMENT_INVALID', `the run's config is invalid: ${text}`);
  }
  return parsed.data;
}

/** The versions of the experiment's config file: its service's original and replacement, as it declares them. */
async function configVersions(experiment: Experiment): Promise<Record<string, VersionSpec>> {
  const v = experiment.versions;
  if (v.kind !== 'config') return {};
  const user = await loadConfig(v.config);
  const service = user.services.find((s) => s.name === v.service);
  if (!service) {
    throw new SwitchyardError('EXPERIMENT_INVALID', `${v.config} has no service "${v.service}"`);
  }
  const out: Record<string, VersionSpec> = {};
  for (const label of [v.original, v.replacement]) {
    const version = service.versions[label];
    if (!version) {
      throw new SwitchyardError(
        'EXPERIMENT_INVALID',
        `service "${v.service}" of ${v.config} has no version "${label}"`,
      );
    }
    out[label] = version;
  }
  return out;
}

/**
 * The validated switchyard config of one run. With a config file, its service's two versions (targets or
 * command, working folder resolved) replace the placeholders; its listeners, store and applications are
 * not used.
 */
export async function liveConfig(experiment: Experiment, spec: RunSpec): Promise<Config> {
  const config = parseLive(liveConfigInput(experiment, spec));
  if (experiment.versions.kind !== 'config') return config;
  const versions = await configVersions(experiment);
  return { ...config, services: config.services.map((s) => ({ ...s, versions })) };
}
