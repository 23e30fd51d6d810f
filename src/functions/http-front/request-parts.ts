/**
 * @module functions/http-front/request-parts
 * The small readings an event is built from: whether a body is text, the query string's parameters, the
 * client's address behind switchyard's proxy, API Gateway's request time and its request id forms.
 */
import { isUtf8 } from 'node:buffer';
import { createHash, randomFillSync } from 'node:crypto';

/**
 * Subtypes sent as text (API Gateway and function URLs base64-encode the rest): JSON, XML, JavaScript,
 * YAML, form posts and GraphQL, with or without a vendor tree (`application/vnd.api+json`).
 */
const TEXT_SUBTYPE =
  /^(?:application|text)\/(?:[\w.+-]*\+)?(?:json|xml|javascript|ecmascript|x-javascript|yaml|x-yaml|x-www-form-urlencoded|graphql)(?:$|[\s;])/i;

/**
 * Whether a request body goes into the event as text. A body must be valid UTF-8 to be text (anything
 * else would not come back byte for byte); then it is text when its type is `text/*` or a textual
 * subtype, or when the request names no type at all (a JSON body sent without a Content-Type is the
 * common case, and valid UTF-8 decodes and encodes back unchanged).
 */
export function isTextBody(contentType: string | undefined, body: Buffer): boolean {
  if (contentType !== undefined && !/^text\//i.test(contentType) && !TEXT_SUBTYPE.test(contentType)) return false;
  return isUtf8(body);
}

/** Decodes one query component as URLSearchParams does (`+` is a space); a malformed escape stays as sent. */
function decodeComponent(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** The query's parameters, each name with its values in order; null when the query has none. */
export function queryParameters(raw: string): Map<string, string[]> | null {
  if (raw === '') return null;
  const out = new Map<string, string[]>();
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    const values = out.get(name);
    if (values) values.push(value);
    else out.set(name, [value]);
  }
  return out.size === 0 ? null : out;
}

/**
 * The client's address. The front's peer is switchyard's own proxy on loopback, which appends the
 * address it took the request from as X-Forwarded-For's last hop; without that header (a request sent
 * to the front directly) it is the socket's peer. An IPv4 address seen over IPv6 is given as IPv4.
 */
export function sourceIp(forwardedFor: string | undefined, socketAddress: string | undefined): string {
  let ip = socketAddress ?? '';
  if (forwardedFor !== undefined) {
    const comma = forwardedFor.lastIndexOf(',');
    const last = (comma < 0 ? forwardedFor : forwardedFor.slice(comma + 1)).trim();
    if (last !== '') ip = last;
  }
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** API Gateway's request time, `07/Mar/2025:10:15:30 +0000` (UTC). */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const date = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]!}/${d.getUTCFullYear()}`;
  return `${date}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** {@link requestTime}, formatted once per second however many requests share it. */
export class RequestTimes {
  #second = NaN;
  #text = '';

  /** The request time of `epochMs`. */
  format(epochMs: number): string {
    const second = Math.floor(epochMs / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#text = requestTime(epochMs);
    }
    return this.#text;
  }
}

const ID_BYTES = 11;
/** Random bytes for ids, drawn 256 ids at a time: one draw per id costs five times what the id does. */
const idPool = Buffer.alloc(ID_BYTES * 256);
let idOffset = idPool.length;

/** An API Gateway request id (`LV7fzho-PHcEJPw=`): 11 random bytes, URL-safe base64 with its padding. */
export function gatewayRequestId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString('base64url', idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return `${id}=`;
}

/** An id of `length` lowercase letters and digits derived from `seed`: an API's id, a function URL's id. */
export function derivedId(seed: string, length: number): string {
  const digest = createHash('sha256').update(seed).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < length; i++) id += alphabet.charAt(digest[i % digest.length]! % alphabet.length);
  return id;
}
