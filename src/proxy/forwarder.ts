/**
 * @module proxy/forwarder
 * Streams one request to an upstream and its response back, through undici's dispatch API with a small
 * handler class: no per-request closures, no buffering, backpressure both ways, and a client that goes
 * away aborts the upstream request so its connection is freed at once. A request it must not forward as
 * sent (header lines node:http dropped, a duplicate or invalid Host) is refused before dispatch, and a
 * failure is counted against the target only when the target caused it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';

import type { Dispatcher } from 'undici';

import { describeError } from '../core/describe-error.js';
import { OUTCOME_ERROR, outcomeOf, REFUSED_LOCAL } from '../core/stats-delta.js';
import type { CompiledVersion, RetryRoute } from './compiled-version.js';
import { namedIgnoringCase } from './header-bytes.js';
import { clientResponseHeaders, type ForwardedFor, MAX_REQUEST_HEADERS, upstreamRequestHeaders } from './headers.js';
import type { Upstream } from './pools.js';
import { chargedToTarget, failureCode, type ProxyErrorCode, writeProxyError } from './proxy-error.js';

const kHandler = Symbol('switchyard.handler');
type TrackedResponse = ServerResponse & { [kHandler]?: ProxyHandler };

/** Outcomes from this index on (5xx, no answer) are failures of the target. */
const FIRST_FAILURE = 3;

/** The 4xx outcome: a request refused for how the client sent it. */
const OUTCOME_4XX = outcomeOf(400);

/** More raw entries than this: node:http dropped header lines past {@link MAX_REQUEST_HEADERS}. */
const MAX_RAW_HEADER_ENTRIES = 2 * MAX_REQUEST_HEADERS;

/** Characters node:http accepts in a reason phrase; anything else falls back to the standard phrase. */
const VALID_REASON = /^[\t\x20-\x7e\x80-\xff]*$/;

class ClientGoneError extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientGoneError';
  }
}

/**
 * Ends an upstream request that has sent only interim (1xx) responses for the whole headers timeout:
 * undici restarts its own headers timer on each one, so a target could hold a request open forever.
 * It carries undici's code because it is the same limit, `upstream.headersTimeout`, measured from dispatch.
 */
class FinalHeadTimeoutError extends Error {
  readonly code = 'UND_ERR_HEADERS_TIMEOUT';
  constructor(ms: number) {
    super(`no final response within ${ms} ms, only interim ones`);
    this.name = 'FinalHeadTimeoutError';
  }
}

/** Ends an upstream request whose failure is being retried on the original version. */
class RetriedError extends Error {
  constructor() {
    super('retried on the original version');
    this.name = 'RetriedError';
  }
}

/** What a failed attempt needs to go again on the original version. */
interface Retry {
  readonly req: IncomingMessage;
  readonly route: RetryRoute;
  readonly headers: string[];
}

/**
 * undici's original handler interface (onConnect/onHeaders/onData/onComplete/onError): its client speaks
 * it natively and hands over raw header buffers, so no header object is parsed per response.
 */
