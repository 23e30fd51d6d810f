/**
 * @module lab/report-schema
 * report.json as data from outside (an upload to the control API, a file in the reports folder): a zod
 * schema of {@link ExperimentReport}, the report as the lab writes it. The experiment part is the parsed
 * form (durations in ms, a shift as `TrafficShift`), not the experiment file's, so the config schemas
 * cannot be reused for it. A compile-time check below keeps the schema and the type the same both ways.
 */
import { z } from 'zod';

import { TrafficShift } from '../codedeploy/traffic-shift.js';
import { SwitchyardError } from '../core/errors.js';
import { formatPath } from '../core/yaml-source.js';
import type { ExperimentReport } from './results.js';

const list = <T extends z.ZodType>(item: T) => z.array(item).readonly();
const count = z.number().int().nonnegative();
const ms = z.number();
const msOrNull = ms.nullable();
const Mode = z.enum(['live', 'sim']);
const Outcome = z.enum(['Succeeded', 'RolledBack', 'Stopped', 'Failed']);

const Latency = z.union([z.object({ fixedMs: ms }), z.object({ p50Ms: ms, p99Ms: ms })]);

/** A synthetic version's behaviour, parsed (config/synthetic's output). */
const Synthetic = z.object({
  latency: Latency,
  bodyBytes: count,
  errors: z.object({ percent: z.number(), status: z.number().int() }).optional(),
  warmup: z
    .union([z.object({ durationMs: ms, factor: z.number() }), z.object({ requests: count, factor: z.number() })])
    .optional(),
  capacity: z.object({ inFlight: count, queue: count, queueTimeoutMs: ms }).optional(),
  seed: z.number().int().optional(),
});

/** A version's faults, parsed (config/faults' output). */
const Faults = z.object({
  abort: z
    .union([
      z.object({ percent: z.number(), reset: z.literal(true) }),
      z.object({ percent: z.number(), status: z.number().int() }),
    ])
    .optional(),
  delay: z
    .union([z.object({ percent: z.number(), fixedMs: ms }), z.object({ percent: z.number(), p50Ms: ms, p99Ms: ms })])
    .optional(),
  seed: z.number().int().optional(),
  schedule: z.object({ afterMs: ms, rampMs: ms.optional(), fromPercent: z.number().optional() }).optional(),
});

const Versions = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('synthetic'), original: Synthetic, replacement: Synthetic }),
  z.object({
    kind: z.literal('config'),
    config: z.string(),
    service: z.string(),
    original: z.string(),
    replacement: z.string(),
  }),
]);

const Load = z.object({
  rate: z.number(),
  connections: count,
  users: count,
  userHeader: z.string(),
  sticky: z.boolean(),
  requests: z.array(
    z.object({
      method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
      path: z.string(),
      weight: z.number(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.string().optional(),
    }),
  ),
  before: ms,
  after: ms,
  timeout: ms,
});

const Policy = z.object({
  name: z.string().min(1),
  configName: z.string(),
  shift: TrafficShift,
  alarms: list(z.string()),
  retryOnOriginal: z.boolean(),
});

const Scenario = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  faults: Faults.optional(),
  replacement: Synthetic.optional(),
});

const Counts = z.object({ requests: count, failed: count });

const Run = z.object({
  mode: Mode,
  policy: z.string(),
  scenario: z.string(),
  repeat: count,
  outcome: Outcome,
  requests: count,
  failed: count,
  servedByReplacement: count,
  failedOnReplacement: count,
  usersAffected: count,
  detectionMs: msOrNull,
  timeToFullTrafficMs: msOrNull,
  durationMs: ms,
  latency: z.object({ p50: z.number(), p99: z.number() }),
  alarm: z.object({ name: z.string(), reason: z.string() }).optional(),
  timeline: list(z.object({ t: ms, weight: z.number(), original: Counts, replacement: Counts })),
});

