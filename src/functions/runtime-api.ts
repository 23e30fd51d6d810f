/**
 * @module functions/runtime-api
 * The Lambda Runtime API (2018-06-01) for one execution environment: a node:http server on 127.0.0.1 that
 * hands one invocation at a time to the runtime's `next` long-poll and takes its `response` or `error`.
 * One server per environment (its own port) rather than one shared server routing by prefix: the API's
 * state machine is per runtime process, a killed environment takes its port with it, and a stray process
 * of an old environment can never reach the state of a fresh one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { SwitchyardError } from '../core/errors.js';

/** The RIE's payload ceiling (6 MiB + 100 bytes), for events handed out and bodies taken in. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100;

const PREFIX = '/2018-06-01/runtime/';

/** One invocation as handed to the runtime by `next`. */
export interface RuntimeInvocation {
  readonly requestId: string;
  readonly payload: Buffer;
  /** Wall-clock deadline, epoch milliseconds. */
  readonly deadlineMs: number;
  readonly invokedFunctionArn: string;
  readonly traceId?: string;
  /** Already decoded client context JSON. */
  readonly clientContext?: string;
  /** Cognito identity JSON. */
  readonly cognitoIdentity?: string;
  readonly contentType?: string;
}

/** What the runtime posted for an invocation (or for init). */
export type RuntimeReport =
  | { readonly kind: 'response'; readonly body: Buffer; readonly contentType: string | undefined }
  | { readonly kind: 'error'; readonly body: Buffer; readonly errorTypeHeader: string | undefined };

/** What the environment hears from the API besides reports. */
export interface RuntimeApiListener {
  /** The runtime called `next`: Init (first call) or the previous invocation is over. */
  onNext(): void;
  /** The runtime posted `/runtime/init/error`. */
  onInitError(body: Buffer, errorTypeHeader: string | undefined): void;
}

interface InFlight {
  readonly invocation: RuntimeInvocation;
  readonly settle: (report: RuntimeReport) => void;
  handedOut: boolean;
}

/** The Runtime API of one environment; `deliver` one invocation at a time. */
export class RuntimeApi {
  private readonly server: Server;
  private waitingNext: ServerResponse | undefined;
  private inFlight: InFlight | undefined;

  /** Creates the server; call {@link RuntimeApi.listen} before handing out its address. */
  constructor(private readonly listener: RuntimeApiListener) {
    this.server = createServer((req, res) => this.route(req, res));
  }

  /** Listens on 127.0.0.1, port 0; resolves the `host:port` for `AWS_LAMBDA_RUNTIME_API`. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `127.0.0.1:${address.port}`;
  }

  /** Hands `invocation` to the runtime's next `next` call; resolves with what the runtime posts for it. */
  deliver(invocation: RuntimeInvocation): Promise<RuntimeReport> {
    if (this.inFlight) throw new SwitchyardError('INTERNAL', 'an invocation is already in flight');
    return new Promise((resolve) => {
      this.inFlight = { invocation, settle: resolve, handedOut: false };
      this.handOut();
    });
  }

  /** Forgets the in-flight invocation (timed out, or its process died); a late post for it gets 400. */
  abandon(): void {
    this.inFlight = undefined;
  }

