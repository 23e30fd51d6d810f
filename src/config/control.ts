/**
 * @module config/control
 * Where switchyard listens: an address of the listeners or the control API, and `control.auth`, the
 * credentials the control API asks for once set.
 */
import { z } from 'zod';

import { Duration } from '../core/duration.js';
import { ALWAYS, isRecord, numberAsText } from './fields.js';

const Host = z.preprocess(numberAsText, z.string().min(1, 'must not be empty'));
const Port = z.number().int().min(0).max(65535, 'must be a port number from 0 to 65535');

/** An address to listen on, on loopback unless a host is given. */
export const ListenAddress = z.strictObject({ host: Host.default('127.0.0.1'), port: Port });
export type ListenAddress = z.infer<typeof ListenAddress>;

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
    ctx.addIssue({
      code: 'custom',
      path: [given],
      message: `needs ${missing} beside it: the two come together or not at all`,
    });
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
      .preprocess(
        numberAsText,
        z.string().regex(/^[A-Za-z0-9._+=@-]{4,128}$/, { message: 'must be 4-128 letters, digits or ._+=@-' }),
      )
      .optional(),
    secretAccessKey: Secret(16, 'e.g. openssl rand -base64 30').optional(),
    /** Lets Prometheus scrape `/metrics` without the token. */
    publicMetrics: z.boolean().default(false),
  })
  .superRefine(checkAuth, ALWAYS);

/** A host name the control API may be called by, beside its own address and loopback names. */
const AllowedHost = z.preprocess(
  numberAsText,
  z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/, { message: 'must be a host name or address, without port' }),
);

/** A duration of at least 100 ms: shorter would take a busy host's pause for a lost data plane. */
const Patience = Duration.pipe(z.number().min(100, 'must be at least 100ms'));

/** `control.dataPlanes`: how the control plane judges the remote data planes that connect to it. */
export const DataPlanesSettings = z.strictObject({
  /** How long a data plane may take to acknowledge a table before it is marked lost (and its connection closed). */
  ackTimeout: Patience.default(2_000),
  /**
   * How long a data plane seen in this run may be unreachable before deployments stop moving traffic
   * (they wait until it is back or forgotten with DELETE /v1/data-planes/:name).
   */
  grace: Patience.default(10_000),
});
export type DataPlanesSettings = z.infer<typeof DataPlanesSettings>;

/** The settings of a `control` that names no `dataPlanes` (absent from the parsed config, so applied where used). */
export const DEFAULT_DATA_PLANES: DataPlanesSettings = { ackTimeout: 2_000, grace: 10_000 };

/**
 * The control API's address, with its auth once set, and the further names it answers for: it refuses
 * any other `Host` (DNS rebinding), so a name it is reached by through a tunnel or DNS goes here.
 */
export const ControlAddress = ListenAddress.extend({
  auth: ControlAuth.optional(),
  allowedHosts: z.array(AllowedHost).default([]),
  /**
   * The policy lab's reports folder the dashboard shows and uploads go to, relative to the working
   * directory (where `experiment run` writes); `lab-reports` when absent.
   */
  labReports: z.string().min(1, 'must not be empty').optional(),
  /** Remote data planes (`serve --data-plane`) connecting to this control plane. */
  dataPlanes: DataPlanesSettings.optional(),
});
export type ControlAuth = z.infer<typeof ControlAuth>;
