/**
 * @module functions/http-front/front-server
 * A function version's HTTP front: an in-process server on 127.0.0.1 that switchyard's proxy routes to as
 * the version's target, so that split, sticky, override header, retry, mirroring, faults and metrics hold
 * as for any version. Each request becomes one event in the service's format, one invocation, and the
 * result becomes the answer as API Gateway makes it; function errors and timeouts are 5xx answers, which
 * the proxy counts as failures like any other.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { EventFormat } from '../../config/functions.js';
import { LOCAL_ACCOUNT_ID } from '../../core/aws-identity.js';
import type { Clock } from '../../core/clock.js';
import { describeError } from '../../core/describe-error.js';
import { isSwitchyardError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { InvokeOutcome } from '../environment.js';
import { MAX_PAYLOAD_BYTES } from '../runtime-api.js';
import { type FrontApi, requestEvent } from './request-event.js';
import { derivedId, gatewayRequestId, RequestTimes } from './request-parts.js';
import { failureAnswer, type FrontFailure, resultResponse } from './result-response.js';

/** What a front serves, and how it invokes. */
export interface FunctionFrontOptions {
  /** The service name (the function's name). */
  readonly functionName: string;
  /** The version label. */
  readonly version: string;
  readonly eventFormat: EventFormat;
  /** requestContext.timeEpoch / time. */
  readonly clock: Clock;
  readonly log: Logger;
  /**
   * Runs one invocation of the version with the event, under `requestId` (Lambda's request id: the one a
   * function URL or REST API answers in `x-amzn-RequestId`); throws SwitchyardError FUNCTION_THROTTLED
   * when every environment is busy, BODY_TOO_LARGE over the payload limit.
   */
  readonly invoke: (event: Buffer, requestId: string) => Promise<InvokeOutcome>;
}

/** A running front. */
export interface FunctionFront {
  /** Its base URL, e.g. `http://127.0.0.1:39211`. */
  readonly url: string;
  /** Stops accepting, lets answers under way finish (at most `graceMs`, default 10 s), then closes. */
  close(graceMs?: number): Promise<void>;
}

/** How long answers under way may take once the front closes. */
const DRAIN_MS = 10_000;
const JSON_TYPE = 'application/json';

/** Starts the front on 127.0.0.1 and a free port; resolves once it listens. */
export async function startFunctionFront(options: FunctionFrontOptions): Promise<FunctionFront> {
  const front = new Front(options);
  const server = createServer({ keepAliveTimeout: 5_000 }, front.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: (graceMs = DRAIN_MS) => closeServer(server, options.clock, graceMs),
  };
}

const kExchange = Symbol('exchange');

/** One request on its way: its body as it arrives. */
interface Exchange {
  readonly front: Front;
  readonly res: ServerResponse;
  readonly chunks: Buffer[];
  size: number;
  /** Set once the body passed the payload limit: the rest is read and dropped, the answer is a 413. */
  tooLarge: boolean;
}

type Tracked = IncomingMessage & { [kExchange]: Exchange };

// Listeners shared by every request (`this` is the request), so that a request costs no closures.
function onData(this: Tracked, chunk: Buffer): void {
  const exchange = this[kExchange];
  exchange.size += chunk.length;
  if (exchange.tooLarge) return;
  if (exchange.size > MAX_PAYLOAD_BYTES) {
    exchange.tooLarge = true;
    exchange.chunks.length = 0;
  } else exchange.chunks.push(chunk);
}

function onEnd(this: Tracked): void {
  const exchange = this[kExchange];
  void exchange.front.serve(this, exchange);
}

/** The request-id headers each format answers with: an HTTP API's id, or Lambda's request id. */
const ID_HEADER: Record<EventFormat, string> = {
  'http-api-v2': 'apigw-requestid',
  'function-url': 'x-amzn-RequestId',
  'rest-v1': 'x-amzn-RequestId',
};

/** Turns requests into invocations and their outcomes into answers. */
class Front {
  readonly #options: FunctionFrontOptions;
  readonly #api: FrontApi;
  readonly #times = new RequestTimes();
  readonly #idHeader: string;

