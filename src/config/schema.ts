/**
 * @module config/schema
 * The service config file, as zod schemas: the single source of truth for its types. Durations and sizes
 * are transformed to numbers here, defaults live here, and nothing downstream re-validates.
 */
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { LOG_LEVELS } from '../core/logger.js';

/** A duration written as `500ms`, `30s`, `15m`, `2h` (or a number of milliseconds), in ms. */
export const Duration = z.union([
  z.number().int().nonnegative(),
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration such as 500ms, 30s or 15m, got "${text}"`,
      });
      return z.NEVER;
    }
    return ms;
  }),
]);

const Host = z.string().min(1, 'must not be empty');
const Port = z.number().int().min(0).max(65535, 'must be a port number from 0 to 65535');

export const ListenAddress = z.strictObject({ host: Host.default('127.0.0.1'), port: Port });

const HttpUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'must be an http(s) URL' },
);

/** A label that names a version: what an AppSpec's TargetVersion or task definition revision refers to. */
const VersionLabel = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
  message: 'must be 1-128 letters, digits, dots, dashes, underscores or colons',
});

const HeaderName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'must be a valid HTTP header name' })
  .transform((name) => name.toLowerCase());

export const UpstreamOptions = z.strictObject({
  /** Most connections to one target; absent = no limit. */
  connections: z.number().int().positive().optional(),
  connectTimeout: Duration.default(5_000),
  headersTimeout: Duration.default(30_000),
  bodyTimeout: Duration.default(30_000),
  keepAliveTimeout: Duration.default(4_000),
});

export const VersionConfig = z.strictObject({
  targets: z.array(HttpUrl).min(1, 'a version needs at least one target'),
});

const Percent = z
  .number()
  .min(0)
  .max(100)
  .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-6, {
    message: 'must have at most two decimals',
  });

export const RoutingConfig = z.strictObject({
  sticky: z
    .union([z.strictObject({ header: HeaderName }), z.strictObject({ cookie: z.string().min(1) })])
    .optional(),
  overrideHeader: HeaderName.optional(),
});

export const ServiceConfig = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,139}$/, {
      message: 'must be 1-140 letters, digits, dots, dashes or underscores',
    }),
    match: z
      .strictObject({
        host: z
          .string()
          .min(1)
          .transform((h) => h.toLowerCase())
          .optional(),
        pathPrefix: z.string().startsWith('/', { message: 'must start with /' }).default('/'),
      })
      .default({ pathPrefix: '/' }),
    versions: z
      .record(VersionLabel, VersionConfig)
      .refine((v) => Object.keys(v).length > 0, { message: 'a service needs at least one version' }),
    live: VersionLabel,
    weights: z.record(VersionLabel, Percent).optional(),
    routing: RoutingConfig.default({}),
    /** Overrides of the top-level `upstream` settings for this service only. */
    upstream: z
      .strictObject({
        connections: z.number().int().positive().optional(),
        connectTimeout: Duration.optional(),
        headersTimeout: Duration.optional(),
        bodyTimeout: Duration.optional(),
        keepAliveTimeout: Duration.optional(),
      })
      .optional(),
  })
  .superRefine((service, ctx) => {
    if (!(service.live in service.versions)) {
      ctx.addIssue({
        code: 'custom',
        path: ['live'],
        message: `names no version of this service (versions: ${Object.keys(service.versions).join(', ')})`,
      });
    }
    if (service.weights) {
      let sum = 0;
      for (const [label, percent] of Object.entries(service.weights)) {
        if (!(label in service.versions)) {
          ctx.addIssue({
            code: 'custom',
            path: ['weights', label],
            message: 'names no version of this service',
          });
        }
        sum += Math.round(percent * 100);
      }
      if (sum !== 10_000) {
        ctx.addIssue({ code: 'custom', path: ['weights'], message: `must add up to 100, got ${sum / 100}` });
      }
    }
  });

export const ConfigSchema = z
  .strictObject({
    listeners: z.strictObject({ production: ListenAddress, test: ListenAddress.optional() }),
    control: ListenAddress.default({ host: '127.0.0.1', port: 9900 }),
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
    services: z.array(ServiceConfig).min(1, 'at least one service is needed'),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    const routes = new Map<string, number>();
    config.services.forEach((s, i) => {
      const previous = seen.get(s.name);
      if (previous !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'name'],
          message: `duplicates services[${previous}].name "${s.name}"`,
        });
      }
      seen.set(s.name, i);
      const route = `${s.match.host ?? '*'} ${s.match.pathPrefix}`;
      const clash = routes.get(route);
      if (clash !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'match'],
          message: `matches the same host and path prefix as services[${clash}]`,
        });
      }
      routes.set(route, i);
    });
  });

/** The validated config, with durations in milliseconds and defaults filled in. */
export type Config = z.infer<typeof ConfigSchema>;
export type ServiceConfig = z.infer<typeof ServiceConfig>;
export type VersionConfig = z.infer<typeof VersionConfig>;
export type UpstreamOptions = z.infer<typeof UpstreamOptions>;
export type RoutingConfig = z.infer<typeof RoutingConfig>;
export type ListenAddress = z.infer<typeof ListenAddress>;
