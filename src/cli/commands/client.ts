/**
 * @module cli/commands/client
 * What the remote commands share: where the control API is, a small CodeDeploy JSON 1.1 client and REST
 * helper over undici, and the errors they raise. Server errors keep the server's own name (`__type`, or
 * the REST error code) so the user sees exactly what awscli or the SDK would report.
 */
import { Agent, request } from 'undici';
import { SwitchyardError } from '../../core/errors.js';

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

export function isRemoteError(err: unknown, type?: string): err is RemoteError {
  return err instanceof RemoteError && (type === undefined || err.type === type);
}

/** The `--endpoint` option every remote command takes. */
export const ENDPOINT_OPTION = { endpoint: { type: 'string' } } as const;

/** The control API's base URL: `--endpoint`, else SWITCHYARD_ENDPOINT, else the default control port. */
export function endpointOf(flag: string | undefined, io: CommandIo): string {
  const raw = flag ?? process.env['SWITCHYARD_ENDPOINT'] ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw io.usageError(`--endpoint must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw io.usageError(`--endpoint must be an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

/**
 * Connections are not kept alive: a CLI run makes a handful of calls, and an idle pooled socket would
 * hold the process open after the command has finished.
 */
const dispatcher = new Agent({ pipelining: 0, headersTimeout: 30_000, bodyTimeout: 30_000 });

async function send(
  endpoint: string,
  path: string,
  init: { method: 'GET' | 'POST' | 'PUT'; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  try {
    const res = await request(`${endpoint}${path}`, { ...init, dispatcher });
    return { status: res.statusCode, text: await res.body.text() };
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const why = code && !(cause as Error).message.includes(code) ? `${code}: ${(cause as Error).message}` : (cause as Error).message;
    throw new SwitchyardError(
      'UPSTREAM_UNREACHABLE',
      `cannot reach switchyard at ${endpoint} (${why || code || 'connection failed'}); is it running? (--endpoint or SWITCHYARD_ENDPOINT)`,
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

/** One CodeDeploy operation; resolves with the response members or throws a RemoteError named by `__type`. */
export async function codedeploy<T = Record<string, unknown>>(
  endpoint: string,
  operation: string,
  body: object = {},
): Promise<T> {
  const res = await send(endpoint, '/', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `CodeDeploy_20141006.${operation}`,
    },
    body: JSON.stringify(body),
  });
  const parsed = parseJson(res.text, operation, res.status) as { __type?: string; message?: string; Message?: string };
  if (res.status >= 300) {
    // AWS may qualify the name ("ns#Name"); the short name is what users and the SDK know.
    const type = (parsed.__type ?? `HTTP${res.status}`).split('#').pop()!;
    throw new RemoteError(type, parsed.message ?? parsed.Message ?? `${operation} failed`, res.status);
  }
  return parsed as T;
}

/** One call to the REST API; errors come as `{error, message, issues?}`. */
export async function rest<T>(
  endpoint: string,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  body?: object,
): Promise<T> {
  const res = await send(endpoint, path, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const parsed = parseJson(res.text, `${method} ${path}`, res.status) as { error?: string; message?: string; issues?: string[] };
  if (res.status >= 300) {
    const details = parsed.issues?.length ? `\n  ${parsed.issues.join('\n  ')}` : '';
    throw new RemoteError(parsed.error ?? `HTTP${res.status}`, `${parsed.message ?? `${method} ${path} failed`}${details}`, res.status);
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
  endpoint: string,
  path: string,
  headers: Record<string, string>,
  onEvent: (event: ServerSentEvent) => boolean,
): Promise<void> {
  let res;
  try {
    // No body timeout: a quiet stream is normal (the server sends a comment every 15 s regardless).
    res = await request(`${endpoint}${path}`, { headers, bodyTimeout: 0 });
  } catch (cause) {
    throw new SwitchyardError('UPSTREAM_UNREACHABLE', `cannot reach switchyard at ${endpoint} (${(cause as Error).message})`, { cause });
  }
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    throw new RemoteError('UnexpectedResponse', `${path} answered HTTP ${res.statusCode}: ${text}`, res.statusCode);
  }
  let buffer = '';
  for await (const chunk of res.body) {
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
        res.body.destroy();
        return;
      }
    }
  }
}
