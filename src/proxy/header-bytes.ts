/**
 * @module proxy/header-bytes
 * Reading undici's raw response header buffers without turning every one into a new string: names are
 * recognised on their bytes against a table of common spellings, and the values that repeat from one
 * response to the next (Date within a second, a Content-Length, a Content-Type) reuse the string made
 * the last time.
 */

/** A header name as upstreams commonly spell it, with what the response path needs to know of it. */
export interface KnownName {
  /** The name exactly as spelled on the wire. */
  readonly name: string;
  readonly lower: string;
  /** Whether its value repeats often enough across responses to be worth remembering. */
  readonly repeats: boolean;
  /** The string made for the last value seen under this spelling. */
  lastValue: string | undefined;
}

/** Names whose values are mostly the same from one response to the next. */
const REPEATING = [
  'date',
  'content-length',
  'content-type',
  'server',
  'cache-control',
  'vary',
  'accept-ranges',
  'content-encoding',
  'x-powered-by',
  'connection',
  'keep-alive',
  'transfer-encoding',
];

/** Names whose values differ per response (or are not to be kept in memory, like cookies). */
const VARYING = ['etag', 'last-modified', 'expires', 'location', 'set-cookie', 'age', 'x-request-id'];

/** Known spellings by length: lower case (node:http, undici, Go) and Title-Case (many others). */
const BY_LENGTH: KnownName[][] = [];

function titleCase(lower: string): string {
  return lower.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

for (const [names, repeats] of [
  [REPEATING, true],
  [VARYING, false],
] as const) {
  for (const lower of names) {
    const list = (BY_LENGTH[lower.length] ??= []);
    for (const name of new Set([lower, titleCase(lower), lower === 'etag' ? 'ETag' : lower])) {
      list.push({ name, lower, repeats, lastValue: undefined });
    }
  }
}

/** Whether `buf` holds exactly the characters of `text` (latin1), compared without decoding. */
export function sameBytes(buf: Buffer, text: string): boolean {
  const n = buf.length;
  if (n !== text.length) return false;
  for (let i = 0; i < n; i++) if (buf[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Whether `buf` spells `lower` (an ASCII lower-case string) in any case, compared without decoding. */
export function spellsIgnoringCase(buf: Buffer, lower: string): boolean {
  const n = buf.length;
  if (n !== lower.length) return false;
  for (let i = 0; i < n; i++) {
    let b = buf[i]!;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (b !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The known spelling `name` is, or undefined for a name not in the table (or not spelled as listed). */
export function knownName(name: Buffer): KnownName | undefined {
  const list = BY_LENGTH[name.length];
  if (list === undefined) return undefined;
  for (const known of list) if (sameBytes(name, known.name)) return known;
  return undefined;
}

/** The value as a string: the one made last time under this name when the bytes are the same. */
export function valueOf(known: KnownName | undefined, value: Buffer): string {
  if (known === undefined || !known.repeats) return value.toString('latin1');
  const last = known.lastValue;
  if (last !== undefined && sameBytes(value, last)) return last;
  // A long value is unlikely to repeat and not worth holding on to.
  const text = value.toString('latin1');
  if (text.length <= 128) known.lastValue = text;
  return text;
}

/** Whether `name` is `lower` (an ASCII lower-case string) in any case, without a lower-cased copy. */
export function namedIgnoringCase(name: string, lower: string): boolean {
  const n = name.length;
  if (n !== lower.length) return false;
  for (let i = 0; i < n; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
