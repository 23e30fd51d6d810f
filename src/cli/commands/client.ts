/**
 * @module cli/commands/client
 * What the remote commands share: where the control API is, a small CodeDeploy JSON 1.1 client and REST
 * helper over undici, and the errors they raise. Server errors keep the server's own name (`__type`, or
 * the REST error code) so the user sees exactly what awscli or the SDK would report. With `control.auth`
 * on the server, REST calls carry the bearer token and CodeDeploy calls are signed with SigV4.
 */
import { Agent, type Dispatcher, request } from 'undici';

import { ErrorBody } from '../../api/rest/wire.js';
import { systemClock } from '../../core/clock.js';
import { describeError } from '../../core/describe-error.js';
import { SwitchyardError } from '../../core/errors.js';
import { type AccessKey, signSigV4 } from '../../core/sigv4.js';

/** The control API of a switchyard whose config leaves `control` at its default. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:9900';

/** What a command needs from the CLI around it. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  /** A bad-arguments error that carries the usage text (exit 2). */
  usageError(message: string): Error;
}

/** An error answered by the server: `type` is CodeDeploy's `__type` or the REST API's error code. */
export class RemoteError extends Error {
  readonly type: string;
  readonly statusCode: number;

  constructor(type: string, message: string, statusCode: number) {
    super(message);
    this.name = 'RemoteError';
    this.type = type;
    this.statusCode = statusCode;
  }
}

/** Whether `err` is an error the server answered (of `type`, when given). */
export function isRemoteError(err: unknown, type?: string): err is RemoteError {
  return err instanceof RemoteError && (type === undefined || err.type === type);
}

/** The `--endpoint` and `--token` options every remote command takes. */
export const ENDPOINT_OPTION = { endpoint: { type: 'string' }, token: { type: 'string' } } as const;

/** A running switchyard's control API and the credentials to call it with. */
export interface Endpoint {
  /** Base URL without a trailing slash. */
  readonly url: string;
  /** Sent as `Authorization: Bearer` on REST calls. */
  readonly token: string | undefined;
  /** Signs CodeDeploy calls (SigV4) when given. */
  readonly key: AccessKey | undefined;
  /** The region in the signature's scope; the server takes any. */
  readonly region: string;
}

/**
 * The control API's base URL (`--endpoint`, else SWITCHYARD_ENDPOINT, else the default control port) and
 * credentials: `--token` else SWITCHYARD_TOKEN, and the key pair in AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, as awscli reads it.
 */
