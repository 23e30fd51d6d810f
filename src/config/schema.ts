/**
 * @module config/schema
 * The service config file, as zod schemas: the single source of truth for its types. Durations and sizes
 * are transformed to numbers here, defaults live here, and nothing downstream re-validates.
 */
import { z } from 'zod';
import { Duration, Size } from '../core/duration.js';
import { HooksConfig } from './hooks.js';
import { LOG_LEVELS } from '../core/logger.js';
import { CustomConfigSpec } from '../codedeploy/shift-spec.js';
import { DeploymentGroupSettings } from '../codedeploy/deployment-group.js';
import { isHttpUrl } from '../core/url.js';
import { unknownKeys } from './unknown-keys.js';
import { AlarmsConfig } from './alarms.js';
import { NotificationsConfig } from './notifications.js';


/**
 * Where a string is expected, a number reads as its text: `live: 1` and `live: "${LIVE:-1}"` (a whole
 * `${VAR}` value is typed like YAML, so it turns into a number) both mean the label "1".
 */
const numberAsText = (value: unknown) => (typeof value === 'number' ? String(value) : value);

const Host = z.preprocess(numberAsText, z.string().min(1, 'must not be empty'));
const Port = z.number().int().min(0).max(65535, 'must be a port number from 0 to 65535');

export const ListenAddress = z.strictObject({ host: Host.default('127.0.0.1'), port: Port });


const HttpUrl = z.string().refine(isHttpUrl, { message: 'must be an http(s) URL' });

/** A label that names a version: what an AppSpec's TargetVersion or task definition revision refers to. */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const VersionLabel = z.string().regex(LABEL, {
  message: 'must be 1-128 letters, digits, dots, dashes, underscores or colons',
});

const HeaderName = z.preprocess(
  numberAsText,
  z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'must be a valid HTTP header name' })
    .transform((name) => name.toLowerCase()),
);

/**
 * Passive outlier ejection: a target whose requests fail (5xx or no answer) this many times in a row
 * leaves its version's rotation for `ejectionTime`, doubled on each ejection in a row up to
 * `maxEjectionTime`; then the next request tries it again.
 */
export const OutlierDetection = z.strictObject({
  consecutiveFailures: z.number().int().min(1).default(5),
  ejectionTime: Duration.pipe(z.number().positive({ error: 'must be longer than 0' })).default(10_000),
  maxEjectionTime: Duration.pipe(z.number().positive({ error: 'must be longer than 0' })).default(300_000),
});

export const UpstreamOptions = z.strictObject({
  /** Most connections to one target; absent = no limit. */
  connections: z.number().int().positive().optional(),
  connectTimeout: Duration.default(5_000),
  headersTimeout: Duration.default(30_000),
  bodyTimeout: Duration.default(30_000),
  keepAliveTimeout: Duration.default(4_000),
  /** Absent: no passive ejection. */
  outlierDetection: OutlierDetection.optional(),
});

/** How a version's targets are judged ready: `path` answers 2xx/3xx within `timeout`, tried every `interval`. */
/** `200`, `2xx` or `200-399`: the statuses a health check accepts, as an inclusive range. */
const StatusRange = z
  .union([z.number(), z.string()])
  .transform((value, ctx): readonly [number, number] => {
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
 * A version is either fixed `targets` (already running somewhere) or a local "task set": `instances`
 * copies of `command`, each given a free port in `PORT`, started at Install (or at start when live).
 * Checked as one object so that a wrong or extra key is reported at that key.
 */
export const VersionConfig = z
  .strictObject({
    targets: z.array(HttpUrl).min(1, 'a version needs at least one target').optional(),
    command: z
      .union([z.string().min(1), z.array(z.string()).min(1, 'must name a program')], {
        error: 'must be a command line (string) or a program and its arguments (list of strings)',
      })
      .optional(),
    env: z.record(z.string(), z.preprocess(numberAsText, z.string())).optional(),
    cwd: z.string().min(1).optional(),
    instances: z.number().int().min(1).max(64).optional(),
    healthCheck: HealthCheckConfig.optional(),
    /** How long (real time: processes do not start faster in a rehearsal) every target has to pass. */
    readyTimeout: Duration.pipe(z.number().positive({ error: 'must be longer than 0' })).default(60_000),
  })
  .superRefine((version, ctx) => {
    if ((version.targets === undefined) === (version.command === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a version needs exactly one of targets or command' });
      return;
    }
    if (version.targets === undefined) return;
    for (const key of ['env', 'cwd', 'instances'] as const) {
      if (version[key] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'applies only to a version started by command' });
      }
    }
  })
  .transform((version): VersionSpec => {
    // Absent stays absent (not present as undefined), so parsed configs compare and print cleanly.
    const common = { ...(version.healthCheck && { healthCheck: version.healthCheck }), readyTimeoutMs: version.readyTimeout };
    if (version.targets !== undefined) return { kind: 'targets', targets: version.targets, ...common };
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

/** A version with fixed targets, or one that switchyard runs itself. */
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
    };

const Percent = z
  .number()
  .min(0)
  .max(100)
  .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-6, {
    message: 'must have at most two decimals',
  });

const StickyConfig = z
  .strictObject({
    header: HeaderName.optional(),
    cookie: z.preprocess(numberAsText, z.string().min(1)).optional(),
  })
  // Checked on one object rather than as a union, so a wrong or extra key is reported at that key.
  .superRefine((sticky, ctx) => {
    if ((sticky.header === undefined) === (sticky.cookie === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'must name exactly one of header or cookie' });
    }
  })
  .transform((sticky): { header: string } | { cookie: string } =>
    sticky.header !== undefined ? { header: sticky.header } : { cookie: sticky.cookie! },
  );

