/**
 * @module api/codedeploy/protocol
 * CodeDeploy's AWS JSON 1.1 protocol on the control port: `POST /` with `X-Amz-Target:
 * CodeDeploy_20141006.<Operation>`, so the AWS SDKs and awscli work unchanged with an endpoint override.
 * Without `control.auth` any signature is accepted (the control port is then for whoever can reach it);
 * with it, the `authenticate` hook given to {@link codeDeployProtocol} verifies SigV4. JSON 1.0 and an
 * empty body are accepted too. As a fastify plugin it has its own scope, so that its body parsing and
 * error form apply to this route alone and the REST API keeps its own.
 */
import { randomUUID } from 'node:crypto';

import type {
  FastifyError,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify';

import { CodeDeployRefusal } from '../../codedeploy/exceptions.js';
import { describeError } from '../../core/describe-error.js';
import { nestsDeeperThan, TOO_DEEP_MESSAGE } from '../json-depth.js';
import * as applications from './applications.js';
import type { CodeDeployDeps, Operation, RequestBody } from './context.js';
import * as configs from './deployment-configs.js';
import * as groups from './deployment-groups.js';
import * as deployments from './deployments.js';
import { toAwsError } from './errors.js';
import * as targets from './targets.js';

export type { CodeDeployDeps, HookReporter } from './context.js';

const TARGET_PREFIX = 'CodeDeploy_20141006.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

/** Every operation served, by its CodeDeploy name. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateApplication: applications.createApplication,
  GetApplication: applications.getApplication,
  ListApplications: applications.listApplications,
  DeleteApplication: applications.deleteApplication,
  BatchGetApplications: applications.batchGetApplications,
  CreateDeploymentGroup: groups.createDeploymentGroup,
  GetDeploymentGroup: groups.getDeploymentGroup,
  ListDeploymentGroups: groups.listDeploymentGroups,
  UpdateDeploymentGroup: groups.updateDeploymentGroup,
  DeleteDeploymentGroup: groups.deleteDeploymentGroup,
  BatchGetDeploymentGroups: groups.batchGetDeploymentGroups,
  CreateDeploymentConfig: configs.createDeploymentConfig,
  GetDeploymentConfig: configs.getDeploymentConfig,
  ListDeploymentConfigs: configs.listDeploymentConfigs,
  DeleteDeploymentConfig: configs.deleteDeploymentConfig,
  CreateDeployment: deployments.createDeployment,
  GetDeployment: deployments.getDeployment,
  BatchGetDeployments: deployments.batchGetDeployments,
  ListDeployments: deployments.listDeployments,
  StopDeployment: deployments.stopDeployment,
  ContinueDeployment: deployments.continueDeployment,
  PutLifecycleEventHookExecutionStatus: deployments.putLifecycleEventHookExecutionStatus,
  ListDeploymentTargets: targets.listDeploymentTargets,
  BatchGetDeploymentTargets: targets.batchGetDeploymentTargets,
  GetDeploymentTarget: targets.getDeploymentTarget,
};

function operationOf(req: FastifyRequest): Operation {
  const header = req.headers['x-amz-target'];
  const target = Array.isArray(header) ? header[0] : header;
  const name = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  const op = name === undefined || !Object.hasOwn(OPERATIONS, name) ? undefined : OPERATIONS[name];
  if (!op) {
    throw new CodeDeployRefusal(
      'UnknownOperationException',
      target ? `Unknown operation ${target}` : `X-Amz-Target is required (${TARGET_PREFIX}<Operation>)`,
    );
  }
  return op;
}

/**
 * The parsed request body; the scope's only parser hands over bytes, and no body at all reads as `{}`.
 * Nesting is bounded before parsing, as on the REST routes.
 */
function bodyOf(raw: unknown): RequestBody {
  if (!Buffer.isBuffer(raw)) return {};
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  if (nestsDeeperThan(text)) throw new CodeDeployRefusal('SerializationException', TOO_DEEP_MESSAGE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CodeDeployRefusal('SerializationException', `The request body is not valid JSON: ${describeError(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CodeDeployRefusal('SerializationException', 'The request body must be a JSON object');
  }
  return parsed as RequestBody;
}

function send(reply: FastifyReply, status: number, body: object): FastifyReply {
  return (
    reply
      .status(status)
      .header('x-amzn-requestid', randomUUID())
      .type(CONTENT_TYPE)
      // A buffer, because fastify adds "; charset=utf-8" to string payloads and CodeDeploy's type has none.
      .send(Buffer.from(JSON.stringify(body)))
  );
}

/** What {@link codeDeployProtocol} works on, and how it authenticates a call. */
export interface CodeDeployProtocolOptions {
  readonly deps: CodeDeployDeps;
  /**
   * When given, runs before each operation with the raw body in `req.body` (a Buffer), and refuses by
   * throwing.
   */
  readonly authenticate?: preHandlerAsyncHookHandler | undefined;
}

/** Serves the protocol at `POST /`; other routes are untouched. */
export const codeDeployProtocol: FastifyPluginAsync<CodeDeployProtocolOptions> = async (
  scope,
  { deps, authenticate },
) => {
  // Bodies arrive as bytes whatever their type: a signature covers them exactly, and a malformed one
  // is answered in CodeDeploy's form.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, body);
  });
  scope.setErrorHandler((err: FastifyError | Error, req, reply) => {
    const answer = toAwsError(err);
    if (answer.internal) req.log.error({ err }, 'CodeDeploy request failed');
    void send(reply.header('x-amzn-errortype', answer.body.__type), answer.statusCode, answer.body);
  });
  scope.post(
    '/',
    { config: { awsSigned: true }, ...(authenticate && { preHandler: authenticate }) },
    async (req, reply) => {
      const op = operationOf(req);
      const result = op(deps, bodyOf(req.body));
      return send(reply, 200, result);
    },
  );
};
