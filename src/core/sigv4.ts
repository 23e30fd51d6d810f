/**
 * @module core/sigv4
 * AWS Signature Version 4 (header form, AWS4-HMAC-SHA256) for CodeDeploy's API: verifying the calls of the
 * AWS SDKs and awscli, and signing the switchyard command's own. The signature itself is computed by
 * AWS's signer (@smithy/signature-v4, the code the JavaScript SDK signs with), so the canonical request is
 * built exactly as clients build it; what is here is reading the request as it was received into that
 * signer's input, and the checks AWS makes around the signature. Nothing here does I/O; time comes in as
 * a number.
 */
import { createHash, createHmac } from 'node:crypto';

import { SignatureV4 } from '@smithy/signature-v4';

import { sameSecret } from './constant-time.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';

/** How far X-Amz-Date may be from the verifier's clock, either way (AWS's own limit). */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

/** A request as received (or about to be sent): what a signature covers. */
export interface SignableRequest {
  readonly method: string;
  /** Path and query exactly as on the request line, e.g. `/` or `/a%20b?x=1`. */
  readonly url: string;
  /** Names and values alternating, in the order and case received (node's `rawHeaders`). */
  readonly rawHeaders: readonly string[];
  readonly body: Uint8Array;
}

/** An access key pair. */
export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The fields of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header. */
export interface ParsedAuthorization {
  readonly accessKeyId: string;
  /** `yyyymmdd` of the credential scope. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** The exceptions AWS answers a badly authenticated call with (HTTP 400, `__type`). */
export type SigV4Exception =
  'UnrecognizedClientException' | 'InvalidSignatureException' | 'IncompleteSignatureException';

/** What verification found: the caller's key, or why the call is refused (`reason` is for the log). */
export type SigV4Verdict =
  | { readonly ok: true; readonly accessKeyId: string }
  | { readonly ok: false; readonly exception: SigV4Exception; readonly message: string; readonly reason: string };

type SignerRequest = Parameters<SignatureV4['presign']>[0];

const INVALID_TOKEN = 'The security token included in the request is invalid.';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret ' +
  'Access Key and signing method. Consult the service documentation for details.';

/** Bytes of what the signer hashes: its strings are UTF-8, as every SDK encodes them. */
function bytesOf(data: string | ArrayBuffer | ArrayBufferView): Buffer | string {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

/** SHA-256, or HMAC-SHA256 under `secret`, on node:crypto, in the form the signer takes. */
class Sha256 {
  readonly #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }

  /** Adds `data` to what is hashed. */
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytesOf(data));
  }

  /** The digest; the hash is finished after it. */
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
}

/** A signer for `key`; region and service are given per signature. */
function signerFor(key: AccessKey, applyChecksum: boolean): SignatureV4 {
  // uriEscapePath: the path as sent is normalised and encoded once more, as for every service but S3.
  return new SignatureV4({
    credentials: key,
    region: 'us-east-1',
    service: '',
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum,
  });
}

/** SHA-256 of `data` as lower-case hex. */
function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Decodes percent-escapes, keeping a malformed one as it stands rather than failing the whole request. */
function uriDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A header value that arrived as bytes (node reads them as latin1) as the UTF-8 the client signed; plain
 * ASCII, nearly all of it, is returned as it is. (The request line needs nothing: node refuses non-ASCII
 * there, so a path or query is percent-encoded.)
 */
function asUtf8(text: string): string {
  // eslint-disable-next-line no-control-regex -- the test is for any character beyond ASCII
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text;
}

/**
 * The signer's query: each `key=value` pair of the raw query percent-decoded (`+` stays `+`; SigV4
 * clients send a space as `%20`), a key without `=` taken as an empty value, a repeated key as a list.
 */
function queryOf(query: string): Record<string, string | string[]> {
  // No prototype: a key named __proto__ reaches the signer as a key like any other.
  const params = Object.create(null) as Record<string, string | string[]>;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = uriDecode(eq < 0 ? part : part.slice(0, eq));
    const value = uriDecode(eq < 0 ? '' : part.slice(eq + 1));
    const seen = params[key];
    params[key] = seen === undefined ? value : typeof seen === 'string' ? [seen, value] : [...seen, value];
  }
  return params;
}

/** The received headers by lower-case name, each with its values in the order they came. */
function headerMap(rawHeaders: readonly string[]): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const values = headers.get(name);
    if (values) values.push(rawHeaders[i + 1]!);
    else headers.set(name, [rawHeaders[i + 1]!]);
  }
  return headers;
}

/**
 * The signer's input for `req` over the headers named (all present): a repeated header's values joined
 * by commas, each trimmed, as SigV4 defines (the signer then collapses inner runs of spaces and tabs),
 * and each value passed through `decode`.
 */