const HttpMethod = z.string().regex(/^[A-Z]+$/, { message: 'must be an HTTP method in capitals, e.g. PUT' });

export const RoutingConfig = z.strictObject({
  sticky: StickyConfig.optional(),
  overrideHeader: HeaderName.optional(),
  /**
   * While a deployment shifts the service, retry an idempotent request that failed on the replacement
   * (5xx or no answer) once on the original before the client sees anything.
   */
  retryOnOriginal: z.boolean().default(false),
  /** Methods besides GET, HEAD and OPTIONS that are safe to send twice (e.g. PUT, DELETE). */
  idempotentMethods: z.array(HttpMethod).default([]),
  /**
   * During a deployment (from the moment the replacement is ready), send a copy of this percentage of
   * production requests to the replacement in the background, its answer discarded, so alarms can judge
   * it before it takes real traffic. A request body larger than `maxBodyBytes` is not mirrored.
   */
  mirror: z
    .strictObject({
      percent: Percent.refine((p) => p > 0, { message: 'must be more than 0' }),
      maxBodyBytes: Size.default(1024 * 1024),
    })
    .optional(),
});

/**
 * Cross-field checks run even when a sibling setting has a problem of its own (zod skips them by
 * default), so that one pass reports every problem. The value may then be partly unparsed: look before use.
 */
const ALWAYS = { when: () => true };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkService(service: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(service) || !isRecord(service['versions'])) return;
  const versions = service['versions'];
  const live = service['live'];
  // A malformed label already has its own problem; "names no version" would only repeat it.
  if (typeof live === 'string' && LABEL.test(live) && !Object.hasOwn(versions, live)) {
    ctx.addIssue({
      code: 'custom',
      path: ['live'],
      message: `names no version of this service (versions: ${Object.keys(versions).join(', ')})`,
    });
  }
  const weights = service['weights'];
  if (!isRecord(weights)) return;
  let sum = 0;
  let numeric = true;
  for (const [label, percent] of Object.entries(weights)) {
    if (!Object.hasOwn(versions, label)) {
      ctx.addIssue({ code: 'custom', path: ['weights', label], message: 'names no version of this service' });
    }
    if (typeof percent === 'number') sum += Math.round(percent * 100);
    else numeric = false;
  }
  if (numeric && sum !== 10_000) {
    ctx.addIssue({ code: 'custom', path: ['weights'], message: `must add up to 100, got ${sum / 100}` });
  }
}

function checkServices(services: unknown, ctx: z.RefinementCtx): void {
  if (!Array.isArray(services)) return;
  const seen = new Map<string, number>();
  const routes = new Map<string, number>();
  services.forEach((s: unknown, i) => {
    if (!isRecord(s)) return;
    const name = s['name'];
    if (typeof name === 'string') {
      const previous = seen.get(name);
      if (previous !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `duplicates services[${previous}].name "${name}"`,
        });
      } else seen.set(name, i);
    }
    const match = isRecord(s['match']) ? s['match'] : {};
    const host = typeof match['host'] === 'string' ? match['host'].toLowerCase() : '*';
    const prefix = typeof match['pathPrefix'] === 'string' ? match['pathPrefix'] : '/';
    const route = `${host} ${prefix}`;
    const clash = routes.get(route);
    if (clash !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'match'],
        message: `matches the same host and path prefix as services[${clash}]`,
      });
    } else routes.set(route, i);
  });
}

