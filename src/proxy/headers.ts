/**
 * @module proxy/headers
 * Header rewriting for both directions, over Node's and undici's raw (flat) header arrays so nothing is
 * parsed into objects on the hot path.
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1 and the de-facto ones) that a proxy must not forward. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
  'proxy-authenticate',
  // Expect: 100-continue is answered by this proxy's own server; undici refuses to send it.
  'expect',
  'http2-settings',
]);

/** Names listed in Connection header values (they become hop-by-hop too), lower-cased. */
function connectionTokens(value: string, into: Set<string>): void {
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t && t !== 'close' && t !== 'keep-alive') into.add(t);
  }
}

function isHopByHop(lowerName: string, listed: Set<string> | undefined): boolean {
  return HOP_BY_HOP.has(lowerName) || listed?.has(lowerName) === true;
}

/** Facts about the client request, read while its headers are copied. */
export interface ForwardedFor {
  readonly clientAddress: string;
  readonly proto: string;
}

/**
 * The headers to send upstream: the client's, minus hop-by-hop ones, with X-Forwarded-For appended to
 * and X-Forwarded-Proto / X-Forwarded-Host set when the client did not send them.
 */
export function upstreamRequestHeaders(raw: readonly string[], fwd: ForwardedFor): string[] {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      listed ??= new Set();
      connectionTokens(raw[i + 1]!, listed);
    }
  }
  const out: string[] = [];
  let xff: string | undefined;
  let proto: string | undefined;
  let host: string | undefined;
  let fwdHost: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower.startsWith('x-forwarded-')) {
      if (lower === 'x-forwarded-for') {
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      }
      if (lower === 'x-forwarded-proto') proto ??= value;
      else if (lower === 'x-forwarded-host') fwdHost ??= value;
    } else if (isHopByHop(lower, listed)) {
      continue;
    } else if (lower === 'host') {
      host = value;
    }
    out.push(name, value);
  }
  out.push('x-forwarded-for', xff === undefined ? fwd.clientAddress : `${xff}, ${fwd.clientAddress}`);
  if (proto === undefined) out.push('x-forwarded-proto', fwd.proto);
  if (fwdHost === undefined && host !== undefined) out.push('x-forwarded-host', host);
  return out;
}

/**
 * The headers to send the client: the upstream's (latin1, as on the wire), minus hop-by-hop ones, plus
 * the version header when one is configured.
 */
export function clientResponseHeaders(
  raw: readonly Buffer[],
  versionHeader: string | false,
  version: string,
): string[] {
  // Connection may list a header that comes before it, so its tokens are read first.
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && name.toString('latin1').toLowerCase() === 'connection') {
      listed ??= new Set();
      connectionTokens(raw[i + 1]!.toString('latin1'), listed);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    if (isHopByHop(name.toLowerCase(), listed)) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  if (versionHeader !== false) out.push(versionHeader, version);
  return out;
}
