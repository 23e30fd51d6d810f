/**
 * @module proxy/headers
 * Header rewriting for both directions, over Node's and undici's raw (flat) header arrays so nothing is
 * parsed into objects on the hot path.
 */
import { knownName, namedIgnoringCase, spellsIgnoringCase, valueOf } from './header-bytes.js';

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

/** A Connection value that names no other header, as nearly every response's `keep-alive` does. */
const NAMES_NOTHING = /^[ \t]*(?:keep-alive|close)[ \t]*$/i;

/**
 * Adds the names a Connection value lists (they become hop-by-hop too), lower-cased, to `into`, which
 * is created only when there is a name to add.
 */
function connectionTokens(value: string, into: Set<string> | undefined): Set<string> | undefined {
  if (NAMES_NOTHING.test(value)) return into;
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (!t || t === 'close' || t === 'keep-alive') continue;
    into ??= new Set();
    into.add(t);
  }
  return into;
}

/**
 * The most request header lines forwarded. node:http keeps at most this many (its `maxHeadersCount`,
 * 1000 by default) and drops the rest silently; its raw list keeps collecting in batches of 32 lines
 * until it holds at least that many, so a request over the limit always shows more than twice this many
 * raw entries, as long as the listener's `maxHeadersCount` is left at its default or set above this.
 */
export const MAX_REQUEST_HEADERS = 1000;

/**
 * A Host value as RFC 9112 §3.2 allows one: `uri-host [":" port]`, the host a reg-name, an IPv4 address
 * or a bracketed IP literal. Empty is allowed: it stands for a target URI without an authority.
 */
const VALID_HOST = /^(?:[\w\-.~!$&'()*+,;=%]*|\[[\w\-.~!$&'()*+,;=%:]+\])(?::\d*)?$/;

/** Facts about the client request, read while its headers are copied. */
export interface ForwardedFor {
  readonly clientAddress: string;
  readonly proto: string;
  /**
   * Set while the headers are copied when the request must be refused 400 for its Host (more than one,
   * or not a host and port, RFC 9112 §3.2): why.
   */
  badHost?: string | undefined;
  /**
   * Set while the headers are copied when the request must be refused 501 for a transfer coding other
   * than `chunked` (RFC 9112 §6.1): node:http has decoded the chunks, and forwarding the rest as a plain
   * body would silently drop the coding. The codings, as sent.
   */
  badCoding?: string | undefined;
}

/**
 * The headers to send upstream: the client's, minus hop-by-hop ones, with X-Forwarded-For appended to
 * and X-Forwarded-Proto / X-Forwarded-Host set when the client did not send them. A Host or a transfer
 * coding to refuse is noted in `fwd.badHost` or `fwd.badCoding`.
 */
export function upstreamRequestHeaders(raw: readonly string[], fwd: ForwardedFor): string[] {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (namedIgnoringCase(raw[i]!, 'connection')) listed = connectionTokens(raw[i + 1]!, listed);
  }
  const out: string[] = [];
  let xff: string | undefined;
  let proto: string | undefined;
  let host: string | undefined;
  let fwdHost: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // Names are compared in any case, on their characters: a lower-cased copy of each would be garbage.
    if (name.length >= 15 && name.length <= 17 && startsIgnoringCase(name, 'x-forwarded-')) {
      if (namedIgnoringCase(name, 'x-forwarded-for')) {
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      }
      if (namedIgnoringCase(name, 'x-forwarded-proto')) proto ??= value;
      else if (namedIgnoringCase(name, 'x-forwarded-host')) fwdHost ??= value;
    } else if (isHopByHopName(name) || (listed !== undefined && listed.has(name.toLowerCase()))) {
      if (namedIgnoringCase(name, 'transfer-encoding') && value.trim().toLowerCase() !== 'chunked') {
        fwd.badCoding = value;
      }
      continue;
    } else if (namedIgnoringCase(name, 'host')) {
      // Two Hosts would leave the target to pick one, and undici refuses to send them anyway.
      if (host !== undefined) fwd.badHost = 'more than one Host header';
      else if (!VALID_HOST.test(value)) fwd.badHost = 'a Host header that is not a host and port';
      host = value;
    }
    out.push(name, value);
  }
  out.push('x-forwarded-for', xff === undefined ? fwd.clientAddress : `${xff}, ${fwd.clientAddress}`);
  if (proto === undefined) out.push('x-forwarded-proto', fwd.proto);
  if (fwdHost === undefined && host !== undefined) out.push('x-forwarded-host', host);
  return out;
}

