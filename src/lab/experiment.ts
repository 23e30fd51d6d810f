/**
 * @module lab/experiment
 * The policy lab's experiment file: the load, the versions, the scenarios (what is wrong with the
 * replacement, if anything), the policies (deployment configurations with their alarms) and how often to
 * repeat each pair. A zod schema, checked like the config: every problem at once, at its line and column.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { z } from 'zod';

import { predefinedConfig } from '../codedeploy/predefined-configs.js';
import { ShiftSpec } from '../codedeploy/shift-spec.js';
import type { TrafficShift } from '../codedeploy/traffic-shift.js';
import { AlarmsConfig } from '../config/alarms.js';
import { FaultConfig } from '../config/faults.js';
import { HeaderName } from '../config/fields.js';
import { zodIssues } from '../config/load.js';
import { SyntheticConfig } from '../config/synthetic.js';
import { VersionLabel } from '../config/versions.js';
import { describeError } from '../core/describe-error.js';
import { Duration } from '../core/duration.js';
import { type FileIssue, SwitchyardError } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import { formatPath, readYaml, type YamlSource } from '../core/yaml-source.js';

const Name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:+%-]{0,63}$/, { message: 'must be 1-64 letters, digits, spaces or ._:+%-' });

/** One kind of request the load sends, drawn in proportion to `weight`. */
const RequestKind = z.strictObject({
  method: z
    .enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], { error: 'must be GET, HEAD, POST, PUT, PATCH or DELETE' })
    .default('GET'),
  path: z.string().startsWith('/', { message: 'must start with /' }).default('/'),
  weight: z.number().positive('must be more than 0').default(1),
  headers: z.record(HeaderName, z.string()).optional(),
  body: z.string().max(1_048_576).optional(),
});
export type RequestKind = z.infer<typeof RequestKind>;

/**
 * The load: an open loop that sends `rate` requests per second of real time whatever the answers take
 * (a closed loop would slow down with a slow version and hide its latency), from `users` distinct users
 * whose id goes in `userHeader` (the sticky key when `sticky` is on).
 */
const Load = z.strictObject({
  rate: z.number().positive('must be more than 0').max(50_000, 'must be at most 50000 requests/s'),
  connections: z.number().int().min(1).max(1024).default(32),
  users: z.number().int().min(1).max(10_000_000).default(1000),
  userHeader: HeaderName.default('x-user'),
  sticky: z.boolean().default(false),
  requests: z
    .array(RequestKind)
    .min(1, 'needs at least one kind of request')
    .default([{ method: 'GET', path: '/', weight: 1 }]),
  /** Real time of load on the original before the deployment is created. */
  before: Duration.default(1_000),
  /** Real time of load after the deployment ended. */
  after: Duration.default(0),
  /** A request without an answer after this is a failure (a timeout). */
  timeout: Duration.pipe(z.number().positive({ error: 'must be longer than 0' })).default(10_000),
});
export type Load = z.infer<typeof Load>;

/**
 * The two versions: synthetic ones switchyard runs itself (`synthetic: { original, replacement }`), or
 * two versions of a service in the user's own config file (live mode only).
 */
const Versions = z
  .strictObject({
    synthetic: z.strictObject({ original: SyntheticConfig, replacement: SyntheticConfig }).optional(),
    config: z.string().min(1).optional(),
    service: z.string().min(1).optional(),
    original: VersionLabel.optional(),
    replacement: VersionLabel.optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.synthetic === undefined) === (v.config === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'must give either synthetic versions or a config file' });
      return;
    }
    const own = ['service', 'original', 'replacement'] as const;
    for (const key of own) {
      if (v.synthetic && v[key] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'applies only with a config file' });
      }
      if (v.config && v[key] === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'is required with a config file' });
      }
    }
  })
  .transform((v): VersionsSpec =>
    v.synthetic
      ? { kind: 'synthetic', original: v.synthetic.original, replacement: v.synthetic.replacement }
      : { kind: 'config', config: v.config!, service: v.service!, original: v.original!, replacement: v.replacement! },
  );