const Spread = z.object({ median: z.number(), p95: z.number(), min: z.number(), max: z.number() });

const Summary = z.object({
  mode: Mode,
  policy: z.string(),
  scenario: z.string(),
  runs: count,
  outcomes: z.partialRecord(Outcome, count),
  failed: Spread,
  usersAffected: Spread,
  servedByReplacement: Spread,
  failedOnReplacement: Spread,
  detectionMs: Spread.nullable(),
  timeToFullTrafficMs: Spread.nullable(),
  durationMs: Spread,
  latencyP99: Spread,
});

const Agreement = z.object({
  policy: z.string(),
  scenario: z.string(),
  failed: z.object({ live: z.number(), sim: z.number() }),
  detectionMs: z.object({ live: msOrNull, sim: msOrNull }),
  agrees: z.boolean(),
  why: z.string().optional(),
});

const ReportShape = z.object({
  experiment: z.object({
    name: z.string().min(1),
    file: z.string(),
    seed: z.number().int(),
    repeat: count,
    timeScale: z.number().positive(),
    bakeMs: ms,
    alarmEvaluationIntervalMs: ms,
    load: Load,
    versions: Versions,
    policies: list(Policy),
    scenarios: list(Scenario),
    alarms: z.record(z.string(), z.unknown()),
  }),
  modes: z.array(Mode).min(1).readonly(),
  startedAt: z.string(),
  finishedAt: z.string(),
  complete: z.boolean(),
  runs: list(Run),
  timelinesOmitted: count.optional(),
  failures: list(
    z.object({ mode: Mode, policy: z.string(), scenario: z.string(), repeat: count, reason: z.string() }),
  ).optional(),
  summary: list(Summary),
  agreement: list(Agreement).optional(),
  verdicts: list(z.object({ mode: Mode, scenario: z.string(), text: z.string() })),
});

/** report.json. Unknown keys are dropped, so a report from a later version with more fields still reads. */
export const ExperimentReportSchema = ReportShape.superRefine(checkNames);

/** Runs, rows and verdicts name modes, policies and scenarios the report has: the pages look them up. */
function checkNames(report: z.infer<typeof ReportShape>, ctx: z.RefinementCtx): void {
  const policies = new Set(report.experiment.policies.map((p) => p.name));
  const scenarios = new Set(report.experiment.scenarios.map((s) => s.name));
  const modes = new Set(report.modes);
  const check = (key: 'runs' | 'summary', items: readonly { mode: string; policy: string; scenario: string }[]) => {
    items.forEach((item, i) => {
      const bad = !modes.has(item.mode as 'live' | 'sim')
        ? (['mode', `"${item.mode}" is not one of the report's modes`] as const)
        : !policies.has(item.policy)
          ? (['policy', `"${item.policy}" is not one of the experiment's policies`] as const)
          : !scenarios.has(item.scenario)
            ? (['scenario', `"${item.scenario}" is not one of the experiment's scenarios`] as const)
            : undefined;
      if (bad) ctx.addIssue({ code: 'custom', path: [key, i, bad[0]], message: bad[1] });
    });
  };
  check('runs', report.runs);
  check('summary', report.summary);
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
/** Fails to compile when the schema and the report's type drift apart, either way. */
export type SchemaMatchesReport = Holds<Same<z.infer<typeof ExperimentReportSchema>, ExperimentReport>>;

/**
 * `value` as a report, or LAB_REPORT_INVALID naming the path of the first bad field and what is wrong
 * there (every problem in `issues`).
 */
export function parseExperimentReport(value: unknown, what = 'report.json'): ExperimentReport {
  const result = ExperimentReportSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    location: undefined,
    path: formatPath(issue.path),
    message: issue.message,
  }));
  const first = issues[0]!;
  throw new SwitchyardError(
    'LAB_REPORT_INVALID',
    `${what} is not a policy-lab report: ${first.path ? `${first.path}: ` : ''}${first.message}`,
    { issues },
  );
}
