/**
 * @module api/lambda/errors
 * How errors leave the Lambda API: Lambda's REST-JSON error form, so that the AWS SDK raises its typed
 * exception and awscli prints it. The SDK reads the name from `x-amzn-ErrorType` and the message from the
 * body's `message` (or `Message`, which Lambda uses for some exceptions), with `Type` beside it, as the
 * service sends. A LambdaRefusal keeps its name; SwitchyardErrors map by code; anything else is a
 * ServiceException whose details stay in the log.
 */
import { randomUUID } from 'node:crypto';

import type { FastifyReply, FastifyRequest } from 'fastify';

import { type ErrorCode, formatIssue, isSwitchyardError } from '../../core/errors.js';

/** Lambda's limit for a synchronous invocation's request (and response): 6 MB. */
export const MAX_SYNC_PAYLOAD_BYTES = 6_291_456;

/** The Lambda exceptions this API answers with, by the names the AWS SDK gives them. */
export type LambdaException =
  | 'InvalidParameterValueException'
  | 'InvalidRequestContentException'
  | 'ResourceNotFoundException'
  | 'ResourceConflictException'
  | 'PreconditionFailedException'
  | 'RequestTooLargeException'
  | 'TooManyRequestsException'
  | 'ServiceException'
  | 'UnknownOperationException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException'
  | 'IncompleteSignatureException';

/** Each exception's HTTP status, as Lambda's model gives it. */
const STATUS: Readonly<Record<LambdaException, number>> = {
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  ResourceNotFoundException: 404,
  ResourceConflictException: 409,
  PreconditionFailedException: 412,
  RequestTooLargeException: 413,
  TooManyRequestsException: 429,
  ServiceException: 500,
  UnknownOperationException: 404,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  IncompleteSignatureException: 403,
};

/** The exceptions whose model spells the member `Message` (the rest spell it `message`). */
const CAPITAL_MESSAGE = new Set<LambdaException>(['ResourceNotFoundException', 'ServiceException']);

/** Lambda's `TooManyRequestsException.Reason` values this API gives. */
export type ThrottleReason = 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded';

/** A refusal in Lambda's terms: the exception's name, its message, and for throttling the reason. */
export class LambdaRefusal extends Error {
  constructor(
    readonly exception: LambdaException,
    message: string,
    readonly reason?: ThrottleReason,
  ) {
    super(message);
    this.name = 'LambdaRefusal';
  }

  /** The HTTP status it is answered with. */
  get statusCode(): number {
    return STATUS[this.exception];
  }
}

/** Lambda's exception for each code the invoker and the traffic state raise on this API's paths. */
const BY_CODE: Partial<Record<ErrorCode, LambdaException>> = {
  FUNCTION_THROTTLED: 'TooManyRequestsException',
  BODY_TOO_LARGE: 'RequestTooLargeException',
  SERVICE_NOT_FOUND: 'ResourceNotFoundException',
  VERSION_NOT_FOUND: 'ResourceNotFoundException',
  // A version not started yet, or closing: Lambda answers a function that is not Active so.
  VERSION_NOT_READY: 'ResourceConflictException',
  DEPLOYMENT_ACTIVE: 'ResourceConflictException',
  ARGUMENTS_INVALID: 'InvalidParameterValueException',
  WEIGHTS_INVALID: 'InvalidParameterValueException',
};

/** What an error answer carries; `internal` when it should be logged. */
export interface LambdaErrorReply {
  readonly statusCode: number;
  readonly exception: LambdaException;
  readonly body: Readonly<Record<string, string>>;
  readonly internal: boolean;
}

function reply(exception: LambdaException, message: string, reason?: ThrottleReason): LambdaErrorReply {
  const body: Record<string, string> = { Type: exception === 'ServiceException' ? 'Service' : 'User' };
  body[CAPITAL_MESSAGE.has(exception) ? 'Message' : 'message'] = message;
  if (reason !== undefined) body['Reason'] = reason;
  return { statusCode: STATUS[exception], exception, body, internal: false };
}

/** Maps any thrown value to Lambda's error answer. */
export function toLambdaError(err: unknown): LambdaErrorReply {
  if (err instanceof LambdaRefusal) return reply(err.exception, err.message, err.reason);
  if (isSwitchyardError(err)) {
    const message = err.issues.length ? `${err.message}: ${err.issues.map(formatIssue).join('; ')}` : err.message;
    const exception = BY_CODE[err.code] ?? (err.statusCode < 500 ? 'InvalidParameterValueException' : undefined);
    if (exception === 'TooManyRequestsException') {
      return reply(exception, message, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    }
    if (exception !== undefined) return reply(exception, message);
  }
  const status = (err as { statusCode?: unknown; code?: unknown } | undefined)?.statusCode;
  if (status === 413) {
    return reply(
      'RequestTooLargeException',
      `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
    );
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's own 4xx (a body cut short, a bad content length) are the caller's to fix.
    const message = err instanceof Error ? err.message : 'invalid request';
    return reply('InvalidRequestContentException', message);
  }
  return { ...reply('ServiceException', 'internal error; see the switchyard log'), internal: true };
}

/** Sends `err` in Lambda's form; headers set on `res` before (X-Amz-Executed-Version) stay. */
export function sendLambdaError(err: unknown, req: FastifyRequest, res: FastifyReply): void {
  const answer = toLambdaError(err);
  if (answer.internal) req.log.error({ err }, 'Lambda API request failed');
  void res
    .status(answer.statusCode)
    .header('x-amzn-errortype', answer.exception)
    .header('x-amzn-requestid', randomUUID())
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify(answer.body)));
}