  constructor(options: FunctionFrontOptions) {
    this.#options = options;
    const url = options.eventFormat === 'function-url';
    this.#api = {
      accountId: LOCAL_ACCOUNT_ID,
      // An API belongs to the function, not to a version: every version of it is behind the same API.
      apiId: derivedId(`${options.eventFormat}:${options.functionName}`, url ? 32 : 10),
      resourceId: derivedId(`resource:${options.functionName}`, 6),
    };
    this.#idHeader = ID_HEADER[options.eventFormat];
  }

  /** The request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const declared = Number(req.headers['content-length']);
    const exchange: Exchange = { front: this, res, chunks: [], size: 0, tooLarge: declared > MAX_PAYLOAD_BYTES };
    (req as Tracked)[kExchange] = exchange;
    req.on('data', onData);
    req.on('end', onEnd);
  };

  /** Builds the event, invokes, answers. */
  async serve(req: IncomingMessage, exchange: Exchange): Promise<void> {
    const { res } = exchange;
    const format = this.#options.eventFormat;
    const lambdaId = randomUUID();
    // An HTTP API's request id is its own; a function URL's and a REST API's are Lambda's (one id to trace).
    const requestId = format === 'http-api-v2' ? gatewayRequestId() : lambdaId;
    const ids = [this.#idHeader, requestId];
    if (format === 'rest-v1') ids.push('x-amz-apigw-id', gatewayRequestId());
    if (exchange.tooLarge) return this.#fail(res, 'too-large', ids);
    const chunks = exchange.chunks;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const timeEpoch = this.#options.clock.now();
    const event = requestEvent(
      format,
      {
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        protocol: `HTTP/${req.httpVersion}`,
        rawHeaders: req.rawHeaders,
        socketAddress: req.socket.remoteAddress,
        body,
        requestId,
        extendedRequestId: ids[3] ?? '',
        timeEpoch,
        time: this.#times.format(timeEpoch),
      },
      this.#api,
    );
    const payload = Buffer.from(JSON.stringify(event));
    if (payload.length > MAX_PAYLOAD_BYTES) return this.#fail(res, 'too-large', ids);
    let outcome: InvokeOutcome;
    try {
      outcome = await this.#options.invoke(payload, lambdaId);
    } catch (err) {
      return this.#refused(res, err, ids);
    }
    this.#answer(res, outcome, lambdaId, ids);
  }

  #answer(res: ServerResponse, outcome: InvokeOutcome, lambdaId: string, ids: string[]): void {
    if (outcome.kind === 'response') {
      const answer = resultResponse(this.#options.eventFormat, outcome.body);
      if ('problem' in answer) {
        this.#warn(lambdaId, { problem: answer.problem }, 'function result cannot be an HTTP answer');
        return this.#fail(res, 'unmappable', ids);
      }
      answer.headers.push(...ids);
      return write(res, answer.status, answer.headers, answer.body);
    }
    if (outcome.kind === 'timeout') {
      this.#warn(lambdaId, { errorType: 'Sandbox.Timedout' }, 'function timed out');
      return this.#fail(res, 'timeout', ids);
    }
    const fields =
      outcome.kind === 'error'
        ? { errorType: outcome.errorType, phase: outcome.phase }
        : { errorType: 'Runtime.ExitError', phase: 'invoke' };
    this.#warn(lambdaId, fields, 'function error');
    this.#fail(res, 'function-error', ids);
  }

  /** An invocation refused before it ran. */
  #refused(res: ServerResponse, err: unknown, ids: string[]): void {
    if (isSwitchyardError(err, 'FUNCTION_THROTTLED')) return this.#fail(res, 'throttled', ids);
    if (isSwitchyardError(err, 'BODY_TOO_LARGE')) return this.#fail(res, 'too-large', ids);
    if (isSwitchyardError(err, 'VERSION_NOT_READY')) return this.#fail(res, 'not-ready', ids);
    const { functionName, version } = this.#options;
    this.#options.log.error({ function: functionName, version, err: describeError(err) }, 'function invoke failed');
    this.#fail(res, 'function-error', ids);
  }

  #fail(res: ServerResponse, failure: FrontFailure, ids: string[]): void {
    const { status, body } = failureAnswer(this.#options.eventFormat, failure);
    write(res, status, ['content-type', JSON_TYPE, ...ids], body);
  }

  #warn(requestId: string, fields: object, message: string): void {
    const { functionName, version } = this.#options;
    this.#options.log.warn({ function: functionName, version, requestId, ...fields }, message);
  }
}

/** Sends the answer, unless the client left; 204 and 304 carry no body. */
function write(res: ServerResponse, status: number, headers: string[], body: Buffer): void {
  if (res.destroyed || res.writableEnded) return;
  const bodiless = status === 204 || status === 304;
  if (!bodiless) headers.push('content-length', String(body.length));
  res.writeHead(status, headers);
  res.end(bodiless ? undefined : body);
}

/**
 * Closes the server as a drained target: it stops accepting at once, answers under way finish, idle
 * connections are closed as they become idle, and after `graceMs` every connection is cut.
 */
async function closeServer(server: Server, clock: Clock, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 20);
  const cancel = clock.setTimer(graceMs, () => server.closeAllConnections());
  await closed;
  clearInterval(idle);
  cancel();
}
