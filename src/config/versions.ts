/**
 * @module config/versions
 * A service's version as the config file gives it: fixed targets, or a command switchyard runs itself,
 * and the health checks that judge its targets.
 */
import { z } from 'zod';

import { Duration } from '../core/duration.js';
import { isHttpUrl } from '../core/url.js';
import { numberAsText } from './fields.js';
import { type FunctionSpec, LambdaConfig } from './functions.js';
import { SyntheticConfig } from './synthetic.js';

const HttpUrl = z.string().refine(isHttpUrl, { message: 'must be an http(s) URL' });

/** A label that names a version: what an AppSpec's TargetVersion or task definition revision refers to. */
export const LABEL = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const VersionLabel = z.string().regex(LABEL, {
  message: 'must be 1-128 letters, digits, dots, dashes, underscores or colons',
});

/** `200`, `2xx` or `200-399`: the statuses a health check accepts, as an inclusive range. */
const StatusRange = z.union([z.number(), z.string()]).transform((value, ctx): readonly [number, number] => {
  const text = String(value).trim();
  const single = /^([1-5]\d\d)$/.exec(text);
  const klass = /^([1-5])xx$/i.exec(text);
  const range = /^([1-5]\d\d)\s*-\s*([1-5]\d\d)$/.exec(text);
  if (single) return [Number(single[1]), Number(single[1])];
  if (klass) return [Number(klass[1]) * 100, Number(klass[1]) * 100 + 99];
  if (range && Number(range[1]) <= Number(range[2])) return [Number(range[1]), Number(range[2])];
  ctx.addIssue({ code: 'custom', message: 'must be a status (200), a class (2xx) or a range (200-399)' });
  return z.NEVER;
});

/**
 * Active health checks of a version's targets, which run all the time: `path` must answer within
 * `timeout` with a status in `expectStatus`; `unhealthyThreshold` failures in a row take a target out of
 * rotation and `healthyThreshold` passes in a row bring it back. Install also waits for every target to pass.
 */
export const HealthCheckConfig = z.strictObject({
  path: z.string().startsWith('/', { message: 'must start with /' }).default('/'),
  interval: Duration.pipe(z.number().positive({ error: 'must be longer than 0' })).default(1_000),
  timeout: Duration.pipe(z.number().positive({ error: 'must be longer than 0' })).default(2_000),
  healthyThreshold: z.number().int().min(1).max(100).default(2),
  unhealthyThreshold: z.number().int().min(1).max(100).default(3),
  expectStatus: StatusRange.default([200, 399]),
});

/**
 * A version is fixed `targets` (already running somewhere), a local "task set": `instances` copies of
 * `command`, each given a free port in `PORT`, started at Install (or at start when live), or a
 * `synthetic` service switchyard serves itself with the behaviour given (config/synthetic), started
 * likewise, or a Lambda-like function (`lambda`, config/functions) whose first environment starts likewise. Checked as one object so that a wrong or extra key is reported at that key.
 */
export const VersionConfig = z
  .strictObject({
    targets: z.array(HttpUrl).min(1, 'a version needs at least one target').optional(),
    command: z
      .union([z.string().min(1), z.array(z.string()).min(1, 'must name a program')], {
        error: 'must be a command line (string) or a program and its arguments (list of strings)',
      })
      .optional(),
    synthetic: SyntheticConfig.optional(),
    lambda: LambdaConfig.optional(),
    env: z.record(z.string(), z.preprocess(numberAsText, z.string())).optional(),
    cwd: z.string().min(1).optional(),
    instances: z.number().int().min(1).max(64).optional(),
    healthCheck: HealthCheckConfig.optional(),
    /** How long (real time: processes do not start faster in a rehearsal) every target has to pass. */
    readyTimeout: Duration.pipe(z.number().positive({ error: 'must be longer than 0' })).default(60_000),
  })
  .superRefine((version, ctx) => {
    const kinds = [version.targets, version.command, version.synthetic, version.lambda].filter(
      (k) => k !== undefined,
    ).length;
    if (kinds !== 1) {
      ctx.addIssue({ code: 'custom', message: 'a version needs exactly one of targets, command, synthetic or lambda' });
      return;
    }
    if (version.command !== undefined) return;
    for (const key of version.targets !== undefined
      ? (['env', 'cwd', 'instances'] as const)
      : version.lambda !== undefined
        ? (['env', 'cwd', 'instances'] as const)
        : (['env', 'cwd'] as const)) {
      if (version[key] !== undefined) {
        const where = version.lambda !== undefined && key === 'env' ? ' (a function takes lambda.env)' : '';
        ctx.addIssue({ code: 'custom', path: [key], message: `applies only to a version started by command${where}` });
      }
    }
  })
  .transform((version): VersionSpec => {
    // Absent stays absent (not present as undefined), so parsed configs compare and print cleanly.
    const common = {
      ...(version.healthCheck && { healthCheck: version.healthCheck }),
      readyTimeoutMs: version.readyTimeout,
    };
    if (version.targets !== undefined) return { kind: 'targets', targets: version.targets, ...common };
    if (version.lambda !== undefined) return { kind: 'lambda', lambda: version.lambda, ...common };
    if (version.synthetic !== undefined) {
      return { kind: 'synthetic', synthetic: version.synthetic, instances: version.instances ?? 1, ...common };
    }
    return {
      kind: 'command',
      command: version.command!,
      env: version.env ?? {},
      cwd: version.cwd,
      instances: version.instances ?? 1,
      ...common,
    };
  });

export type HealthCheckConfig = z.infer<typeof HealthCheckConfig>;

/** A version with fixed targets, or one that switchyard runs itself (a command, or a synthetic service). */
export type VersionSpec =
  | {
      readonly kind: 'targets';
      readonly targets: readonly string[];
      readonly healthCheck?: HealthCheckConfig;
      readonly readyTimeoutMs: number;
    }
  | {
      readonly kind: 'command';
      readonly command: string | readonly string[];
      readonly env: Readonly<Record<string, string>>;
      readonly cwd: string | undefined;
      readonly instances: number;
      readonly healthCheck?: HealthCheckConfig;
      readonly readyTimeoutMs: number;
    }
  | {
      readonly kind: 'lambda';
      readonly lambda: FunctionSpec;
      readonly healthCheck?: HealthCheckConfig;
      readonly readyTimeoutMs: number;
    }
  | {
      readonly kind: 'synthetic';
      readonly synthetic: SyntheticConfig;
      readonly instances: number;
      readonly healthCheck?: HealthCheckConfig;
      readonly readyTimeoutMs: number;
    };
export type VersionConfig = z.infer<typeof VersionConfig>;
