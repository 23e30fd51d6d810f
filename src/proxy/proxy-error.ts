/**
 * @module proxy/proxy-error
 * The small JSON answers the data plane gives when it cannot proxy a request, and whose fault a failed
 * attempt was: only a target's own failures may count against it.
 */
import { type ServerResponse, STATUS_CODES } from 'node:http';

/** Data-plane error codes and their statuses; a subset of core/errors' codes. */
export const PROXY_ERRORS = {
  REQUEST_INVALID: 400,
  NO_ROUTE: 404,
  HEADERS_TOO_LARGE: 431,
  CODING_UNSUPPORTED: 501,
  NO_TARGET: 503,
  PROXY_OVERLOADED: 503,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  /** Nominal: an injected abort answers with the status its fault names (503 unless told). */
  FAULT_INJECTED: 503,
} as const;
export type ProxyErrorCode = keyof typeof PROXY_ERRORS;

/** undici refusing to build the upstream request from what the client sent: the request's fault. */
const REQUEST_FAULTS = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH']);

/**
 * This process out of descriptors, memory, buffers or local ports, or its own pool closed under the
 * request (a table swap, a shutdown): nothing any target did.
 */
const LOCAL_FAULTS = new Set([
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'ENOBUFS',
  'EADDRNOTAVAIL',
  'UND_ERR_DESTROYED',
  'UND_ERR_CLOSED',
]);

/** Upstream error codes that mean the target took too long rather than failed to answer. */
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/**
 * The answer to an attempt that failed with `err` before its response began. Only the UPSTREAM_ codes
 * are failures of the target ({@link chargedToTarget}); anything else must not count for its health,
 * its ejection, a retry or an alarm, or one malformed request could take a healthy version down.
 */
export function failureCode(err: Error): ProxyErrorCode {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return 'UPSTREAM_UNREACHABLE';
  if (REQUEST_FAULTS.has(code)) return 'REQUEST_INVALID';
  if (LOCAL_FAULTS.has(code)) return 'PROXY_OVERLOADED';
  return TIMEOUT_CODES.has(code) ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE';
}

/** Whether a failure answered with `code` was the target's doing. */
export function chargedToTarget(code: ProxyErrorCode): boolean {
  return code === 'UPSTREAM_UNREACHABLE' || code === 'UPSTREAM_TIMEOUT';
}

/**
 * Writes `{ "error": code, "message": ... }` with the code's status and closes the response; if a
 * response has already begun, the connection is cut instead, the only signal left.
 */
export function writeProxyError(
  res: ServerResponse,
  code: ProxyErrorCode,
  message: string,
  versionHeader: string | false = false,
  version?: string,
  /** The status to answer with, when not the code's own (an injected fault names its own). */
  status: number = PROXY_ERRORS[code],
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: code, message });
  // no-store: a 404 is cacheable by default, and a cache in front must not keep serving a passing
  // routing or upstream failure after it is gone.
  const headers: string[] = [
    'content-type',
    'application/json',
    'content-length',
    String(Buffer.byteLength(body)),
    'cache-control',
    'no-store',
  ];
  if (versionHeader !== false && version !== undefined) headers.push(versionHeader, version);
  // Overload passes: a client told when to come back does not retry in a tight loop.
  if (code === 'PROXY_OVERLOADED') headers.push('retry-after', '1');
  // The reason is given, not left to writeHead: a failed earlier writeHead (an upstream reason phrase
  // Node refuses) leaves its statusMessage behind, and writeHead would reuse it and throw again.
  res.writeHead(status, STATUS_CODES[status], headers);
  res.end(body);
}