export const ServiceConfig = z
  .strictObject({
    name: z.preprocess(
      numberAsText,
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,139}$/, {
        message: 'must be 1-140 letters, digits, dots, dashes or underscores',
      }),
    ),
    match: z
      .strictObject({
        // Compared with the Host header less its port, so a port here could never match.
        host: z
          .preprocess(
            numberAsText,
            z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+)$/, {
              message: 'must be a host name (IPv6 in brackets), without port or path',
            }),
          )
          .transform((h) => h.toLowerCase())
          .optional(),
        pathPrefix: z.string().startsWith('/', { message: 'must start with /' }).default('/'),
      })
      .default({ pathPrefix: '/' }),
    versions: z
      .record(VersionLabel, VersionConfig)
      .refine((v) => Object.keys(v).length > 0, { message: 'a service needs at least one version' }),
    live: z.preprocess(numberAsText, VersionLabel),
    weights: z.record(VersionLabel, Percent).optional(),
    // prefault: the defaults inside RoutingConfig apply to an absent `routing` too.
    routing: RoutingConfig.prefault({}),
    /** Overrides of the top-level `upstream` settings for this service only. */
    upstream: z
      .strictObject({
        connections: z.number().int().positive().optional(),
        connectTimeout: Duration.optional(),
        headersTimeout: Duration.optional(),
        bodyTimeout: Duration.optional(),
        keepAliveTimeout: Duration.optional(),
        outlierDetection: OutlierDetection.optional(),
      })
      .optional(),
  })
  .superRefine(checkService, ALWAYS);

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

/** A secret from the file or, better, from `${VAR}`; digits-only values read as text. */
const Secret = (min: number, what: string) =>
  z.preprocess(numberAsText, z.string().min(min, `must be at least ${min} characters (${what})`));

/** The key id and secret come as a pair, and an `auth` names at least one credential. */
function checkAuth(auth: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(auth)) return;
  const hasId = auth['accessKeyId'] !== undefined;
  const hasSecret = auth['secretAccessKey'] !== undefined;
  if (hasId !== hasSecret) {
    const [given, missing] = hasId ? ['accessKeyId', 'secretAccessKey'] : ['secretAccessKey', 'accessKeyId'];
    ctx.addIssue({ code: 'custom', path: [given], message: `needs ${missing} beside it: the two come together or not at all` });
  }
  if (auth['token'] === undefined && !hasId && !hasSecret) {
    ctx.addIssue({ code: 'custom', message: 'needs a token, or accessKeyId and secretAccessKey, or all three' });
  }
}

/**
 * `control.auth`: once set, the REST API wants `Authorization: Bearer <token>` and CodeDeploy's protocol
 * a SigV4 signature made with the access key. Key id and secret come as a pair.
 */
export const ControlAuth = z
  .strictObject({
    token: Secret(16, 'e.g. openssl rand -hex 32').optional(),
    accessKeyId: z
      .preprocess(numberAsText, z.string().regex(/^[A-Za-z0-9._+=@-]{4,128}$/, { message: 'must be 4-128 letters, digits or ._+=@-' }))
      .optional(),
    secretAccessKey: Secret(16, 'e.g. openssl rand -base64 30').optional(),
    /** Lets Prometheus scrape `/metrics` without the token. */
    publicMetrics: z.boolean().default(false),
  })
  .superRefine(checkAuth, ALWAYS);

export const ControlAddress = ListenAddress.extend({ auth: ControlAuth.optional() });

const RecoveryPolicyName = z.enum(['resume', 'rollback'], { error: 'must be resume or rollback' });

const ConfigShape = z.strictObject({
  listeners: z.strictObject({ production: ListenAddress, test: ListenAddress.optional() }),
  control: ControlAddress.default({ host: '127.0.0.1', port: 9900 }),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Response header naming the version that served a request; `false` turns it off. */
  versionHeader: z.union([HeaderName, z.literal(false)]).default('x-switchyard-version'),
  /** How long in-flight requests may take to finish after SIGTERM before connections are cut. */
  drainTimeout: Duration.default(10_000),
  upstream: UpstreamOptions.default({
    connectTimeout: 5_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    keepAliveTimeout: 4_000,
  }),
  services: z
    .array(ServiceConfig)
    .min(1, 'at least one service is needed')
    .superRefine(checkServices, ALWAYS),
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
   * folder) or `memory` (gone at exit).
   */
  store: z
    .union([z.literal('memory'), z.strictObject({ sqlite: z.string().min(1) })], {
      error: 'must be memory or { sqlite: FILE }',
    })
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
      z.strictObject({ policy: RecoveryPolicyName.default('resume'), hookInFlight: z.enum(['rerun', 'rollback']).default('rerun') }),
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
export type ServiceConfig = z.infer<typeof ServiceConfig>;
export type VersionConfig = z.infer<typeof VersionConfig>;
export type UpstreamOptions = z.infer<typeof UpstreamOptions>;
export type RoutingConfig = z.infer<typeof RoutingConfig>;
export type ListenAddress = z.infer<typeof ListenAddress>;
export type ControlAuth = z.infer<typeof ControlAuth>;
