/**
 * @module api/auth/bearer
 * The REST API's credential: `Authorization: Bearer <token>`, compared with the configured token in
 * constant time.
 */
import { sameSecret } from '../../core/constant-time.js';

/** The token of an `Authorization: Bearer <token>` header (scheme in any case), or undefined. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

/** Why `header` does not carry `token` (for the log, never the token itself), or undefined when it does. */
export function bearerRefusal(header: string | undefined, token: string): string | undefined {
  if (header === undefined) return 'no Authorization header';
  const presented = bearerTokenOf(header);
  if (presented === undefined) return 'Authorization header is not a bearer token';
  return sameSecret(presented, token) ? undefined : 'wrong bearer token';
}
