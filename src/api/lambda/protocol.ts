/**
 * @module api/lambda/protocol
 * Lambda's REST-JSON API on the control port, under `/2015-03-31/functions`, so the AWS SDK's Lambda
 * client and `aws lambda` work unchanged with an endpoint override: Invoke, GetFunction,
 * GetFunctionConfiguration, ListVersionsByFunction, ListFunctions, GetAlias, ListAliases and UpdateAlias.
 * Without `control.auth` any signature is accepted; with it, the `authenticate` hook verifies SigV4 (the
 * `lambda` service). As a fastify plugin it has its own scope: bodies arrive as bytes (a signature covers
 * them, and an invocation's payload is passed on as sent), and every error leaves in Lambda's form. The
 * path is read here rather than by the router, so that every path under the prefix (an ARN longer than
 * route parameters may be, a qualifier in the name) is answered in Lambda's terms.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { DeploymentEngine } from '../../shifting/engine.js';
import type { TrafficPort } from '../../shifting/ports.js';
import { BODY_LIMIT_BYTES } from '../errors.js';
import { nestsDeeperThan, TOO_DEEP_MESSAGE } from '../json-depth.js';
import { AliasPicker } from './alias.js';
import { FunctionCatalog, parseFunctionName, qualifierOf } from './catalog.js';
import type { FunctionApiDeps, LambdaContext } from './context.js';
import { LambdaRefusal, MAX_SYNC_PAYLOAD_BYTES, sendLambdaError } from './errors.js';
import { EventQueue } from './event-queue.js';
import { invoke } from './invoke.js';
import * as ops from './operations.js';

export type { FunctionApiDeps } from './context.js';

/** The path every operation is under. */
export const LAMBDA_PREFIX = '/2015-03-31/functions';

/** What {@link lambdaApi} works on, and how it authenticates a call. */
export interface LambdaApiOptions {
  readonly functions: FunctionApiDeps;
  readonly traffic: TrafficPort;
  /** The deployments, when there are any: UpdateAlias is refused under one that shifts the service. */
  readonly deployments?: Pick<DeploymentEngine, 'activeOn'> | undefined;
  /** The clock `Event` invocations wait and retry by. */
  readonly clock: Clock;
  readonly log: Logger;
  /** When given, runs before each operation with the raw body in `req.body` (a Buffer), and refuses by throwing. */
  readonly authenticate?: preHandlerAsyncHookHandler | undefined;
}

/** The query string's parameters, each its first value. */
function queryOf(url: string): Record<string, string> {
  const q = url.indexOf('?');
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (q < 0) return out;
  for (const [key, value] of new URLSearchParams(url.slice(q + 1))) if (!(key in out)) out[key] = value;
  return out;
}

/** The path's segments after the prefix, percent-decoded. */
function segmentsOf(url: string): string[] {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).slice(LAMBDA_PREFIX.length);
  const parts = path.split('/').slice(1);
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    throw new LambdaRefusal('InvalidParameterValueException', 'The request path is not valid percent-encoded UTF-8');
  }
}

/** A JSON body (an UpdateAlias), bounded in nesting; none at all reads as `{}`. */
function jsonBody(raw: unknown): unknown {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.alloc(0);
  if (bytes.length > BODY_LIMIT_BYTES) {
    throw new LambdaRefusal('RequestTooLargeException', `Request must be smaller than ${BODY_LIMIT_BYTES} bytes`);
  }
  const text = bytes.toString('utf8');
  if (text.trim() === '') return {};
  if (nestsDeeperThan(text)) throw new LambdaRefusal('InvalidRequestContentException', TOO_DEEP_MESSAGE);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const why = err instanceof Error ? err.message : 'not JSON';
    throw new LambdaRefusal('InvalidRequestContentException', `Could not parse request body into json: ${why}`);
  }
}