function signerRequest(
  req: SignableRequest,
  headers: ReadonlyMap<string, string[]>,
  names: readonly string[],
  decode: (value: string) => string,
): SignerRequest {
  const q = req.url.indexOf('?');
  const signed = Object.create(null) as Record<string, string>;
  for (const name of names) {
    const values = headers.get(name)!;
    signed[name] = decode(values.length === 1 ? values[0]!.trim() : values.map((v) => v.trim()).join(','));
  }
  return {
    method: req.method.toUpperCase(),
    protocol: 'http:',
    hostname: '',
    path: q < 0 ? req.url : req.url.slice(0, q),
    query: q < 0 ? {} : queryOf(req.url.slice(q + 1)),
    headers: signed,
    body: req.body,
  };
}

/** Parses an AWS4-HMAC-SHA256 Authorization header; a string is what is wrong with it. */
function parseAuthorization(value: string): ParsedAuthorization | string {
  const space = value.indexOf(' ');
  if (space < 0 || value.slice(0, space) !== ALGORITHM) return `Authorization header must start with ${ALGORITHM}`;
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const missing = [
    ['Credential', credential],
    ['SignedHeaders', signed],
    ['Signature', signature],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length) return `Authorization header requires ${missing.map((k) => `'${k!}'`).join(', ')}`;
  const scope = credential!.split('/');
  if (scope.length !== 5 || scope.some((p) => p === '') || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]!)) {
    return `Credential must have the form <AccessKeyId>/<yyyymmdd>/<region>/<service>/aws4_request, got '${credential!}'`;
  }
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  return { accessKeyId, date, region, service, signedHeaders: signed!.split(';'), signature: signature! };
}

/** `yyyymmddThhmmssZ` for an epoch time. */
export function amzDateOf(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Epoch milliseconds of a `yyyymmddThhmmssZ` date, or NaN (for a malformed or impossible one). */
function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  const ms = m
    ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
    : Number.NaN;
  // Date.UTC rolls a 13th month or a 61st second over; the signer would then sign another date.
  return Number.isNaN(ms) || amzDateOf(ms) !== text ? Number.NaN : ms;
}

function refuse(exception: SigV4Exception, message: string, reason: string): SigV4Verdict {
  return { ok: false, exception, message, reason };
}

/** The one value of a header that must not be repeated, undefined when absent, or the refusal. */
function single(headers: ReadonlyMap<string, string[]>, name: string): string | undefined | SigV4Verdict {
  const values = headers.get(name);
  if (values === undefined || values.length === 1) return values?.[0];
  return refuse('IncompleteSignatureException', `The '${name}' header must appear once.`, `repeated ${name}`);
}

/** What {@link verifySigV4} checks a request against. */
export interface VerifyOptions {
  /** The one key accepted. */
  readonly key: AccessKey;
  /** The service the credential scope must name, e.g. `codedeploy`. */
  readonly service: string;
  /** The verifier's time, epoch ms. */
  readonly nowMs: number;
}

/**
 * Verifies the request's Authorization header: the key id is known, the scope names the service and the
 * date of X-Amz-Date, which is within 15 minutes of now, X-Amz-Target is signed, and the signature that
 * AWS's signer computes over the signed headers matches (compared in constant time). An
 * `x-amz-content-sha256` that is not the body's hash is refused, so a signed hash cannot vouch for a
 * different body.
 */
export async function verifySigV4(req: SignableRequest, options: VerifyOptions): Promise<SigV4Verdict> {
  const headers = headerMap(req.rawHeaders);
  const header = single(headers, 'authorization');
  if (typeof header === 'object') return header;
  if (header === undefined || !header.startsWith(`${ALGORITHM} `)) {
    return refuse(
      'UnrecognizedClientException',
      INVALID_TOKEN,
      header === undefined ? 'no Authorization header' : 'not signed with SigV4',
    );
  }
  const auth = parseAuthorization(header);
  if (typeof auth === 'string') return refuse('IncompleteSignatureException', auth, 'malformed Authorization header');
  const refused = credentialProblem(headers, auth, options);
  if (refused) return refused;
  const amzDate = single(headers, 'x-amz-date');
  if (typeof amzDate === 'object') return amzDate;
  if (amzDate === undefined || !auth.signedHeaders.includes('x-amz-date')) {
    return refuse(
      'IncompleteSignatureException',
      "Authorization header requires existence of a signed 'X-Amz-Date' header.",
      'no signed X-Amz-Date',
    );
  }
  const signedAt = parseAmzDate(amzDate);
  const late = dateProblem(amzDate, signedAt, auth, options.nowMs);
  if (late) return late;
  const claimed = single(headers, 'x-amz-content-sha256');
  if (typeof claimed === 'object') return claimed;
  if (claimed !== undefined && claimed !== sha256Hex(req.body)) {
    return refuse(
      'InvalidSignatureException',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      'x-amz-content-sha256 differs from the body',
    );
  }
  const absent = auth.signedHeaders.find((name) => !headers.has(name));
  if (absent !== undefined) return refuse('InvalidSignatureException', MISMATCH, `signed header ${absent} absent`);
  const expected = await signatureOf(req, headers, auth, signedAt, options.key);
  if (!sameSecret(auth.signature, expected)) return refuse('InvalidSignatureException', MISMATCH, 'signature mismatch');
  return { ok: true, accessKeyId: auth.accessKeyId };
}

