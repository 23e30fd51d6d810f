/**
 * @module api/errors
 * The REST API's one error mapping, to the one error form ({@link ErrorBody}): SwitchyardErrors keep
 * their code and status, bad bodies become 400 with every issue, and anything else is a logged 500 with
 * no stack trace sent to the client. (CodeDeploy's protocol answers in AWS's form: codedeploy/errors.)
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

import { type FileIssue, isSwitchyardError, SwitchyardError } from '../core/errors.js';
import { formatPath } from '../core/yaml-source.js';
import type { ErrorBody } from './rest/wire.js';

/** The largest request body the control API reads (an AppSpec or a config is far smaller). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Issues as a person can act on them. zod reports a failed union as one "Invalid input" holding every
 * branch's issues; the branch that came closest (fewest issues) is the form the caller meant.
 */
function flatIssues(issues: readonly z.core.$ZodIssue[], base: readonly PropertyKey[] = []): FileIssue[] {
  const out: FileIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
      out.push(...flatIssues(closest, path));
      continue;
    }
    out.push({ location: undefined, path: formatPath(path), message: issue.message });
  }
  return out;
}

/** Parses `value` with `schema`, or throws ARGUMENTS_INVALID naming each problem and its path. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new SwitchyardError('ARGUMENTS_INVALID', `${what} is invalid`, {
    issues: flatIssues(result.error.issues),
  });
}

/**
 * The longest path parameter (a service, alarm or deployment name in the path) a route matches: fastify's
 * default, stated here so that its refusal can name it.
 */
export const MAX_PARAM_LENGTH = 100;

/**
 * fastify's router refuses a path parameter that is too long or not valid percent-encoding before any
 * route or error handler runs; left to fastify, the answer has its own form and repeats the whole path.
 * This gives it the control API's one error form instead.
 */
export function handleFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const refusal =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new SwitchyardError('URI_TOO_LONG', `a name in the path is longer than ${MAX_PARAM_LENGTH} characters`)
      : new SwitchyardError('ARGUMENTS_INVALID', 'the request path is not valid percent-encoded UTF-8');
  handleApiError(err.statusCode !== undefined && err.statusCode < 500 ? refusal : err, req, reply);
}

/**
 * What node:http refuses before fastify sees a request (headers over 16 KiB, a malformed request line,
 * a request too slow to arrive), answered in the control API's error form rather than fastify's; the
 * connection is then closed, as node:http does.
 */
export function handleClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, refusal] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, new SwitchyardError('HEADERS_TOO_LARGE', 'the request line and headers are larger than 16 KiB')]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, new SwitchyardError('REQUEST_TIMEOUT', 'the request did not arrive in time')]
        : [400, new SwitchyardError('BAD_REQUEST', 'the request is not valid HTTP/1.1')];
  const body = JSON.stringify(refusal.toJSON());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** fastify error handler for every REST route of the control API. */
export function handleApiError(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  const send = (status: number, body: ErrorBody) => void reply.status(status).send(body);
  if (isSwitchyardError(err)) {
    send(err.statusCode, err.toJSON());
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status === 413) {
    const tooLarge = new SwitchyardError(
      'BODY_TOO_LARGE',
      `request body is too large: the control API takes at most ${BODY_LIMIT_BYTES / 1024 / 1024} MiB`,
    );
    send(413, tooLarge.toJSON());
    return;
  }
  if (status !== undefined && status >= 400 && status < 500) {
    send(status, { error: 'ARGUMENTS_INVALID', message: err.message });
    return;
  }
  req.log.error({ err }, 'control API request failed');
  send(500, { error: 'INTERNAL', message: 'internal error; see the switchyard log' });
}
