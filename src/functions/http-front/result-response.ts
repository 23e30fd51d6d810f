/**
 * @module functions/http-front/result-response
 * A function's result as API Gateway turns it into the HTTP answer. Payload 2.0: a JSON object with
 * `statusCode` is a structured response (`headers`, `multiValueHeaders`, `cookies`, `body`,
 * `isBase64Encoded`); any other JSON (an object without `statusCode`, a string, a number) is a 200
 * `application/json` answer whose body is the result's JSON text. Payload 1.0: only the structured form
 * with its own keys is accepted; anything else is REST's "Malformed Lambda proxy response" (a 502).
 */
import type { EventFormat } from '../../config/functions.js';

/** The answer to send: flat header list (name, value, …) and the body. */
export interface FrontAnswer {
  readonly status: number;
  readonly headers: string[];
  readonly body: Buffer;
}

/** Why a result cannot be an answer (logged; the client gets a 502). */
export interface Unmappable {
  readonly problem: string;
}

/** The keys a payload 1.0 result may have: REST refuses any other. */
const V1_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);
/** Headers the front frames itself: a result's own would contradict the body it sends. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const JSON_TYPE = 'application/json';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function problem(text: string): Unmappable {
  return { problem: text };
}

/** The answer for a function's result payload, or why there is none. */
export function resultResponse(format: EventFormat, payload: Buffer): FrontAnswer | Unmappable {
  let result: unknown;
  try {
    result = JSON.parse(payload.toString('utf8'));
  } catch {
    return problem('the result is not JSON');
  }
  if (isObject(result) && 'statusCode' in result) return structured(format, result);
  if (format === 'rest-v1') return problem('the result has no statusCode');
  // The result's own JSON text, byte for byte: a string keeps its quotes, as a function URL sends it.
  return { status: 200, headers: ['content-type', JSON_TYPE], body: payload };
}

/** A header value as text: strings, numbers and booleans are; nothing else is. */
function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Checks a status code: an integer (or integer text) from 200 to 599. */
function statusOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 200 && n <= 599 ? n : undefined;
}

