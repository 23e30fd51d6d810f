/**
 * @module config/schema
 * The service config file, as zod schemas: the single source of truth for its types. Durations and sizes
 * are transformed to numbers here, defaults live here, and nothing downstream re-validates. Services and
 * their versions (./services, ./versions), the listeners and control API (./control) and the listeners'
 * limits (./limits) have modules of their own.
 */
import { z } from 'zod';

import { DeploymentGroupSettings } from '../codedeploy/deployment-group.js';
import { CustomConfigSpec } from '../codedeploy/shift-spec.js';
import { Duration } from '../core/duration.js';
import { LOG_LEVELS } from '../core/logger.js';
import { AlarmsConfig } from './alarms.js';
import { ControlAddress, ListenAddress } from './control.js';
import { HeaderName } from './fields.js';
import { HooksConfig } from './hooks.js';
import { DEFAULT_LISTENER_LIMITS, ListenerLimits } from './limits.js';
import { NotificationsConfig } from './notifications.js';
import { ServicesConfig, UpstreamOptions } from './services.js';
import { unknownKeys } from './unknown-keys.js';

// The types that code reading a validated config uses most, beside Config itself.
export type { ControlAuth } from './control.js';
export type { ServiceConfig } from './services.js';
export type { HealthCheckConfig, VersionSpec } from './versions.js';

/** Whether `url` is a PostgreSQL connection URL (a password may come from PGPASSWORD instead). */
function isPostgresUrl(url: string): boolean {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

const DeclaredPlatform = z.enum(['Lambda', 'ECS'], { error: 'must be Lambda or ECS' });

/** A deployment group: the members CreateDeploymentGroup takes, with an unknown key reported as a typo. */
const DeclaredGroup = z
  .unknown()
  // On the raw value: the wire schema strips what it does not know.
  .superRefine((raw, ctx) => {
    unknownKeys(DeploymentGroupSettings, raw, (path, key) =>
      ctx.addIssue({ code: 'unrecognized_keys', keys: [key], path, message: 'unknown key' }),
    );
  })
  .pipe(DeploymentGroupSettings);

export const DeclaredApplication = z.strictObject({
  computePlatform: DeclaredPlatform,
  deploymentGroups: z.record(z.string(), DeclaredGroup).default({}),
});

const RecoveryPolicyName = z.enum(['resume', 'rollback'], { error: 'must be resume or rollback' });

const ConfigShape = z.strictObject({
  listeners: z.strictObject({
    production: ListenAddress,
    test: ListenAddress.optional(),
    /** What one client may hold on either listener: see ./limits. */
    limits: ListenerLimits.default(DEFAULT_LISTENER_LIMITS),
    /**
     * The X-Forwarded-For / -Proto / -Host and Forwarded headers clients send: `append` keeps them (and
     * appends the client's address to X-Forwarded-For), right behind a proxy that sets them; `overwrite`
     * replaces them with what switchyard saw, right when it is the first hop and clients could spoof them.
     */
    forwardedHeaders: z.enum(['append', 'overwrite'], { error: 'must be append or overwrite' }).default('append'),
  }),
  control: ControlAddress.default({ host: '127.0.0.1', port: 9900, allowedHosts: [] }),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Response header naming the version that served a request; `false` turns it off. */
  versionHeader: z.union([HeaderName, z.literal(false)]).default('x-switchyard-version'),
  /**
   * Data plane processes: 1 (the default) proxies in this process; N above 1, or `auto` (one per core), runs
   * N node:cluster workers on the same listeners while this process keeps the control plane; 0 proxies
   * nothing here, for a control plane whose data planes all run elsewhere (`serve --data-plane`).
   */
  workers: z
    .union([z.int().min(0, 'must be at least 0').max(256, 'must be at most 256'), z.literal('auto')], {
      error: 'must be a whole number of workers or auto',
    })
    .default(1),
  /** How long in-flight requests may take to finish after SIGTERM before connections are cut. */
  drainTimeout: Duration.default(10_000),
  upstream: UpstreamOptions.default({
    connectTimeout: 5_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    keepAliveTimeout: 4_000,
  }),
  services: ServicesConfig,
  /** Lifecycle hooks an AppSpec may name: name → an HTTP hook (`url`) or a command hook (`command`). */
  hooks: HooksConfig,
  /**
   * Divides every deployment duration (shift intervals, waits, hook timeouts), so a 15-minute canary
   * rehearses in 15 s at 60. A deployment may override it.
   */
  timeScale: z.number().positive('must be greater than 0').max(1_000_000).default(1),
  /** Rules that judge a deployment's traffic, by the names deployment groups' alarmConfiguration uses. */
  alarms: AlarmsConfig,
  /** How often the alarms of a running deployment are evaluated. */
  alarmEvaluationInterval: Duration.pipe(z.number().min(10, 'must be at least 10ms')).default(250),
  /**
   * Where applications, groups, deployments and traffic are kept: a SQLite file (relative to this file's
   * folder), `memory` (gone at exit), or a PostgreSQL database several switchyards share, one leading.
   */
  store: z
    .union(
      [
        z.literal('memory'),
        z.strictObject({ sqlite: z.string().min(1) }),
        z.strictObject({ postgres: z.string().refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL') }),
      ],
      { error: 'must be memory, { sqlite: FILE } or { postgres: URL }' },
    )
    .default({ sqlite: './data/switchyard.db' }),
  /**
   * What becomes of a deployment that was unfinished when switchyard stopped (a crash, a kill): `resume`
   * goes on where it stood, its waits counted from their kept start and a hook in flight run again
   * (or, with `{ policy: resume, hookInFlight: rollback }`, rolled back when a hook was running);
   * `rollback` returns its traffic to the original version at start.
   */
  recovery: z
    .union([
      RecoveryPolicyName.transform((policy) => ({ policy, hookInFlight: 'rerun' as const })),
      z.strictObject({
        policy: RecoveryPolicyName.default('resume'),
        hookInFlight: z.enum(['rerun', 'rollback']).default('rerun'),
      }),
    ])
    .default({ policy: 'resume', hookInFlight: 'rerun' }),
  /** Custom deployment configurations by name, as CreateDeploymentConfig would create them. */
  deploymentConfigs: z.record(z.string(), CustomConfigSpec).default({}),
  /** Applications by name with their deployment groups, as CreateApplication and CreateDeploymentGroup would. */
  applications: z.record(z.string(), DeclaredApplication).default({}),
  /** How deployment groups' trigger webhooks are delivered (per-attempt timeout, retries, give-up). */
  notifications: NotificationsConfig,
});

/**
 * The whole file. What needs the CodeDeploy registry (declared applications and groups held to the API's
 * rules) is checked after this, by a step that `validate` and start-up both run (app/config).
 */
export const ConfigSchema = ConfigShape;

/** The validated config, with durations in milliseconds and defaults filled in. */
export type Config = z.infer<typeof ConfigSchema>;
