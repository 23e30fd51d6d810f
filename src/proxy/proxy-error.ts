/**
 * @module proxy/proxy-error
 * The small JSON answers the data plane gives when it cannot proxy a request.
 */
import { type ServerResponse, STATUS_CODES } from 'node:http';

/** Data-plane error codes and their statuses; a subset of core/errors' codes. */
export const PROXY_ERRORS = {
  NO_ROUTE: 404,
  NO_TARGET: 503,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TIMEOUT: 504,
} as const;
export type ProxyErrorCode = keyof typeof PROXY_ERRORS;

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
  const status = PROXY_ERRORS[code];
  // The reason is given, not left to writeHead: a failed earlier writeHead (an upstream reason phrase
  // Node refuses) leaves its statusMessage behind, and writeHead would reuse it and throw again.
  res.writeHead(status, STATUS_CODES[status], headers);
  res.end(body);
}
