/**
 * @module api/auth/guard
 * `control.auth` on the control API. Every route wants the bearer token except the liveness check
 * (`/healthz`, so a load balancer or supervisor can probe without a secret), `/metrics` when
 * `publicMetrics` is set, the dashboard's page and files (they hold no data), CodeDeploy's `POST /` and
 * Lambda's `/2015-03-31/functions…`, which want a SigV4 signature made with the configured access key
 * instead (scoped to `codedeploy` and `lambda`), as AWS does. Each endpoint takes its own protocol's credential only: a
 * bearer token is never a way around SigV4, nor the other way round. Every refusal is logged as a
 * warning with the reason, never with what was presented.
 */
import type { FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';

import { CodeDeployRefusal } from '../../codedeploy/exceptions.js';
import type { ControlAuth } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import { SwitchyardError } from '../../core/errors.js';
import { type SigV4Exception, verifySigV4 } from '../../core/sigv4.js';
import { LambdaRefusal } from '../lambda/errors.js';
import { bearerRefusal } from './bearer.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route authenticates by AWS SigV4 (checked by its own preHandler), not by the bearer token. */
    awsSigned?: boolean;
  }
}

/** The service names SDKs put in the credential scope of CodeDeploy and Lambda calls. */
const CODEDEPLOY_SERVICE = 'codedeploy';
const LAMBDA_SERVICE = 'lambda';

/** Hooks that enforce `control.auth`. */
export interface ControlGuard {
  /** For the whole API: the bearer token, except on open routes and SigV4 routes. */
  readonly requireBearer: onRequestAsyncHookHandler;
  /** For CodeDeploy's `POST /` (needs the raw body as a Buffer): a valid SigV4 signature. */
  readonly requireSigV4: preHandlerAsyncHookHandler;
  /** For Lambda's routes (raw body as a Buffer too): a valid SigV4 signature, refused in Lambda's form (403). */
  readonly requireLambdaSigV4: preHandlerAsyncHookHandler;
}

/** One warning per refused call: who asked for what, and why it was refused. */
function logRefusal(req: FastifyRequest, reason: string): void {
  req.log.warn({ method: req.method, url: req.url, remoteAddress: req.ip, reason }, 'control API call refused');
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The guard for `auth`; the SigV4 clock-skew check reads `clock`. */
export function controlGuard(auth: ControlAuth, clock: Clock): ControlGuard {
  const open = new Set(['/healthz', ...(auth.publicMetrics ? ['/metrics'] : [])]);
  const key =
    auth.accessKeyId !== undefined && auth.secretAccessKey !== undefined
      ? { accessKeyId: auth.accessKeyId, secretAccessKey: auth.secretAccessKey }
      : undefined;

  const requireBearer: onRequestAsyncHookHandler = async (req, reply) => {
    const route = req.routeOptions.url;
    const { awsSigned, publicAsset } = req.routeOptions.config;
    if (awsSigned || publicAsset || (route !== undefined && open.has(route))) return;
    const reason =
      auth.token === undefined ? 'no token configured' : bearerRefusal(headerOf(req, 'authorization'), auth.token);
    if (reason === undefined) return;
    logRefusal(req, reason);
    void reply.header('www-authenticate', 'Bearer realm="switchyard"');
    throw new SwitchyardError(
      'UNAUTHORIZED',
      auth.token === undefined
        ? 'this control API has no control.auth.token, so its REST routes are closed; only the signed CodeDeploy API (POST /) and Lambda API (/2015-03-31/functions) are open'
        : 'this control API needs "Authorization: Bearer <token>" with the token of control.auth.token (the switchyard command sends --token or $SWITCHYARD_TOKEN)',
    );
  };

  /** A SigV4 check scoped to `service`; `refuse` makes the protocol's own error from AWS's exception. */
  const sigV4 =
    (service: string, refuse: (exception: SigV4Exception, message: string) => Error): preHandlerAsyncHookHandler =>
    async (req) => {
      if (key === undefined) {
        logRefusal(req, 'no access key configured');
        throw refuse(
          'UnrecognizedClientException',
          `The security token included in the request is invalid: this switchyard has no control.auth.accessKeyId and secretAccessKey, so it takes no ${service === LAMBDA_SERVICE ? 'Lambda' : 'CodeDeploy'} calls.`,
        );
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      // The request line and headers as they arrived: the signature covers them as the client sent them.
      const verdict = await verifySigV4(
        { method: req.method, url: req.url, rawHeaders: req.raw.rawHeaders, body },
        { key, service, nowMs: clock.now() },
      );
      if (verdict.ok) return;
      logRefusal(req, verdict.reason);
      throw refuse(verdict.exception, verdict.message);
    };

  return {
    requireBearer,
    requireSigV4: sigV4(CODEDEPLOY_SERVICE, (exception, message) => new CodeDeployRefusal(exception, message)),
    requireLambdaSigV4: sigV4(LAMBDA_SERVICE, (exception, message) => new LambdaRefusal(exception, message)),
  };
}
