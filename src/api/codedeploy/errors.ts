/**
 * @module api/codedeploy/errors
 * How errors leave the CodeDeploy protocol: every error becomes CodeDeploy's `{"__type", "message"}`
 * body, so the AWS SDK and awscli raise their typed exceptions. Errors that already know their CodeDeploy
 * name (an `awsType` member) keep it; SwitchyardErrors map by code; anything else is an InternalFailure
 * whose details stay in the log.
 */
import { formatIssue, isSwitchyardError, type ErrorCode } from '../../core/errors.js';

/** An error answered with the CodeDeploy exception `awsType` (HTTP 400 unless said otherwise). */
export class CodeDeployError extends Error {
  readonly awsType: string;
  readonly statusCode: number;

  constructor(awsType: string, message: string, statusCode = 400) {
    super(message);
    this.name = 'CodeDeployError';
    this.awsType = awsType;
    this.statusCode = statusCode;
  }
}

/** What a CodeDeploy error response says. */
export interface AwsErrorReply {
  readonly statusCode: number;
  readonly body: { readonly __type: string; readonly message: string };
}

/**
 * The CodeDeploy exception for each code the engine and its helpers raise. Codes not listed are not
 * expected on this path and are answered as InvalidInputException (a 4xx) or InternalFailure (a 5xx).
 */
const BY_CODE: Partial<Record<ErrorCode, string>> = {
  APPSPEC_INVALID: 'InvalidRevisionException',
  VERSION_NOT_FOUND: 'InvalidRevisionException',
  ARGUMENTS_INVALID: 'InvalidInputException',
  DEPLOYMENT_NOT_FOUND: 'DeploymentDoesNotExistException',
  DEPLOYMENT_ACTIVE: 'DeploymentLimitExceededException',
  DEPLOYMENT_COMPLETED: 'DeploymentAlreadyCompletedException',
  DEPLOYMENT_NOT_WAITING: 'DeploymentIsNotInReadyStateException',
};

function hasAwsType(err: unknown): err is Error & { awsType: string } {
  return err instanceof Error && typeof (err as { awsType?: unknown }).awsType === 'string';
}

/** Maps any thrown value to a CodeDeploy error reply; `internal` is true when it should be logged. */
export function toAwsError(err: unknown): AwsErrorReply & { internal: boolean } {
  if (err instanceof CodeDeployError) {
    return { statusCode: err.statusCode, body: { __type: err.awsType, message: err.message }, internal: false };
  }
  if (hasAwsType(err)) {
    return { statusCode: 400, body: { __type: err.awsType, message: err.message }, internal: false };
  }
  if (isSwitchyardError(err)) {
    // The issues are where the useful detail is (file, line, column, path): they go in the one message.
    const message = err.issues.length
      ? `${err.message}: ${err.issues.map(formatIssue).join('; ')}`
      : err.message;
    const type = BY_CODE[err.code];
    if (type) return { statusCode: 400, body: { __type: type, message }, internal: false };
    if (err.statusCode < 500) return { statusCode: 400, body: { __type: 'InvalidInputException', message }, internal: false };
  }
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's own 4xx (body too large, bad content type) are the caller's to fix.
    const message = err instanceof Error ? err.message : 'invalid request';
    return { statusCode: 400, body: { __type: 'SerializationException', message }, internal: false };
  }
  return {
    statusCode: 500,
    body: { __type: 'InternalFailure', message: 'internal error; see the switchyard log' },
    internal: true,
  };
}
