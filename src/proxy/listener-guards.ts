/**
 * @module proxy/listener-guards
 * What a listener does with a client that breaks the protocol or stalls: a malformed or oversized head,
 * a head that never ends, an upload that stops. The answer is the data plane's JSON error and a close,
 * but only where it cannot corrupt the connection: responses on a connection stay whole and in request
 * order, so an error is written only when nothing has been written and no earlier answer is owed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import type { ErrorCode } from '../core/errors.js';

/** A parse or timeout error node:http hands to 'clientError'. */
export type ClientError = NodeJS.ErrnoException & { rawPacket?: Buffer };

/** The node:http internals of a server connection the guards read (absent from Node's typings). */
type HttpSocket = Duplex & {
  /** The parser; `incoming` is the request whose head it has read last, until that one is answered. */
  readonly parser?: { readonly incoming: IncomingMessage | null } | null;
  /** The response that owns the connection now: the earliest one not yet finished. */
  readonly _httpMessage?: ServerResponse | null;
};

/** A whole `connection: close` response with the `{error, message}` body of proxy-error. */
function errorResponse(status: string, code: ErrorCode, message: string): Buffer {
  const body = JSON.stringify({ error: code, message });
  return Buffer.from(
    `HTTP/1.1 ${status}\r\nconnection: close\r\ncache-control: no-store\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const BAD_REQUEST = errorResponse('400 Bad Request', 'BAD_REQUEST', 'the request is not valid HTTP/1.1');
const HEAD_TIMEOUT = errorResponse('408 Request Timeout', 'REQUEST_TIMEOUT', 'the request head did not arrive in time');
const BODY_TIMEOUT = errorResponse('408 Request Timeout', 'REQUEST_TIMEOUT', 'the request body stopped arriving');
const BODY_TOO_LARGE = errorResponse('413 Content Too Large', 'BODY_TOO_LARGE', 'chunk extensions are too large');
const URI_TOO_LONG = errorResponse('414 URI Too Long', 'URI_TOO_LONG', 'the request line is too long');
const HEADERS_TOO_LARGE = errorResponse(
  '431 Request Header Fields Too Large',
  'HEADERS_TOO_LARGE',
  'the request head is too large',
);

/** Connections already being closed for a client error: the parser repeats its error on every later packet. */
const closing = new WeakSet<Duplex>();

/**
 * A listener's 'clientError': a head or body node:http cannot parse, or a head past `headersTimeout`. The
 * client gets the matching status when nothing has been written on the connection and no earlier request
 * awaits its answer; when earlier answers are owed, they are sent whole first, then the error, then the
 * close; when the broken request's own answer has begun, the connection is cut.
 */
export function onClientError(err: ClientError, duplex: Duplex, maxHeaderSize: number): void {
  if (closing.has(duplex)) return;
  closing.add(duplex);
  const socket = duplex as HttpSocket;
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const answer = errorAnswer(err, maxHeaderSize);
  const current = socket.parser?.incoming ?? undefined;
  // An error inside a request's body: that request can never be answered as asked.
  const broken = current !== undefined && !current.complete ? current : undefined;
  if (answersNow(socket, broken)) closeWith(socket, answer);
  else if (broken !== undefined) socket.destroy();
  else afterOwedResponses(socket, answer);
}

/**
 * A connection's idle timer fired: `bodyTimeout` without a byte, or the keep-alive timeout between
 * requests. Node destroys the connection itself unless the server listens for 'timeout', as this does
 * so that a complete request waiting on its upstream (bounded by the upstream's own timeouts) survives.
 */
export function onIdle(idle: Socket): void {
  const socket = idle as HttpSocket;
  const request = socket.parser?.incoming;
  if (request && !request.complete) {
    // Body bytes already read but not taken mean the upstream is slow to read, not that the client stalled.
    if (request.readableLength > 0) return;
    if (answersNow(socket, request)) closeWith(socket, BODY_TIMEOUT);
    else socket.destroy();
  } else if (!socket._httpMessage) {
    // Between requests (keep-alive) or before a head: nothing is owed.
    socket.destroy();
  }
}

/**
 * Whether an error can be written now as the answer to `request`, a request whose body is unfinished, or
 * to a head not yet read (undefined). Every request read has its response from its head on, and the
 * connection's current response is the earliest unfinished one: for a head not yet read, none may be
 * owed; for `request`, the current response must be its own and have written nothing (none at all means
 * it was already answered).
 */
function answersNow(socket: HttpSocket, request: IncomingMessage | undefined): boolean {
  const response = socket._httpMessage;
  if (request === undefined) return !response;
  return response?.req === request && !response.headersSent;
}

/** Writes `answer` and closes once it is sent. */
function closeWith(socket: HttpSocket, answer: Buffer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(answer);
  // The server allows half-open connections: ending only stops the writing side.
  socket.once('finish', destroyItself);
}

/** A 'finish' listener that destroys the stream that emitted it. */
function destroyItself(this: Duplex): void {
  this.destroy();
}

/** Waits for every response owed on the connection to finish, then answers with the error and closes. */
function afterOwedResponses(socket: HttpSocket, answer: Buffer): void {
  const response = socket._httpMessage;
  if (!response) {
    closeWith(socket, answer);
    return;
  }
  // Node's own 'finish' listener, added first, has already handed the connection to the next response.
  response.once('finish', () => afterOwedResponses(socket, answer));
}

/** The error response for a client error. */
function errorAnswer(err: ClientError, maxHeaderSize: number): Buffer {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return requestLineTooLong(err.rawPacket, maxHeaderSize) ? URI_TOO_LONG : HEADERS_TOO_LARGE;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return BODY_TOO_LARGE;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return HEAD_TIMEOUT;
    default:
      return BAD_REQUEST;
  }
}

/** A method, then a space: the start of a request line. */
const REQUEST_LINE_START = /^[A-Za-z]+ /;

/**
 * node:http counts the URL and the header fields against one limit and reports both as
 * HPE_HEADER_OVERFLOW; the head is taken for a long URL when the packet that crossed the limit begins
 * with a request line that alone is longer than the limit. A request line split across packets is
 * reported as too large a head.
 */
function requestLineTooLong(packet: Buffer | undefined, maxHeaderSize: number): boolean {
  if (packet === undefined || !REQUEST_LINE_START.test(packet.subarray(0, 32).toString('latin1'))) return false;
  const end = packet.indexOf(10);
  return (end === -1 ? packet.length : end) > maxHeaderSize;
}
