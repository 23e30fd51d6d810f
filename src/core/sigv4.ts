/**
 * @module core/sigv4
 * AWS Signature Version 4 (header form, AWS4-HMAC-SHA256), computed exactly as the AWS SDKs and awscli
 * compute it, so that switchyard can verify their calls and its own CLI can sign. Pure: the time comes in
 * as a number and nothing here does I/O.
 *
 * Canonicalisation follows the SDK's signer (@smithy/signature-v4) for services other than S3: the path
 * as sent is normalised and percent-encoded once more, query keys and values are encoded by RFC 3986 and
 * sorted, header values have runs of spaces and tabs collapsed and their ends trimmed.
 */
import { createHash, createHmac } from 'node:crypto';

import { sameSecret } from './constant-time.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';

/** How far X-Amz-Date may be from the verifier's clock, either way (AWS's own limit). */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

/** The parts of an HTTP request a signature covers. Header names are lower case (as node gives them). */
export interface SignableRequest {
  readonly method: string;
  /** Path and query as they appear on the request line, e.g. `/` or `/a%20b?x=1`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
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

const INVALID_TOKEN = 'The security token included in the request is invalid.';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret ' +
  'Access Key and signing method. Consult the service documentation for details.';

/** SHA-256 of `data` as lower-case hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986 percent-encoding: everything but letters, digits and `-._~`. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Decodes percent-escapes, keeping a malformed one as it stands rather than failing the whole request. */
function uriDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The canonical URI of a path as sent: `.` and `..` segments resolved, empty ones dropped, encoded again. */
export function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${trailing}`;
  return uriEncode(normalised).replace(/%2F/g, '/');
}

/** The canonical query string: each pair decoded, re-encoded, and sorted by key, then value. */
export function canonicalQuery(query: string): string {
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = uriEncode(uriDecode(eq < 0 ? part : part.slice(0, eq)));
    const value = uriEncode(uriDecode(eq < 0 ? '' : part.slice(eq + 1)));
    if (key.toLowerCase() === 'x-amz-signature') continue;
    pairs.push([key, value]);
  }
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** A header's canonical value: several values joined by commas, space runs collapsed, ends trimmed. */
function canonicalHeaderValue(value: string | readonly string[] | undefined): string {
  const joined = typeof value === 'string' ? value : (value ?? []).join(',');
  return joined
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .trim();
}

/** The canonical request for `req` over `signedHeaders` (lower case, sorted) with the given payload hash. */
export function canonicalRequest(req: SignableRequest, signedHeaders: readonly string[], payloadHash: string): string {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const headerLines = signedHeaders.map((name) => `${name}:${canonicalHeaderValue(req.headers[name])}\n`).join('');
  return [
    req.method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    headerLines,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** The credential scope `date/region/service/aws4_request`. */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

/** The string to sign for a canonical request made at `amzDate` (`yyyymmddThhmmssZ`). */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

/** The signing key: HMAC-SHA256 chained over date, region, service and `aws4_request`. */
export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

/** The hex signature of `req` under `key`, for the scope and signed headers given. */
export function signatureOf(
  req: SignableRequest,
  scope: { readonly amzDate: string; readonly region: string; readonly service: string },
  signedHeaders: readonly string[],
  payloadHash: string,
  secretAccessKey: string,
): string {
  const date = scope.amzDate.slice(0, 8);
  const toSign = stringToSign(
    scope.amzDate,
    credentialScope(date, scope.region, scope.service),
    canonicalRequest(req, signedHeaders, payloadHash),
  );
  return createHmac('sha256', signingKey(secretAccessKey, date, scope.region, scope.service))
    .update(toSign)
    .digest('hex');
}

/** Parses an AWS4-HMAC-SHA256 Authorization header; a string is what is wrong with it. */
export function parseAuthorization(value: string): ParsedAuthorization | string {
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

/** Epoch milliseconds of a `yyyymmddThhmmssZ` date, or NaN. */
function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m
    ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
    : Number.NaN;
}

function headerText(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

function refuse(exception: SigV4Exception, message: string, reason: string): SigV4Verdict {
  return { ok: false, exception, message, reason };
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
 * date of X-Amz-Date, which is within 15 minutes of now, and the signature matches (compared in constant
 * time). The payload hash is always computed from the body; an `x-amz-content-sha256` that differs from
 * it is refused, so a signed hash cannot vouch for a different body.
 */
export function verifySigV4(req: SignableRequest, options: VerifyOptions): SigV4Verdict {
  const header = headerText(req.headers['authorization']);
  if (header === undefined || !header.startsWith(`${ALGORITHM} `)) {
    return refuse(
      'UnrecognizedClientException',
      INVALID_TOKEN,
      header === undefined ? 'no Authorization header' : 'not signed with SigV4',
    );
  }
  const auth = parseAuthorization(header);
  if (typeof auth === 'string') return refuse('IncompleteSignatureException', auth, 'malformed Authorization header');
  const refused = credentialProblem(req, auth, options);
  if (refused) return refused;
  const amzDate = headerText(req.headers['x-amz-date']);
  if (amzDate === undefined || !auth.signedHeaders.includes('x-amz-date')) {
    return refuse(
      'IncompleteSignatureException',
      "Authorization header requires existence of a signed 'X-Amz-Date' header.",
      'no signed X-Amz-Date',
    );
  }
  const late = dateProblem(amzDate, auth, options.nowMs);
  if (late) return late;
  const payloadHash = sha256Hex(req.body);
  const claimed = headerText(req.headers['x-amz-content-sha256']);
  if (claimed !== undefined && claimed !== payloadHash) {
    return refuse(
      'InvalidSignatureException',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      'x-amz-content-sha256 differs from the body',
    );
  }
  const expected = signatureOf(
    req,
    { amzDate, region: auth.region, service: auth.service },
    auth.signedHeaders,
    payloadHash,
    options.key.secretAccessKey,
  );
  if (!sameSecret(auth.signature, expected)) return refuse('InvalidSignatureException', MISMATCH, 'signature mismatch');
  return { ok: true, accessKeyId: auth.accessKeyId };
}

/** Why the key, the service scope or the signed headers are refused, or undefined when they pass. */
function credentialProblem(
  req: SignableRequest,
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
  if (req.headers['x-amz-target'] !== undefined && !signed.includes('x-amz-target')) {
    return refuse(
      'IncompleteSignatureException',
      "The 'X-Amz-Target' header must be signed.",
      'X-Amz-Target not signed',
    );
  }
  return undefined;
}

/** Why X-Amz-Date is refused (malformed, not the scope's date, or more than 15 minutes off), or undefined. */
function dateProblem(amzDate: string, auth: ParsedAuthorization, nowMs: number): SigV4Verdict | undefined {
  const signedAt = parseAmzDate(amzDate);
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
  const now = amzDateOf(nowMs);
  if (signedAt < nowMs - MAX_CLOCK_SKEW_MS) {
    return refuse(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${amzDateOf(nowMs - MAX_CLOCK_SKEW_MS)} (${now} - 15 min.)`,
      'signature expired',
    );
  }
  if (signedAt > nowMs + MAX_CLOCK_SKEW_MS) {
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
 * The headers to add to `req` (which must carry `host`) to sign it: X-Amz-Date, X-Amz-Content-Sha256 and
 * Authorization over every header it has.
 */
export function signSigV4(req: SignableRequest, options: SignOptions): Record<string, string> {
  const amzDate = amzDateOf(options.nowMs);
  const payloadHash = sha256Hex(req.body);
  const added = { 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
  const headers = { ...req.headers, ...added };
  const signed = Object.keys(headers)
    .map((name) => name.toLowerCase())
    .filter((name) => name !== 'authorization' && name !== 'content-length')
    .sort();
  const signature = signatureOf(
    { ...req, headers },
    { amzDate, region: options.region, service: options.service },
    signed,
    payloadHash,
    options.key.secretAccessKey,
  );
  const scope = credentialScope(amzDate.slice(0, 8), options.region, options.service);
  return {
    ...added,
    authorization: `${ALGORITHM} Credential=${options.key.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`,
  };
}