/** Where the two versions come from. */
export type VersionsSpec =
  | { readonly kind: 'synthetic'; readonly original: SyntheticConfig; readonly replacement: SyntheticConfig }
  | {
      readonly kind: 'config';
      /** The config file, absolute once loaded. */
      readonly config: string;
      readonly service: string;
      readonly original: string;
      readonly replacement: string;
    };

/** A policy: a deployment configuration (predefined name or a shift), its alarms and retry on the original. */
const Policy = z.strictObject({
  name: Name,
  config: z.union([z.string().min(1), ShiftSpec], {
    error:
      'must be a predefined configuration name or a shift ({ type: TimeBasedCanary, percent, interval } or { steps })',
  }),
  /** Alarm names from `alarms:`; absent = every alarm of the experiment. */
  alarms: z.array(z.string().min(1)).optional(),
  retryOnOriginal: z.boolean().default(false),
});

/** A scenario: what the replacement does in it — faults injected into its requests, another behaviour, or nothing. */
const Scenario = z.strictObject({
  name: Name,
  description: z.string().max(500).optional(),
  faults: FaultConfig.optional(),
  /** The replacement's behaviour in this scenario, instead of `versions.synthetic.replacement`. */
  replacement: SyntheticConfig.optional(),
});

const ExperimentShape = z.strictObject({
  name: Name.optional(),
  description: z.string().max(2000).optional(),
  /** Every draw of every run comes from this seed (and the run's policy, scenario and repeat). */
  seed: z.number().int().min(0).max(0xffff_ffff).default(1),
  repeat: z.number().int().min(1).max(100_000).default(1),
  /** Divides deployment durations, as the config's timeScale does. */
  timeScale: z.number().positive('must be greater than 0').max(1_000_000).default(1),
  alarmEvaluationInterval: Duration.pipe(z.number().min(10, 'must be at least 10ms')).default(250),
  /**
   * How long (deployment time) the original stays routable after 100%, its alarms still watched: the
   * group's termination wait. A whole number of minutes, as CodeDeploy's terminationWaitTimeInMinutes.
   */
  bake: Duration.refine((ms) => ms % 60_000 === 0, { message: 'must be whole minutes (0m, 1m, 5m, …)' })
    .refine((ms) => ms <= 2880 * 60_000, { message: 'must be at most 2880m (two days), as CodeDeploy allows' })
    .default(300_000),
  load: Load,
  versions: Versions,
  alarms: AlarmsConfig,
  policies: z.array(Policy).min(1, 'needs at least one policy'),
  scenarios: z.array(Scenario).min(1, 'needs at least one scenario'),
});

/** A policy ready to run: its shift resolved. */
export interface PolicySpec {
  readonly name: string;
  /** The predefined name, or a description of the custom shift. */
  readonly configName: string;
  readonly shift: TrafficShift;
  readonly alarms: readonly string[];
  readonly retryOnOriginal: boolean;
}

export type ScenarioSpec = z.infer<typeof Scenario>;

/** A validated experiment. */
export type Experiment = Omit<z.infer<typeof ExperimentShape>, 'policies'> & {
  readonly name: string;
  readonly policies: readonly PolicySpec[];
  /** The experiment file, absolute ('' when parsed from text alone). */
  readonly file: string;
};