/** Whether `name` begins with `lower` (ASCII lower case) in any case. */
function startsIgnoringCase(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether a request header name is hop-by-hop, in any case. */
function isHopByHopName(name: string): boolean {
  for (const hop of HOP_BY_HOP) if (namedIgnoringCase(name, hop)) return true;
  return false;
}

/** What a listener does with the X-Forwarded-* headers a client sent: see {@link withoutForwarded}. */
export type ForwardedHeaders = 'append' | 'overwrite';

/** Whether a lower-cased header name is one a client could spoof its origin with. */
function isForwarding(lower: string): boolean {
  return lower.startsWith('x-forwarded-') || lower === 'forwarded';
}

/**
 * The raw headers less every X-Forwarded-* and Forwarded line, for a listener that is the first hop
 * (`forwardedHeaders: overwrite`): {@link upstreamRequestHeaders} then states the client address, scheme
 * and host itself, so a client cannot claim another. `raw` itself when it has none of them.
 */
export function withoutForwarded(raw: string[]): string[] {
  let i = 0;
  while (i < raw.length && !isForwarding(raw[i]!.toLowerCase())) i += 2;
  if (i >= raw.length) return raw;
  const kept = raw.slice(0, i);
  for (; i < raw.length; i += 2) {
    if (!isForwarding(raw[i]!.toLowerCase())) kept.push(raw[i]!, raw[i + 1]!);
  }
  return kept;
}

/** {@link withoutForwarded} for an upgrade request's parsed headers, edited in place. */
export function deleteForwarded(headers: Record<string, string | string[] | undefined>): void {
  for (const name of Object.keys(headers)) if (isForwarding(name)) Reflect.deleteProperty(headers, name);
}

/** Whether a response header name, as bytes, is hop-by-hop (RFC 9110 §7.6.1 and the de-facto ones). */
function isHopByHopBytes(name: Buffer): boolean {
  for (const hop of HOP_BY_HOP) if (spellsIgnoringCase(name, hop)) return true;
  return false;
}

/**
 * The list {@link clientResponseHeaders} fills: node:http turns it into the head's text inside
 * `writeHead`, so one list serves every response, and no array is made per response.
 */
const responseHeaders: string[] = [];

/**
 * Adds the header names a response's Connection lines list to `listed`. The common values, `keep-alive`
 * and `close`, list nothing and are settled on the bytes.
 */
function listedByConnection(raw: readonly Buffer[]): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (!spellsIgnoringCase(raw[i]!, 'connection')) continue;
    const value = raw[i + 1]!;
    if (spellsIgnoringCase(value, 'keep-alive') || spellsIgnoringCase(value, 'close')) continue;
    listed = connectionTokens(value.toString('latin1'), listed);
  }
  return listed;
}

/**
 * The headers to send the client: the upstream's (latin1, as on the wire), minus hop-by-hop ones, plus
 * the version header when one is configured (replacing any the upstream sent). The list returned is
 * reused by the next call: pass it to `writeHead` (which copies it) before calling again.
 */
export function clientResponseHeaders(
  raw: readonly Buffer[],
  versionHeader: string | false,
  version: string,
): string[] {
  // Connection may list a header that comes before it, so its tokens are read first.
  const listed = listedByConnection(raw);
  const out = responseHeaders;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const nameBytes = raw[i]!;
    const known = knownName(nameBytes);
    let name: string;
    if (known !== undefined) {
      if (HOP_BY_HOP.has(known.lower) || listed?.has(known.lower) === true || known.lower === versionHeader) continue;
      name = known.name;
    } else {
      // The version header is this proxy's word on who served the request (the config lower-cases its
      // name); an upstream's header of that name would contradict or duplicate it.
      if (isHopByHopBytes(nameBytes) || (versionHeader !== false && spellsIgnoringCase(nameBytes, versionHeader))) {
        continue;
      }
      name = nameBytes.toString('latin1');
      if (listed?.has(name.toLowerCase()) === true) continue;
    }
    out[n++] = name;
    out[n++] = valueOf(known, raw[i + 1]!);
  }
  if (versionHeader !== false) {
    out[n++] = versionHeader;
    out[n++] = version;
  }
  // Shortening a list keeps its storage unless it shrinks to nothing, so the list is never emptied.
  out.length = n;
  return out;
}

/**
 * Removes from an upgrade request's parsed headers the hop-by-hop ones that do not carry the upgrade
 * itself: Connection and Upgrade stay (the next hop needs them), the rest of the list and the headers
 * Connection names go. Edits `headers` in place; it is the request's own object, used once.
 */
export function stripUpgradeHopByHop(headers: Record<string, string | string[] | undefined>): void {
  const connection = headers['connection'];
  const listed = typeof connection === 'string' ? connectionTokens(connection, undefined) : undefined;
  if (listed) for (const name of listed) if (name !== 'upgrade') Reflect.deleteProperty(headers, name);
  for (const name of HOP_BY_HOP) {
    if (name !== 'connection' && name !== 'upgrade') Reflect.deleteProperty(headers, name);
  }
}
