/**
 * @module functions/http-front/request-event
 * An HTTP request as the event API Gateway hands a function: payload 2.0 (an HTTP API, and a function
 * URL with its own requestContext) or REST's payload 1.0 (with multi-value headers and query parameters).
 * The request's header lines are read once, straight into the event's maps.
 */
import type { EventFormat } from '../../config/functions.js';
import { isTextBody, queryParameters, sourceIp } from './request-parts.js';

/** What the front read of one request, with the ids and time it gave it. */
export interface FrontRequest {
  readonly method: string;
  /** The request target as sent (`/orders/42?expand=items`). */
  readonly target: string;
  /** `HTTP/1.1`. */
  readonly protocol: string;
  /** node:http's raw header list: name, value, name, value, … */
  readonly rawHeaders: readonly string[];
  /** The socket's peer, used when no X-Forwarded-For names the client. */
  readonly socketAddress: string | undefined;
  readonly body: Buffer;
  /** `requestContext.requestId`. */
  readonly requestId: string;
  /** REST's `requestContext.extendedRequestId`. */
  readonly extendedRequestId: string;
  readonly timeEpoch: number;
  /** {@link requestTime} of `timeEpoch`. */
  readonly time: string;
}

/** The API (or function URL) the front stands for. */
export interface FrontApi {
  readonly accountId: string;
  /** The API's id, or the function URL's. */
  readonly apiId: string;
  /** REST's `resourceId` of the `/{proxy+}` resource. */
  readonly resourceId: string;
}

/** Header lines that framed the hop from switchyard's proxy to the front, not the client's request. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection']);

/** The headers an event needs besides its maps. */
interface Read {
  host: string | undefined;
  contentType: string | undefined;
  userAgent: string | undefined;
  forwardedFor: string | undefined;
}

/** A map keyed by names the client chose: no prototype, so `__proto__` is just a name. */
function map<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Notes the headers the event reads beyond its maps (the last of each, except X-Forwarded-For's all). */
function note(read: Read, lower: string, value: string): void {
  if (lower === 'host') read.host = value;
  else if (lower === 'content-type') read.contentType = value;
  else if (lower === 'user-agent') read.userAgent = value;
  else if (lower === 'x-forwarded-for')
    read.forwardedFor = read.forwardedFor === undefined ? value : `${read.forwardedFor}, ${value}`;
}

/** Payload 2.0's headers (lower-cased, repeated ones joined with commas) and cookies (one per pair). */
function headersV2(raw: readonly string[], read: Read): { headers: Record<string, string>; cookies: string[] } {
  const headers = map<string>();
  const cookies: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (HOP_HEADERS.has(lower)) continue;
    note(read, lower, value);
    if (lower === 'cookie') {
      for (const pair of value.split(';')) {
        const trimmed = pair.trim();
        if (trimmed !== '') cookies.push(trimmed);
      }
      continue;
    }
    const had = headers[lower];
    headers[lower] = had === undefined ? value : `${had},${value}`;
  }
  return { headers, cookies };
}

/**
 * Payload 1.0's headers: as REST keeps them, in the client's spelling (the first spelling of a name
 * seen), the last value in `headers` and every value in `multiValueHeaders`.
 */
function headersV1(
  raw: readonly string[],
  read: Read,
): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const headers = map<string>();
  const multiValueHeaders = map<string[]>();
  let spelling: Map<string, string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    const value = raw[i + 1]!;
    if (HOP_HEADERS.has(lower)) continue;
    note(read, lower, value);
    spelling ??= new Map();
    let key = spelling.get(lower);
    if (key === undefined) {
      key = name;
      spelling.set(lower, name);
      multiValueHeaders[key] = [value];
    } else multiValueHeaders[key]!.push(value);
    headers[key] = value;
  }
  return { headers, multiValueHeaders };
}

/** `host[:port]` → the domain name, and its first label (an IP address is its own prefix). */
function domain(host: string | undefined): { domainName: string; domainPrefix: string } {
  if (host === undefined || host === '') return { domainName: '', domainPrefix: '' };
  const domainName = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  const dot = domainName.indexOf('.');
  const isAddress = domainName.startsWith('[') || /^[\d.]+$/.test(domainName);
  return { domainName, domainPrefix: dot < 0 || isAddress ? domainName : domainName.slice(0, dot) };
}

