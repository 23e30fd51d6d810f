/**
 * @module api/errors
 * The control API's one error mapping: SwitchyardErrors keep their code and status, bad bodies become
 * 400 with every issue, and anything else is a logged 500 with no stack trace sent to the client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { formatPath } from '../config/yaml-source.js';
import { isSwitchyardError, SwitchyardError } from '../core/errors.js';

/** Parses `value` with `schema`, or throws ARGUMENTS_INVALID naming each problem and its path. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({
    location: undefined,
    path: formatPath(i.path as PropertyKey[]),
    message: i.message,
  }));
  throw new SwitchyardError('ARGUMENTS_INVALID', 'request body is invalid', { issues });
}

/** fastify error handler for every route of the control API. */
export function handleApiError(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (isSwitchyardError(err)) {
    void reply.status(err.statusCode).send(err.toJSON());
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    void reply.status(status).send({ error: 'ARGUMENTS_INVALID', message: err.message });
    return;
  }
  req.log.error({ err }, 'control API request failed');
  void reply.status(500).send({ error: 'INTERNAL', message: 'internal error; see the switchyard log' });
}