  /** Ends a pending `next` and stops listening. */
  async close(): Promise<void> {
    this.waitingNext?.destroy();
    this.waitingNext = undefined;
    this.inFlight = undefined;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(PREFIX)) return sendError(res, 404, 'NotFound', 'Not Found', req);
    const rest = path.slice(PREFIX.length);
    if (req.method === 'GET' && rest === 'invocation/next') return this.next(req, res);
    if (req.method === 'POST' && rest === 'init/error') return void this.initError(req, res);
    const match = /^invocation\/([^/]*)\/(response|error)$/.exec(rest);
    if (req.method === 'POST' && match) return void this.report(req, res, decodeURIComponent(match[1] ?? ''), match[2]);
    sendError(res, 404, 'NotFound', 'Not Found', req);
  }

  private next(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    // A runtime that calls next while holding an invocation has given up on it, as the RIE reads it.
    if (this.inFlight?.handedOut) {
      return sendError(
        res,
        403,
        'InvalidStateTransition',
        'State transition from Invoking to Ready failed for runtime. Error: next called before a response or error',
      );
    }
    this.waitingNext?.destroy();
    this.waitingNext = res;
    res.on('close', () => {
      if (this.waitingNext === res) this.waitingNext = undefined;
    });
    this.listener.onNext();
    this.handOut();
  }

  private handOut(): void {
    const inFlight = this.inFlight;
    const res = this.waitingNext;
    if (!inFlight || inFlight.handedOut || !res) return;
    this.waitingNext = undefined;
    inFlight.handedOut = true;
    const inv = inFlight.invocation;
    const headers: Record<string, string> = {
      'content-type': inv.contentType ?? 'application/json',
      'lambda-runtime-aws-request-id': inv.requestId,
      'lambda-runtime-deadline-ms': String(inv.deadlineMs),
      'lambda-runtime-invoked-function-arn': inv.invokedFunctionArn,
    };
    if (inv.traceId !== undefined) headers['lambda-runtime-trace-id'] = inv.traceId;
    if (inv.clientContext !== undefined) headers['lambda-runtime-client-context'] = inv.clientContext;
    if (inv.cognitoIdentity !== undefined) headers['lambda-runtime-cognito-identity'] = inv.cognitoIdentity;
    res.writeHead(200, { ...headers, 'content-length': String(inv.payload.length) });
    res.end(inv.payload);
  }

  private async report(req: IncomingMessage, res: ServerResponse, id: string, what: string | undefined) {
    const inFlight = this.inFlight;
    if (!inFlight || !id || inFlight.invocation.requestId !== id) {
      req.resume();
      return sendError(res, 400, 'InvalidRequestID', 'Invalid request ID');
    }
    if (!inFlight.handedOut) {
      req.resume();
      return sendError(
        res,
        403,
        'InvalidStateTransition',
        'State transition from Ready to InvocationResponse failed for runtime. Error: no invocation handed out',
      );
    }
    const mode = header(req, 'lambda-runtime-function-response-mode');
    if (what === 'response' && mode !== undefined && mode.toLowerCase() !== 'streaming') {
      req.resume();
      sendError(res, 400, 'InvalidFunctionResponseMode', 'Invalid function response mode');
      return this.finish(inFlight, errorReport('Runtime.InvalidResponseModeHeader', 'Invalid function response mode'));
    }
    const body = await readBody(req);
    if (this.inFlight !== inFlight) return sendError(res, 400, 'InvalidRequestID', 'Invalid request ID');
    if (body === 'truncated') return sendError(res, 400, 'TruncatedHTTPRequest', 'HTTP request detected as truncated');
    if (typeof body === 'number') {
      sendError(
        res,
        413,
        'RequestEntityTooLarge',
        `Exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
      );
      const message = `Response payload size (${body} bytes) exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`;
      return this.finish(inFlight, errorReport('Function.ResponseSizeTooLarge', message));
    }
    sendAccepted(res);
    this.finish(
      inFlight,
      what === 'response'
        ? { kind: 'response', body, contentType: header(req, 'content-type') }
        : { kind: 'error', body, errorTypeHeader: header(req, 'lambda-runtime-function-error-type') },
    );
  }

  private finish(inFlight: InFlight, report: RuntimeReport): void {
    this.inFlight = undefined;
    inFlight.settle(report);
  }

  private async initError(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req);
    if (typeof body === 'number') {
      return sendError(
        res,
        413,
        'RequestEntityTooLarge',
        `Exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
      );
    }
    if (body === 'truncated') return sendError(res, 400, 'TruncatedHTTPRequest', 'HTTP request detected as truncated');
    sendAccepted(res);
    this.listener.onInitError(body, header(req, 'lambda-runtime-function-error-type'));
  }
}

/** A function error document as the platform builds it. */
function errorReport(errorType: string, errorMessage: string): RuntimeReport {
  return { kind: 'error', body: Buffer.from(JSON.stringify({ errorType, errorMessage })), errorTypeHeader: errorType };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body, or its full size when over the ceiling (the 413 message names it), or 'truncated'. */
function readBody(req: IncomingMessage): Promise<Buffer | number | 'truncated'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_PAYLOAD_BYTES ? size : Buffer.concat(chunks)));
    req.on('aborted', () => resolve('truncated'));
    req.on('error', () => resolve('truncated'));
  });
}

function sendAccepted(res: ServerResponse): void {
  res.writeHead(202, { 'content-type': 'application/json' });
  res.end('{"status":"OK"}');
}

function sendError(
  res: ServerResponse,
  status: number,
  errorType: string,
  errorMessage: string,
  req?: IncomingMessage,
) {
  req?.resume();
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errorMessage, errorType }));
}