export function endpointOf(
  flags: { readonly endpoint?: string | undefined; readonly token?: string | undefined },
  io: CommandIo,
  env: NodeJS.ProcessEnv = process.env,
): Endpoint {
  const raw = flags.endpoint ?? env['SWITCHYARD_ENDPOINT'] ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw io.usageError(`--endpoint must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw io.usageError(`--endpoint must be an http(s) URL, got "${raw}"`);
  }
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  return {
    url: raw.replace(/\/+$/, ''),
    token: (flags.token ?? env['SWITCHYARD_TOKEN']) || undefined,
    key: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
  };
}

/** The bearer header for REST calls, when there is a token. */
function bearer(endpoint: Endpoint): Record<string, string> {
  return endpoint.token === undefined ? {} : { authorization: `Bearer ${endpoint.token}` };
}

/**
 * Connections are not kept alive: a CLI run makes a handful of calls, and an idle pooled socket would
 * hold the process open after the command has finished.
 */
const dispatcher = new Agent({ pipelining: 0, headersTimeout: 30_000, bodyTimeout: 30_000 });

async function send(
  endpoint: Endpoint,
  path: string,
  init: { method: 'GET' | 'POST' | 'PUT'; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  try {
    const res = await request(`${endpoint.url}${path}`, { ...init, dispatcher });
    return { status: res.statusCode, text: await res.body.text() };
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const why = describeError(cause);
    throw new SwitchyardError(
      'UPSTREAM_UNREACHABLE',
      `cannot reach switchyard at ${endpoint.url} (${why || code || 'connection failed'}); is it running? (--endpoint or SWITCHYARD_ENDPOINT)`,
      { cause },
    );
  }
}

function parseJson(text: string, what: string, status: number): unknown {
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    throw new RemoteError('UnexpectedResponse', `${what} answered HTTP ${status} with a body that is not JSON`, status);
  }
}

/** What AWS answers a call with no, or a wrong, signature. */
const SIGNATURE_REFUSALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
]);

/** One CodeDeploy operation; resolves with the response members or throws a RemoteError named by `__type`. */
export async function codedeploy<T = Record<string, unknown>>(
  endpoint: Endpoint,
  operation: string,
  body: object = {},
): Promise<T> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': `CodeDeploy_20141006.${operation}`,
  };
  if (endpoint.key) {
    // The signature covers Host, so it is sent exactly as signed.
    headers['host'] = new URL(endpoint.url).host;
    Object.assign(
      headers,
      await signSigV4(
        { method: 'POST', url: '/', rawHeaders: Object.entries(headers).flat(), body: Buffer.from(text) },
        { key: endpoint.key, region: endpoint.region, service: 'codedeploy', nowMs: systemClock.now() },
      ),
    );
  }
  const res = await send(endpoint, '/', { method: 'POST', headers, body: text });
  const parsed = parseJson(res.text, operation, res.status) as { __type?: string; message?: string; Message?: string };
  if (res.status >= 300) {
    // AWS may qualify the name ("ns#Name"); the short name is what users and the SDK know.
    const type = (parsed.__type ?? `HTTP${res.status}`).split('#').pop()!;
    const message = parsed.message ?? parsed.Message ?? `${operation} failed`;
    // The server's words are AWS's; say what this command needs, which a bearer token alone is not.
    const hint = !SIGNATURE_REFUSALS.has(type)
      ? ''
      : endpoint.key
        ? ' (this command signed with AWS_ACCESS_KEY_ID; are it and AWS_SECRET_ACCESS_KEY the pair of control.auth?)'
        : ' (this switchyard wants CodeDeploy calls signed: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the key pair of its control.auth)';
    throw new RemoteError(type, `${message}${hint}`, res.status);
  }
  return parsed as T;
}

/**
 * One call to the REST API, resolving with its answer, typed `T` from api/rest/wire.ts (not checked:
 * the server's routes are typed with the same types). Errors come as {@link ErrorBody}.
 */
export async function rest<T>(
  endpoint: Endpoint,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  body?: object,
): Promise<T> {
  const res = await send(endpoint, path, {
    method,
    headers: { ...bearer(endpoint), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const parsed = parseJson(res.text, `${method} ${path}`, res.status);
  if (res.status >= 300) {
    // Only what is there of the error form: the answer may come from a proxy in front of switchyard.
    const error = ErrorBody.partial().safeParse(parsed).data ?? {};
    const details = error.issues?.length ? `\n  ${error.issues.join('\n  ')}` : '';
    throw new RemoteError(
      error.error ?? `HTTP${res.status}`,
      `${error.message ?? `${method} ${path} failed`}${details}`,
      res.status,
    );
  }
  return parsed as T;
}

/** One server-sent event's fields. */
export interface ServerSentEvent {
  readonly id?: string;
  readonly event?: string;
  readonly data: string;
}

/** Streams REST server-sent events from `path`, calling `onEvent` until it returns true or the stream ends. */
export async function streamEvents(
  endpoint: Endpoint,
  path: string,
  headers: Record<string, string>,
  onEvent: (event: ServerSentEvent) => boolean,
): Promise<void> {
  let res;
  try {
    // The server sends a comment every 15 s however quiet the stream: three missed mean it is gone (a host
    // that died, a network cut) even if no connection reset ever arrives.
    res = await request(`${endpoint.url}${path}`, {
      headers: { ...bearer(endpoint), ...headers },
      bodyTimeout: 45_000,
    });
  } catch (cause) {
    throw new SwitchyardError(
      'UPSTREAM_UNREACHABLE',
      `cannot reach switchyard at ${endpoint.url} (${describeError(cause)})`,
      { cause },
    );
  }
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    throw new RemoteError('UnexpectedResponse', `${path} answered HTTP ${res.statusCode}: ${text}`, res.statusCode);
  }
  try {
    await readEvents(res.body, onEvent);
  } catch (cause) {
    throw new SwitchyardError(
      'UPSTREAM_UNREACHABLE',
      `lost the event stream from ${endpoint.url} (${describeError(cause)})`,
      { cause },
    );
  }
}

/** Reads server-sent events from `body` until it ends or `onEvent` says it has seen enough. */
async function readEvents(
  body: Dispatcher.ResponseData['body'],
  onEvent: (event: ServerSentEvent) => boolean,
): Promise<void> {
  let buffer = '';
  for await (const chunk of body) {
    buffer += (chunk as Buffer).toString();
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const fields: Record<string, string> = {};
      for (const line of buffer.slice(0, end).split('\n')) {
        const colon = line.indexOf(': ');
        if (line.startsWith(':') || colon < 0) continue;
        fields[line.slice(0, colon)] = line.slice(colon + 2);
      }
      buffer = buffer.slice(end + 2);
      if (fields['data'] === undefined) continue;
      if (onEvent({ id: fields['id'], event: fields['event'], data: fields['data'] })) {
        body.destroy();
        return;
      }
    }
  }
}