interface Problem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** What the schema cannot see by itself: names that must exist and be unique. */
function problemsOf(parsed: z.infer<typeof ExperimentShape>): Problem[] {
  const problems: Problem[] = [];
  const unique = (list: readonly { name: string }[], key: string) => {
    const seen = new Set<string>();
    list.forEach((item, i) => {
      if (seen.has(item.name)) problems.push({ path: [key, i, 'name'], message: `"${item.name}" is named twice` });
      seen.add(item.name);
    });
  };
  unique(parsed.policies, 'policies');
  unique(parsed.scenarios, 'scenarios');
  parsed.policies.forEach((policy, i) => {
    if (typeof policy.config === 'string') {
      const known = predefinedConfig(policy.config);
      if (!known?.trafficRouting) {
        problems.push({
          path: ['policies', i, 'config'],
          message: `"${policy.config}" is not a predefined Lambda or ECS configuration (CodeDeployDefault.…)`,
        });
      }
    }
    if (typeof policy.config !== 'string' && 'steps' in policy.config) {
      policy.config.steps.forEach((step, j) => {
        // Nobody continues a lab's deployment by hand: a run would wait until its deadline.
        if (step.pauseMs === null) {
          problems.push({
            path: ['policies', i, 'config', 'steps', j],
            message: 'needs a pause: nobody continues a lab run by hand',
          });
        }
      });
    }
    (policy.alarms ?? []).forEach((name, j) => {
      if (!(name in parsed.alarms))
        problems.push({ path: ['policies', i, 'alarms', j], message: `no alarm "${name}" in alarms` });
    });
  });
  if (parsed.versions.kind === 'config') {
    parsed.scenarios.forEach((s, i) => {
      if (s.replacement) {
        problems.push({ path: ['scenarios', i, 'replacement'], message: 'applies only with synthetic versions' });
      }
    });
  }
  return problems;
}

/** A short name for a custom shift, for tables. */
function shiftName(spec: z.infer<typeof Policy>['config'], shift: TrafficShift): string {
  if (typeof spec === 'string') return spec;
  switch (shift.kind) {
    case 'allAtOnce':
      return 'AllAtOnce';
    case 'canary':
      return `Canary${shift.weight / 100}Percent${shift.intervalMs / 1000}s`;
    case 'linear':
      return `Linear${shift.step / 100}PercentEvery${shift.intervalMs / 1000}s`;
    case 'steps':
      return `Steps(${shift.steps.map((s) => s.weight / 100).join(',')})`;
  }
}

/** Validates experiment text; throws EXPERIMENT_INVALID listing every problem with line and column. */
export function parseExperiment(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Experiment {
  const source = readYaml(text, file, env);
  if (source.issues.length) throw invalid(file, source.issues);
  const result = ExperimentShape.safeParse(source.value);
  if (!result.success) throw invalid(file, zodIssues(result.error, source));
  const problems = problemsOf(result.data);
  if (problems.length) {
    const place = (issue: FileIssue) => (issue.location?.line ?? 0) * 1e6 + (issue.location?.column ?? 0);
    throw invalid(
      file,
      problems.map((p) => locate(p, source)).sort((a, b) => place(a) - place(b)),
    );
  }
  const parsed = result.data;
  const base = file ? dirname(resolve(file)) : process.cwd();
  const experiment: Experiment = {
    ...parsed,
    name: parsed.name ?? (file ? file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '') : 'experiment'),
    file: file ? resolve(file) : '',
    versions:
      parsed.versions.kind === 'config'
        ? { ...parsed.versions, config: resolve(base, parsed.versions.config) }
        : parsed.versions,
    policies: parsed.policies.map((p) => {
      const shift = typeof p.config === 'string' ? predefinedConfig(p.config)!.trafficRouting! : p.config;
      return {
        name: p.name,
        configName: shiftName(p.config, shift),
        shift,
        alarms: p.alarms ?? Object.keys(parsed.alarms),
        retryOnOriginal: p.retryOnOriginal,
      };
    }),
  };
  return deepFreeze(experiment);
}

/** Reads and validates an experiment file. */
export async function loadExperiment(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Experiment> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new SwitchyardError('EXPERIMENT_INVALID', `cannot read experiment file ${file}: ${describeError(cause)}`, {
      cause,
    });
  }
  return parseExperiment(text, file, env);
}

function locate(problem: Problem, source: YamlSource): FileIssue {
  return { location: source.locate(problem.path), path: formatPath(problem.path), message: problem.message };
}

function invalid(file: string, issues: readonly FileIssue[]): SwitchyardError {
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return new SwitchyardError('EXPERIMENT_INVALID', `${file}: ${issues.length} ${noun}`, { issues });
}
