/**
 * @module api/errors
 * The REST API's one error mapping, to the one error form ({@link ErrorBody}): SwitchyardErrors keep
 * their code and status, bad bodies become 400 with every issue, and anything else is a logged 500 with
 * no stack trace sent to the client. (CodeDeploy's protocol answers in AWS's form: codedeploy/errors.)
 */
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