/** The signature AWS's signer computes for `req` over the headers `auth` names, signed at `signedAt`. */
async function signatureOf(
  req: SignableRequest,
  headers: ReadonlyMap<string, string[]>,
  auth: ParsedAuthorization,
  signedAt: number,
  key: AccessKey,
): Promise<string> {
  // No checksum of its own: x-amz-content-sha256 is signed only if the client signed it.
  const signed = await signerFor(key, false).sign(signerRequest(req, headers, auth.signedHeaders, asUtf8), {
    signingDate: new Date(signedAt),
    signingRegion: auth.region,
    signingService: auth.service,
    // Exactly the headers the client signed, even those the signer would leave out of its own.
    signableHeaders: new Set(auth.signedHeaders),
  });
  const authorization = String(signed.headers['authorization']);
  return authorization.slice(authorization.lastIndexOf('Signature=') + 'Signature='.length);
}

/** Why the key, the service scope or the signed headers are refused, or undefined when they pass. */
function credentialProblem(
  headers: ReadonlyMap<string, string[]>,
  auth: ParsedAuthorization,
  options: VerifyOptions,
): SigV4Verdict | undefined {
  if (!sameSecret(auth.accessKeyId, options.key.accessKeyId)) {
    return refuse('UnrecognizedClientException', INVALID_TOKEN, 'unknown access key id');
  }
  if (auth.service !== options.service) {
    return refuse(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${options.service}'.`,
      `credential scoped to service ${auth.service}`,
    );
  }
  const signed = auth.signedHeaders;
  if (
    !signed.includes('host') ||
    signed.some((name, i) => name !== name.toLowerCase() || (i > 0 && signed[i - 1]! >= name))
  ) {
    return refuse(
      'IncompleteSignatureException',
      "SignedHeaders must be lower case, sorted, and include 'host'.",
      'malformed SignedHeaders',
    );
  }
  // The operation is chosen by X-Amz-Target: an unsigned one would let a signed call be replayed as another.
  if (headers.has('x-amz-target') && !signed.includes('x-amz-target')) {
    return refuse(
      'IncompleteSignatureException',
      "The 'X-Amz-Target' header must be signed.",
      'X-Amz-Target not signed',
    );
  }
  return undefined;
}

/** Why X-Amz-Date (read as `signedAt`) is refused: malformed, not the scope's date, or over 15 minutes off. */
function dateProblem(
  amzDate: string,
  signedAt: number,
  auth: ParsedAuthorization,
  nowMs: number,
): SigV4Verdict | undefined {
  if (Number.isNaN(signedAt)) {
    return refuse(
      'IncompleteSignatureException',
      `X-Amz-Date must be yyyymmddThhmmssZ, got '${amzDate}'`,
      'malformed X-Amz-Date',
    );
  }
  if (amzDate.slice(0, 8) !== auth.date) {
    return refuse(
      'InvalidSignatureException',
      'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.',
      'scope date differs from X-Amz-Date',
    );
  }
  if (signedAt < nowMs - MAX_CLOCK_SKEW_MS) {
    const now = amzDateOf(nowMs);
    return refuse(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${amzDateOf(nowMs - MAX_CLOCK_SKEW_MS)} (${now} - 15 min.)`,
      'signature expired',
    );
  }
  if (signedAt > nowMs + MAX_CLOCK_SKEW_MS) {
    const now = amzDateOf(nowMs);
    return refuse(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${amzDateOf(nowMs + MAX_CLOCK_SKEW_MS)} (${now} + 15 min.)`,
      'signature not yet current',
    );
  }
  return undefined;
}

/** What {@link signSigV4} signs for. */
export interface SignOptions {
  readonly key: AccessKey;
  readonly region: string;
  readonly service: string;
  readonly nowMs: number;
}

/**
 * The headers to add to `req` (which must carry `host`) to sign it with AWS's signer: X-Amz-Date,
 * X-Amz-Content-Sha256 and Authorization over every header it has that the signer signs.
 */
export async function signSigV4(req: SignableRequest, options: SignOptions): Promise<Record<string, string>> {
  const headers = headerMap(req.rawHeaders);
  const signed = await signerFor(options.key, true).sign(
    signerRequest(req, headers, [...headers.keys()], (value) => value),
    {
      signingDate: new Date(options.nowMs),
      signingRegion: options.region,
      signingService: options.service,
    },
  );
  const added: Record<string, string> = {};
  for (const name of ['x-amz-date', 'x-amz-content-sha256', 'authorization']) {
    added[name] = String(signed.headers[name]);
  }
  return added;
}
