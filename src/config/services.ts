/**
 * @module config/services
 * The config file's `services:` (each with its match, versions, live version, weights, routing and
 * upstream overrides, and the checks across them) and the `upstream:` settings a service may override.
 */
import { z } from 'zod';

import { Duration, Size } from '../core/duration.js';
import { FaultConfig } from './faults.js';
import { ALWAYS, HeaderName, isRecord, numberAsText } from './fields.js';
import { EventFormat } from './functions.js';
import { LABEL, VersionConfig, VersionLabel } from './versions.js';

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

/** How switchyard talks to targets: connection limit, timeouts and passive outlier ejection. */
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

/** Within a service: `live`, every weighted label and every faulted label name one of its versions, and the weights add up to 100. */
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
  const faults = service['faults'];
  if (isRecord(faults)) {
    for (const label of Object.keys(faults)) {
      if (LABEL.test(label) && !Object.hasOwn(versions, label)) {
        ctx.addIssue({ code: 'custom', path: ['faults', label], message: 'names no version of this service' });
      }
    }
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

/** Across services: names are unique, and no two match the same host and path prefix. */
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
    /** Faults injected into a version's requests, by label (see config/faults). */
    faults: z.record(VersionLabel, FaultConfig).optional(),
    // prefault: the defaults inside RoutingConfig apply to an absent `routing` too.
    routing: RoutingConfig.prefault({}),
    /** How a listener's request becomes the event of a function version (`lambda:`); HTTP versions ignore it. Default `http-api-v2`. */
    eventFormat: EventFormat.optional(),
    /**
     * The Lambda alias that is this service's production split (the function is the service): what the
     * Lambda API's GetAlias/UpdateAlias and an alias-qualified Invoke name, and an AppSpec's `Alias`.
     * Default `live` (DEFAULT_ALIAS).
     */
    alias: z
      .string()
      .regex(/^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/, {
        message: 'must be 1-128 letters, digits, dashes or underscores, not only digits (a Lambda alias name)',
      })
      .optional(),
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

/** The top-level `services:` list. */
export const ServicesConfig = z
  .array(ServiceConfig)
  .min(1, 'at least one service is needed')
  .superRefine(checkServices, ALWAYS);

export type ServiceConfig = z.infer<typeof ServiceConfig>;
export type UpstreamOptions = z.infer<typeof UpstreamOptions>;
export type RoutingConfig = z.infer<typeof RoutingConfig>;