/** The structured form: the answer's status, headers and body, or what is wrong with them. */
function structured(format: EventFormat, result: Json): FrontAnswer | Unmappable {
  if (format === 'rest-v1') {
    for (const key of Object.keys(result)) if (!V1_KEYS.has(key)) return problem(`the result has a key "${key}"`);
  }
  const status = statusOf(result['statusCode']);
  if (status === undefined) return problem('statusCode is not an HTTP status from 200 to 599');
  const body = result['body'];
  if (body !== undefined && body !== null && typeof body !== 'string') return problem('body is not a string');
  const headers: string[] = [];
  const multi = addMultiValueHeaders(headers, result['multiValueHeaders']);
  if (typeof multi === 'string') return problem(multi);
  const single = addHeaders(headers, result['headers'], multi);
  if (single !== undefined) return problem(single);
  if (format !== 'rest-v1') {
    const cookies = addCookies(headers, result['cookies']);
    if (cookies !== undefined) return problem(cookies);
  }
  if (!hasHeader(headers, 'content-type')) headers.push('content-type', JSON_TYPE);
  const base64 = result['isBase64Encoded'];
  if (base64 !== undefined && base64 !== null && typeof base64 !== 'boolean') {
    return problem('isBase64Encoded is not a boolean');
  }
  const text = typeof body === 'string' ? body : '';
  return { status, headers, body: base64 === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8') };
}

/** Appends one header line after checking it; a framing header is dropped. Returns a problem, if any. */
function push(headers: string[], name: string, value: unknown): string | undefined {
  const text = headerText(value);
  if (text === undefined) return `the value of header "${name}" is not a string`;
  if (!TOKEN.test(name)) return `"${name}" is not a header name`;
  if (!FIELD_VALUE.test(text)) return `the value of header "${name}" has a character a header cannot carry`;
  if (!FRAMING.has(name.toLowerCase())) headers.push(name, text);
  return undefined;
}

/**
 * `multiValueHeaders`: every value of every name. Returns the lines added as `lower name\nvalue`, for
 * {@link addHeaders} to leave out, or a problem.
 */
function addMultiValueHeaders(headers: string[], field: unknown): Set<string> | string | undefined {
  if (field === undefined || field === null) return undefined;
  if (!isObject(field)) return 'multiValueHeaders is not an object';
  const seen = new Set<string>();
  for (const [name, values] of Object.entries(field)) {
    if (values === null) continue;
    if (!Array.isArray(values)) return `multiValueHeaders "${name}" is not a list`;
    for (const value of values) {
      const wrong = push(headers, name, value);
      if (wrong !== undefined) return wrong;
      seen.add(`${name.toLowerCase()}\n${headerText(value)!}`);
    }
  }
  return seen;
}

/** `headers`: one value per name; a pair `multiValueHeaders` already gave is not repeated (as REST merges). */
function addHeaders(headers: string[], field: unknown, multi: Set<string> | undefined): string | undefined {
  if (field === undefined || field === null) return undefined;
  if (!isObject(field)) return 'headers is not an object';
  for (const name of Object.keys(field)) {
    const value = field[name];
    if (value === null) continue;
    if (multi?.has(`${name.toLowerCase()}\n${headerText(value) ?? ''}`)) continue;
    const wrong = push(headers, name, value);
    if (wrong !== undefined) return wrong;
  }
  return undefined;
}

/** Payload 2.0's `cookies`: each one a Set-Cookie line of its own. */
function addCookies(headers: string[], field: unknown): string | undefined {
  if (field === undefined || field === null) return undefined;
  if (!Array.isArray(field)) return 'cookies is not a list';
  for (const cookie of field) {
    if (typeof cookie !== 'string') return 'a cookie is not a string';
    const wrong = push(headers, 'set-cookie', cookie);
    if (wrong !== undefined) return wrong;
  }
  return undefined;
}

function hasHeader(headers: readonly string[], lower: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === lower) return true;
  return false;
}

/** The answers the front gives itself, as API Gateway words them. */
export type FrontFailure = 'function-error' | 'unmappable' | 'timeout' | 'throttled' | 'too-large' | 'not-ready';

/** Status and JSON body of each failure, per payload family (REST's wording differs from HTTP APIs'). */
const FAILURES: Record<'v1' | 'v2', Record<FrontFailure, readonly [number, Buffer]>> = {
  v2: {
    'function-error': [502, Buffer.from('{"message":"Internal Server Error"}')],
    unmappable: [502, Buffer.from('{"message":"Internal Server Error"}')],
    timeout: [504, Buffer.from('{"message":"Endpoint request timed out"}')],
    throttled: [429, Buffer.from('{"message":"Too Many Requests"}')],
    'too-large': [413, Buffer.from('{"message":"Request Entity Too Large"}')],
    'not-ready': [503, Buffer.from('{"message":"Service Unavailable"}')],
  },
  v1: {
    'function-error': [502, Buffer.from('{"message": "Internal server error"}')],
    unmappable: [502, Buffer.from('{"message": "Internal server error"}')],
    timeout: [504, Buffer.from('{"message": "Endpoint request timed out"}')],
    throttled: [429, Buffer.from('{"message":"Too Many Requests"}')],
    'too-large': [413, Buffer.from('{"message":"Request Entity Too Large"}')],
    'not-ready': [503, Buffer.from('{"message":"Service Unavailable"}')],
  },
};

/** The status and body the front answers `failure` with. */
export function failureAnswer(format: EventFormat, failure: FrontFailure): { status: number; body: Buffer } {
  const [status, body] = FAILURES[format === 'rest-v1' ? 'v1' : 'v2'][failure];
  return { status, body };
}