function unknownOperation(req: FastifyRequest): LambdaRefusal {
  const path = req.url.split('?')[0]!;
  return new LambdaRefusal(
    'UnknownOperationException',
    `Unknown operation ${req.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}: switchyard serves Invoke, GetFunction, GetFunctionConfiguration, ListVersionsByFunction, ListFunctions, GetAlias, ListAliases and UpdateAlias`,
  );
}

function json(reply: FastifyReply, body: object): FastifyReply {
  return reply
    .status(200)
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify(body)));
}

/** Routes one call under the prefix to its operation. */
async function dispatch(ctx: LambdaContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const segments = segmentsOf(req.url);
  const query = queryOf(req.url);
  const [raw, given, aliasName, ...extra] = segments;
  // `functions/x/` is `functions/x`.
  const resource = given === '' && aliasName === undefined ? undefined : given;
  if (raw === undefined || raw === '') {
    if (req.method === 'GET' && segments.length <= 1) return json(reply, ops.listFunctions(ctx, query));
    throw unknownOperation(req);
  }
  if (extra.length > 0) throw unknownOperation(req);
  const parsed = parseFunctionName(raw);
  const takesQualifier = resource === undefined || resource === 'configuration' || resource === 'invocations';
  const call: ops.Call = {
    name: parsed.name,
    qualifier: takesQualifier ? qualifierOf(parsed.qualifier, query['Qualifier']) : parsed.qualifier,
    query,
  };
  if (!takesQualifier && call.qualifier !== undefined) {
    throw new LambdaRefusal(
      'InvalidParameterValueException',
      'Function name must not carry a qualifier for this operation.',
    );
  }
  const route = `${req.method} ${resource ?? ''}${aliasName === undefined ? '' : '/'}`;
  switch (route) {
    case 'POST invocations':
      return invoke(ctx, call, req, reply);
    case 'GET ':
      return json(reply, ops.getFunction(ctx, call));
    case 'GET configuration':
      return json(reply, ops.getFunctionConfiguration(ctx, call));
    case 'GET versions':
      return json(reply, ops.listVersions(ctx, call));
    case 'GET aliases':
      return json(reply, ops.listAliases(ctx, call));
    case 'GET aliases/':
      return json(reply, ops.getAlias(ctx, call, aliasName!));
    case 'PUT aliases/': {
      const updated = ops.updateAlias(ctx, call, aliasName!, jsonBody(req.body));
      // Answered once every data plane routes by the alias's new weights.
      await ctx.traffic.applied();
      return json(reply, updated);
    }
    default:
      throw unknownOperation(req);
  }
}

/** Serves Lambda's API under {@link LAMBDA_PREFIX}; other routes are untouched. */
export const lambdaApi: FastifyPluginAsync<LambdaApiOptions> = async (scope, options) => {
  const catalog = new FunctionCatalog(options.functions.services);
  const events = new EventQueue({
    invoker: options.functions.invoker,
    clock: options.clock,
    log: options.log,
    concurrencyOf: (service, version) => {
      const fn = catalog.find(service);
      return (fn && catalog.version(fn, version)?.spec.concurrency) ?? 1;
    },
  });
  const ctx: LambdaContext = {
    catalog,
    invoker: options.functions.invoker,
    traffic: options.traffic,
    picker: new AliasPicker(),
    events,
    deployments: options.deployments,
    descriptions: new Map(),
    log: options.log,
  };
  scope.addHook('onClose', async () => events.close());
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, body);
  });
  scope.setErrorHandler((err, req, reply) => sendLambdaError(err, req, reply));
  const route = {
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    // Room for a synchronous invocation's 6 MB payload; other operations refuse more than the API's usual limit.
    bodyLimit: MAX_SYNC_PAYLOAD_BYTES,
    config: { awsSigned: true },
    ...(options.authenticate && { preHandler: options.authenticate }),
    handler: (req: FastifyRequest, reply: FastifyReply) => dispatch(ctx, req, reply),
  } as const;
  scope.route({ ...route, method: [...route.method], url: LAMBDA_PREFIX });
  scope.route({ ...route, method: [...route.method], url: `${LAMBDA_PREFIX}/*` });
};
