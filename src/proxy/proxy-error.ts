/**
 * @module proxy/proxy-error
 * The small JSON answers the data plane gives when it cannot proxy a request.
 */
import type { ServerResponse } from 'node:http';

/** Data-plane error codes and their statuses; a subset of core/errors' codes. */
export const PROXY_ERRORS = {
  NO_ROUTE: 404,
  NO_TARGET: 503,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TIMEOUT: 504,
} as const;
export type ProxyErrorCode = keyof typeof PROXY_ERRORS;

/** Writes `{ "error": code, "message": ... }` with the code's status and closes the response. */
export function writeProxyError(
  res: ServerResponse,
  code: ProxyErrorCode,
  message: string,
  versionHeader: string | false = false,
  version?: string,
): void {
  const body = JSON.stringify({ error: code, message });
  const headers: string[] = [
    'content-type',
    'application/json',
    'content-length',
    String(Buffer.byteLength(body)),
  ];
  if (versionHeader !== false && version !== undefined) headers.push(versionHeader, version);
  res.writeHead(PROXY_ERRORS[code], headers);
  res.end(body);
}