class ProxyHandler implements Dispatcher.DispatchHandler {
  #abort: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #onDrain: (() => void) | undefined;
  #done = false;
  #bodyStarted = false;
  #status = 0;
  /** Armed by the first interim response only: the deadline for the final one. */
  #finalHeadTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly res: TrackedResponse,
    readonly version: CompiledVersion,
    readonly versionHeader: string | false,
    readonly started: number,
    /** Present when a failure before the response may be retried on the original version. */
    readonly retry: Retry | undefined,
    /** The target serving the request, which keeps count of its failures for outlier ejection. */
    readonly upstream: Upstream,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    if (this.res.destroyed) abort(new ClientGoneError());
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx informational responses (100 Continue, 103 Early Hints) are not forwarded; the final one is.
    if (statusCode < 200) {
      // undici takes a status under 100 (000, 099) for an interim one and then fails an assertion.
      if (statusCode < 100) return this.#unforwardable(new Error(`status ${statusCode}`));
      if (this.#finalHeadTimer === undefined) this.#armFinalHeadTimer();
      return true;
    }
    if (this.#finalHeadTimer !== undefined) clearTimeout(this.#finalHeadTimer);
    this.#resume = resume;
    const res = this.res;
    if (res.destroyed) return false;
    if (statusCode >= 500 && this.retry && this.#retry(outcomeOf(statusCode))) return false;
    const coding = foreignCoding(rawHeaders);
    if (coding !== undefined) return this.#unforwardable(new Error(`transfer coding "${coding}"`));
    const headers = clientResponseHeaders(rawHeaders, this.versionHeader, this.version.label);
    // RFC 9110 §8.6: a 204 carries no Content-Length; one passed on would have a client wait for a body.
    if (statusCode === 204) dropContentLength(headers);
    try {
      res.writeHead(statusCode, VALID_REASON.test(statusText) ? statusText : undefined, headers);
    } catch (err) {
      // A header value node:http refuses to write (e.g. a control character).
      return this.#unforwardable(err as Error);
    }
    this.#status = statusCode;
    // Node holds a written head back until the first body write. When the upstream's body is not in the
    // same read (an event stream, a long poll, a slow first byte), the head must not wait for it.
    process.nextTick(ProxyHandler.#flushHead, this);
    return true;
  }

  /**
   * Drops an answer that cannot be passed on faithfully: the client gets a 502 naming why, the upstream
   * request (and with it its connection, whose framing is in doubt) is dropped, and the target is charged.
   */
  #unforwardable(err: Error): false {
    this.#finish(OUTCOME_ERROR);
    this.#abort?.(err);
    writeProxyError(
      this.res,
      'UPSTREAM_UNREACHABLE',
      `version ${this.version.label} sent a response that cannot be forwarded (${describeError(err)})`,
      this.versionHeader,
      this.version.label,
    );
    return false;
  }

  #armFinalHeadTimer(): void {
    const ms = this.upstream.headersTimeout;
    if (ms <= 0) return;
    const left = Math.max(0, ms - (performance.now() - this.started));
    this.#finalHeadTimer = setTimeout(ProxyHandler.#finalHeadTimeout, left, this, ms);
  }

  static #finalHeadTimeout(handler: ProxyHandler, ms: number): void {
    if (!handler.#done && handler.#status === 0) handler.#abort?.(new FinalHeadTimeoutError(ms));
  }

  static #flushHead(handler: ProxyHandler): void {
    const res = handler.res;
    if (!handler.#bodyStarted && !res.writableEnded && !res.destroyed) res.flushHeaders();
  }

  onData(chunk: Buffer): boolean {
    // undici hands over an empty chunk after each resume; written, each would be an empty syscall.
    if (chunk.length === 0) return true;
    const res = this.res;
    this.#bodyStarted = true;
    if (res.destroyed) return false;
    if (res.write(chunk)) return true;
    if (!this.#onDrain) this.#onDrain = () => this.#resume?.();
    res.once('drain', this.#onDrain);
    return false;
  }

  onComplete(): void {
    this.#bodyStarted = true;
    this.#finish(outcomeOf(this.#status));
    this.res.end();
  }

  onError(err: Error): void {
    if (this.#finalHeadTimer !== undefined) clearTimeout(this.#finalHeadTimer);
    // Already answered (or the client left): nothing more to tell anyone.
    if (this.#done) return;
    const res = this.res;
    if (err instanceof ClientGoneError || res.destroyed) {
      // The client left; the upstream did nothing wrong, so nothing is counted against its version.
      this.#done = true;
      return;
    }
    const code = (err as { code?: string }).code ?? '';
    if (res.headersSent) {
      if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' && (this.#status === 304 || this.#status === 204)) {
        // A 304 may state the length of the representation it stands for (RFC 9110 §8.6) yet has no
        // body; undici takes the missing body for a short read. The client already has the whole answer.
        this.#finish(outcomeOf(this.#status));
        res.end();
        return;
      }
      if (chargedToTarget(failureCode(err))) this.#finish(OUTCOME_ERROR);
      else this.#done = true;
      // Mid-body failure: the only honest signal left is to cut the client's connection.
      res.destroy(err);
      return;
    }
    const proxyCode = failureCode(err);
    if (!chargedToTarget(proxyCode)) {
      this.#refuse(proxyCode, code, err);
      return;
    }
    if (this.retry && this.#retry(OUTCOME_ERROR)) return;
    this.#finish(OUTCOME_ERROR);
    const [what, why] = failureText(err, proxyCode, code);
    writeProxyError(
      res,
      proxyCode,
      `version ${this.version.label} ${what} (${why})`,
      this.versionHeader,
      this.version.label,
    );
  }

  /**
   * Answers a failure that is not the target's: a request undici would not build is the client's (a
   * 4xx of the version), a resource this process ran out of is no one's to count. Neither is retried,
   * and the target's failure count is left as it was.
   */
  #refuse(proxyCode: ProxyErrorCode, code: string, err: Error): void {
    this.#done = true;
    if (proxyCode === 'PROXY_OVERLOADED') {
      this.version.stats.refused[REFUSED_LOCAL]!++;
      writeProxyError(this.res, proxyCode, `switchyard cannot forward the request now (${code})`);
      return;
    }
    refuse(this.res, this.version, proxyCode, `the request cannot be forwarded (${err.message})`);
  }

  /** Called when the client's response closes: if it closed early, the upstream request is aborted. */
  clientClosed(): void {
    if (!this.#done && this.#abort) this.#abort(new ClientGoneError());
  }

  /**
   * Counts the failure against this (replacement) version, as alarms must see it, and sends the request
   * once to the original version instead; false when the original has no target to try.
   */
  #retry(outcome: number): boolean {
    const { req, route, headers } = this.retry!;
    const upstream = route.version.nextUpstream();
    if (!upstream) return false;
    this.#finish(outcome);
    this.#abort?.(new RetriedError());
    dispatch(req, this.res, route.version, upstream, this.versionHeader, headers, undefined);
    return true;
  }

  #finish(outcome: number): void {
    if (this.#done) return;
    this.#done = true;
    const now = performance.now();
    this.version.stats.record(outcome, now - this.started);
    this.upstream.record(outcome >= FIRST_FAILURE, now);
  }
}

/** undici's words for a response it could not parse as HTTP/1.1 (beside its parser's own errors). */
const MALFORMED = new Set(['UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);
const MALFORMED_SOCKET = new Set(['bad response', 'bad upgrade']);

/**
 * What happened and why, for the message of a failure before the response began: a target that
 * answered with something that is not HTTP/1.1 is told apart from one that could not be reached.
 */
function failureText(err: Error, proxyCode: ProxyErrorCode, code: string): [string, string] {
  if (err instanceof FinalHeadTimeoutError) return ['timed out', err.message];
  if (proxyCode === 'UPSTREAM_TIMEOUT') return ['timed out', code];
  if (err.name === 'HTTPParserError' || MALFORMED.has(code)) return ['sent an invalid response', err.message];
  if (code === 'UND_ERR_SOCKET' && MALFORMED_SOCKET.has(err.message)) {
    return ['sent an invalid response', err.message];
  }
  return ['could not be reached', code || err.message];
}

/**
 * The transfer coding of a response framed by anything but plain `chunked` (e.g. `gzip, chunked`, or
 * `gzip` with the body running to the close), or undefined. Such a body cannot be passed on: its framing
 * is dropped with the other hop-by-hop headers, so the client would get the coded bytes as they are.
 */
function foreignCoding(raw: readonly Buffer[]): string | undefined {
  let coding: string | undefined;
  // The common case, one line of plain `chunked`, is settled on the bytes, with no string made.
  let plain = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (!spells(raw[i]!, 'transfer-encoding')) continue;
    const value = raw[i + 1]!;
    plain = coding === undefined && spells(value, 'chunked');
    const text = plain ? 'chunked' : value.toString('latin1');
    coding = coding === undefined ? text : `${coding}, ${text}`;
  }
  if (coding === undefined || plain) return undefined;
  return coding.trim().toLowerCase() === 'chunked' ? undefined : coding;
}

/** Whether `buf` is `lower` (lower-case letters and dashes) in any case, compared on the bytes. */
function spells(buf: Buffer, lower: string): boolean {
  if (buf.length !== lower.length) return false;
  for (let i = 0; i < buf.length; i++) if ((buf[i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Removes every Content-Length from a flat header list, in place. */
function dropContentLength(headers: string[]): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i]!.toLowerCase() === 'content-length') headers.splice(i, 2);
  }
}

/**
 * Whether the client request carries a body, read from the raw headers: touching `req.headers` would
 * make node:http build a header object per request that nothing else needs.
 */
export function requestHasBody(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (namedIgnoringCase(name, 'content-length')) return raw[i + 1]!.trim() !== '0';
    if (namedIgnoringCase(name, 'transfer-encoding')) return true;
  }
  return false;
}

/**
 * Answers a request that will not be forwarded for how the client sent it: a 4xx of the version it was
 * routed to, never a failure of a target. The connection is closed after it, as the framing of what
 * follows on it is in doubt.
 */
function refuse(res: ServerResponse, version: CompiledVersion, code: ProxyErrorCode, message: string): void {
  version.stats.record(OUTCOME_4XX, 0);
  res.shouldKeepAlive = false;
  writeProxyError(res, code, message);
}

/** The facts {@link forward} hands the header copy, one object for every request, filled in each time. */
const forwardedFor: { -readonly [K in keyof ForwardedFor]: ForwardedFor[K] } = {
  clientAddress: '',
  proto: '',
  badHost: undefined,
  badCoding: undefined,
};

/** {@link forwardedFor}, filled in for one request. */
function forwardedFrom(clientAddress: string, proto: string): ForwardedFor {
  const fwd = forwardedFor;
  fwd.clientAddress = clientAddress;
  fwd.proto = proto;
  fwd.badHost = undefined;
  fwd.badCoding = undefined;
  return fwd;
}

function onResponseClose(this: TrackedResponse): void {
  this[kHandler]?.clientClosed();
}

/**
 * Forwards `req` to `upstream` (a target of `version`) and streams the answer into `res`. With `retry`,
 * a bodiless request of a retryable method that fails before its response starts goes once more to the
 * original version.
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  version: CompiledVersion,
  upstream: Upstream,
  versionHeader: string | false,
  proto: string,
  retry?: RetryRoute,
  /** The body to send instead of reading `req` (a tee when the request is mirrored). */
  body?: Readable,
): void {
  // 'close' fires once; `on` spares the wrapper `once` would allocate per request.
  res.on('close', onResponseClose);
  const raw = req.rawHeaders;
  if (raw.length > MAX_RAW_HEADER_ENTRIES) {
    // Forwarding the lines node:http kept would send a request the client did not send.
    refuse(res, version, 'HEADERS_TOO_LARGE', `more than ${MAX_REQUEST_HEADERS} header lines`);
    return;
  }
  const fwd = forwardedFrom(req.socket.remoteAddress ?? '', proto);
  const headers = upstreamRequestHeaders(raw, fwd);
  if (fwd.badHost !== undefined) {
    refuse(res, version, 'REQUEST_INVALID', `the request has ${fwd.badHost}`);
    return;
  }
  if (fwd.badCoding !== undefined) {
    refuse(res, version, 'CODING_UNSUPPORTED', `transfer coding "${fwd.badCoding}": only chunked is forwarded`);
    return;
  }
  dispatch(req, res, version, upstream, versionHeader, headers, retry, body);
}

function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  version: CompiledVersion,
  upstream: Upstream,
  versionHeader: string | false,
  headers: string[],
  retry: RetryRoute | undefined,
  body?: Readable,
): void {
  const started = performance.now();
  const hasBody = requestHasBody(req.rawHeaders);
  // A body streamed to the replacement is consumed: only a bodiless request can be sent again.
  const retryable = retry !== undefined && !hasBody && retry.methods.has(req.method!);
  const handler = new ProxyHandler(
    res,
    version,
    versionHeader,
    started,
    retryable ? { req, route: retry, headers } : undefined,
    upstream,
  );
  (res as TrackedResponse)[kHandler] = handler;
  upstream.pool.dispatch(
    {
      path: upstream.basePath === '' ? req.url! : upstream.basePath + req.url!,
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: hasBody ? (body ?? req) : null,
      // A request whose body streams from the client cannot be replayed, so undici must never retry it.
      idempotent: !hasBody && (req.method === 'GET' || req.method === 'HEAD'),
    },
    handler,
  );
}
