/**
 * @module api/lambda/invoke
 * Lambda's Invoke (`POST /2015-03-31/functions/{name}/invocations`): the qualifier chooses the version
 * (`$LATEST` or none: the newest; a version; the alias: the next pick of its exact split), the
 * invocation type how it runs (RequestResponse: now, answered with the function's payload or error
 * document; Event: 202 and in the background; DryRun: 204 after the checks), and every answer says in
 * `X-Amz-Executed-Version` which version ran or would run (`$LATEST` when it was asked for so).
 */
import { randomUUID } from 'node:crypto';

import type { FastifyReply, FastifyRequest } from 'fastify';

import type { FunctionInvocationRequest } from '../../core/function-invoker.js';
import { functionArn, type LambdaFunction, LATEST } from './catalog.js';
import type { LambdaContext } from './context.js';
import { LambdaRefusal, MAX_SYNC_PAYLOAD_BYTES } from './errors.js';

/** The largest event an `Event` invocation takes (Lambda's current asynchronous limit, 1 MB). */
export const MAX_EVENT_PAYLOAD_BYTES = 1_048_576;
/** The longest `X-Amz-Client-Context` Lambda takes, in bytes of its base64 text. */
const MAX_CLIENT_CONTEXT_BYTES = 3_583;
/** How much of the invocation's log `X-Amz-Log-Type: Tail` returns. */
const LOG_TAIL_BYTES = 4_096;

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'] as const;
type InvocationType = (typeof INVOCATION_TYPES)[number];

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function invalid(message: string): LambdaRefusal {
  return new LambdaRefusal('InvalidParameterValueException', message);
}

function invocationTypeOf(req: FastifyRequest): InvocationType {
  const value = headerOf(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  const known = INVOCATION_TYPES.find((t) => t === value);
  if (known === undefined) {
    throw invalid(
      `1 validation error detected: Value '${value.slice(0, 50)}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
    );
  }
  return known;
}

function tailWanted(req: FastifyRequest): boolean {
  const value = headerOf(req, 'x-amz-log-type') ?? 'None';
  if (value !== 'None' && value !== 'Tail') {
    throw invalid(
      `1 validation error detected: Value '${value.slice(0, 50)}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]`,
    );
  }
  return value === 'Tail';
}

/** `X-Amz-Client-Context` decoded: base64 of a JSON object, as Lambda requires. */
function clientContextOf(req: FastifyRequest): string | undefined {
  const value = headerOf(req, 'x-amz-client-context');
  if (value === undefined) return undefined;
  const refuse = () => invalid('Client context must be a valid Base64-encoded JSON object.');
  if (value.length > MAX_CLIENT_CONTEXT_BYTES) {
    throw invalid(`Client context must be at most ${MAX_CLIENT_CONTEXT_BYTES} bytes long.`);
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) throw refuse();
  const text = Buffer.from(value, 'base64').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw refuse();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw refuse();
  return text;
}

/** The event: the body, which must be JSON (none at all is `{}`, as Lambda takes it). */
function payloadOf(body: unknown): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  if (bytes.length === 0) return Buffer.from('{}');
  try {
    JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    const why = err instanceof Error ? err.message : 'not JSON';
    throw new LambdaRefusal(
      'InvalidRequestContentException',
      `Could not parse request body into json: Could not parse payload into json: ${why}`,
    );
  }
  return bytes;
}

/** The version an invocation runs, how it is reported, and the ARN the runtime is handed. */
interface Resolved {
  readonly version: string;
  readonly executedVersion: string;
  readonly invokedFunctionArn: string;
}

/** Resolves the qualifier; an alias picks (unless `dryRun`: then the alias's primary version, nothing consumed). */
function resolve(ctx: LambdaContext, fn: LambdaFunction, qualifier: string | undefined, dryRun: boolean): Resolved {
  const target = ctx.catalog.target(fn, qualifier);
  if (target.kind !== 'alias') {
    return {
      version: target.version.label,
      executedVersion: target.kind === 'latest' ? LATEST : target.version.label,
      invokedFunctionArn: functionArn(fn.name, qualifier),
    };
  }
  const view = ctx.traffic.service(fn.name);
  const version = dryRun ? view.live : ctx.picker.pick(fn, view);
  return { version, executedVersion: version, invokedFunctionArn: functionArn(fn.name, fn.alias) };
}

/** The last {@link LOG_TAIL_BYTES} bytes of `log`, base64 (cut at a character boundary). */
function tailOf(log: string): string {
  let bytes = Buffer.from(log, 'utf8');
  if (bytes.length > LOG_TAIL_BYTES) {
    bytes = bytes.subarray(bytes.length - LOG_TAIL_BYTES);
    // Skip continuation bytes so the tail starts on a whole character.
    let start = 0;
    while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
    bytes = bytes.subarray(start);
  }
  return bytes.toString('base64');
}

/** Serves one Invoke. */
export async function invoke(
  ctx: LambdaContext,
  call: { readonly name: string; readonly qualifier: string | undefined },
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { catalog } = ctx;
  const fn = catalog.get(call.name, call.qualifier);
  const type = invocationTypeOf(req);
  const tail = tailWanted(req);
  const clientContext = clientContextOf(req);
  // Checked before an alias picks, so that a refused call takes no turn of the split.
  const payload = payloadOf(req.body);
  const resolved = resolve(ctx, fn, call.qualifier, type === 'DryRun');
  void reply.header('x-amz-executed-version', resolved.executedVersion);
  if (catalog.version(fn, resolved.version) === undefined) {
    // The alias weighs a version that is served over HTTP: it is no function version, so it cannot run.
    throw new LambdaRefusal(
      'ResourceConflictException',
      `The operation cannot be performed at this time. Version ${resolved.version} of ${fn.name}, which the alias ${fn.alias} routes to, is served over HTTP, not a function: it is reached through the listeners.`,
    );
  }
  const requestId = randomUUID();
  void reply.header('x-amzn-requestid', requestId);
  const request: FunctionInvocationRequest = {
    service: fn.name,
    version: resolved.version,
    payload,
    invokedFunctionArn: resolved.invokedFunctionArn,
    requestId,
    ...(clientContext !== undefined && type === 'RequestResponse' && { clientContext }),
    tailLog: tail && type === 'RequestResponse',
  };
  if (type === 'DryRun') return reply.status(204).send();
  if (type === 'Event') {
    if (payload.length > MAX_EVENT_PAYLOAD_BYTES) {
      throw new LambdaRefusal(
        'RequestTooLargeException',
        `${payload.length} byte payload is too large for the Event invocation type (limit ${MAX_EVENT_PAYLOAD_BYTES} bytes)`,
      );
    }
    if (!ctx.events.enqueue(request, requestId)) {
      throw new LambdaRefusal(
        'TooManyRequestsException',
        `Rate Exceeded. (the event queue of ${fn.name} holds its limit of events waiting to run)`,
        'ConcurrentInvocationLimitExceeded',
      );
    }
    return reply.status(202).send();
  }
  if (payload.length > MAX_SYNC_PAYLOAD_BYTES) {
    throw new LambdaRefusal(
      'RequestTooLargeException',
      `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
    );
  }
  const result = await ctx.invoker.invoke(request);
  if (result.kind === 'function-error') void reply.header('x-amz-function-error', 'Unhandled');
  if (tail && result.logTail !== undefined) void reply.header('x-amz-log-result', tailOf(result.logTail));
  return reply.status(200).header('content-type', 'application/json').send(result.payload);
}