/** The body's event fields: text as is, anything else base64. */
function bodyOf(body: Buffer, contentType: string | undefined): { body: string; isBase64Encoded: boolean } {
  return isTextBody(contentType, body)
    ? { body: body.toString('utf8'), isBase64Encoded: false }
    : { body: body.toString('base64'), isBase64Encoded: true };
}

function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** The event for `request` in `format`, as a JSON-ready object. */
export function requestEvent(format: EventFormat, request: FrontRequest, api: FrontApi): object {
  return format === 'rest-v1' ? eventV1(request, api) : eventV2(format, request, api);
}

/** Payload 2.0: an HTTP API's `$default` route, or a function URL. */
function eventV2(format: EventFormat, request: FrontRequest, api: FrontApi): object {
  const read: Read = { host: undefined, contentType: undefined, userAgent: undefined, forwardedFor: undefined };
  const { headers, cookies } = headersV2(request.rawHeaders, read);
  const { path, query } = splitTarget(request.target);
  const params = queryParameters(query);
  let queryStringParameters: Record<string, string> | undefined;
  if (params) {
    queryStringParameters = map<string>();
    for (const [name, values] of params) queryStringParameters[name] = values.join(',');
  }
  const url = format === 'function-url';
  const { domainName, domainPrefix } = domain(read.host);
  const body = request.body.length === 0 ? undefined : bodyOf(request.body, read.contentType);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(queryStringParameters && { queryStringParameters }),
    ...(url && { pathParameters: null, stageVariables: null }),
    requestContext: {
      accountId: api.accountId,
      apiId: api.apiId,
      ...(url && { authentication: null, authorizer: null }),
      domainName,
      domainPrefix,
      http: {
        method: request.method,
        path,
        protocol: request.protocol,
        sourceIp: sourceIp(read.forwardedFor, request.socketAddress),
        userAgent: read.userAgent ?? '',
      },
      requestId: request.requestId,
      routeKey: '$default',
      stage: '$default',
      time: request.time,
      timeEpoch: request.timeEpoch,
    },
    ...(body ? { body: body.body, isBase64Encoded: body.isBase64Encoded } : { isBase64Encoded: false }),
  };
}

/** Payload 1.0 as a REST API's `ANY /{proxy+}` (and `ANY /` for the root) proxy integration sends it. */
function eventV1(request: FrontRequest, api: FrontApi): object {
  const read: Read = { host: undefined, contentType: undefined, userAgent: undefined, forwardedFor: undefined };
  const { headers, multiValueHeaders } = headersV1(request.rawHeaders, read);
  const { path, query } = splitTarget(request.target);
  const params = queryParameters(query);
  let single: Record<string, string> | null = null;
  let multi: Record<string, string[]> | null = null;
  if (params) {
    single = map<string>();
    multi = map<string[]>();
    for (const [name, values] of params) {
      single[name] = values[values.length - 1]!;
      multi[name] = values;
    }
  }
  const resource = path === '/' ? '/' : '/{proxy+}';
  const { domainName, domainPrefix } = domain(read.host);
  const body = request.body.length === 0 ? undefined : bodyOf(request.body, read.contentType);
  return {
    resource,
    path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: single,
    multiValueQueryStringParameters: multi,
    pathParameters: path === '/' ? null : { proxy: path.slice(1) },
    stageVariables: null,
    requestContext: {
      accountId: api.accountId,
      apiId: api.apiId,
      domainName,
      domainPrefix,
      extendedRequestId: request.extendedRequestId,
      httpMethod: request.method,
      identity: identity(sourceIp(read.forwardedFor, request.socketAddress), read.userAgent ?? ''),
      path,
      protocol: request.protocol,
      requestId: request.requestId,
      requestTime: request.time,
      requestTimeEpoch: request.timeEpoch,
      resourceId: api.resourceId,
      resourcePath: resource,
      stage: '$default',
    },
    body: body ? body.body : null,
    isBase64Encoded: body ? body.isBase64Encoded : false,
  };
}

/** REST's caller identity without IAM, Cognito or an API key: the address and agent alone. */
function identity(ip: string, userAgent: string): object {
  return {
    accessKey: null,
    accountId: null,
    caller: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: ip,
    user: null,
    userAgent,
    userArn: null,
  };
}
