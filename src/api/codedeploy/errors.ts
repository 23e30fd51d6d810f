/**
 * @module api/codedeploy/errors
 * How errors leave the CodeDeploy protocol: every error becomes CodeDeploy's `{"__type", "message"}`
 * body, so the AWS SDK and awscli raise their typed exceptions. A CodeDeployRefusal keeps its CodeDeploy
 * name (`awsType`); SwitchyardErrors map by code; anything else is an InternalFailure
 * whose details stay in the log.
 */
import { type AwsErrorType, type CodeDeployException, CodeDeployRefusal } from '../../codedeploy/exceptions.js';
import { type ErrorCode, formatIssue, isSwitchyardError } from '../../core/errors.js';

/** What a CodeDeploy error response says. */
export interface AwsErrorReply {
  readonly statusCode: number;
  readonly body: { readonly __type: AwsErrorType; readonly message: string };
}

/**
 * The CodeDeploy exception for each code the engine and its helpers raise. Codes not listed are not
 * expected on this path and are answered as InvalidInputException (a 4xx) or InternalFailure (a 5xx).
 */
const BY_CODE: Partial<Record<ErrorCode, CodeDeployException>> = {
  APPSPEC_INVALID: 'InvalidRevisionException',
  VERSION_NOT_FOUND: 'InvalidRevisionException',
  ARGUMENTS_INVALID: 'InvalidInputException',
  DEPLOYMENT_NOT_FOUND: 'DeploymentDoesNotExistException',
  DEPLOYMENT_ACTIVE: 'DeploymentLimitExceededException',
  DEPLOYMENT_COMPLETED: 'DeploymentAlreadyCompletedException',
  DEPLOYMENT_NOT_WAITING: 'DeploymentIsNotInReadyStateException',
};

/** Maps any thrown value to a CodeDeploy error reply; `internal` is true when it should be logged. */
export function toAwsError(err: unknown): AwsErrorReply & { internal: boolean } {
  if (err instanceof CodeDeployRefusal) {
    return { statusCode: 400, body: { __type: err.awsType, message: err.message }, internal: false };
  }
  if (isSwitchyardError(err)) {
    // The issues are where the useful detail is (file, line, column, path): they go in the one message.
    const message = err.issues.length ? `${err.message}: ${err.issues.map(formatIssue).join('; ')}` : err.message;
    const type = BY_CODE[err.code];
    if (type) return { statusCode: 400, body: { __type: type, message }, internal: false };
    if (err.statusCode < 500)
      return { statusCode: 400, body: { __type: 'InvalidInputException', message }, internal: false };
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
