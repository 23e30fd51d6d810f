/**
 * @module codedeploy/create-deployment-config
 * Custom deployment configurations as they are created: from a CreateDeploymentConfig request, validated
 * as CodeDeploy validates it and refused with its exceptions, or from switchyard's own form (config file,
 * REST API). Either way the name follows AWS's rules, so that CreateDeployment can refer to it.
 */
import { z } from 'zod';

import { fromTrafficRoutingConfig, TrafficRoutingConfig } from './deployment-config-info.js';
import { ComputePlatform, DeploymentConfig } from './deployment-config-model.js';
import { CodeDeployRefusal } from './exceptions.js';
import { PREDEFINED_PREFIX } from './predefined-configs.js';
import type { TrafficShift } from './traffic-shift.js';

/** The CodeDeploy exception each kind of invalid CreateDeploymentConfig request is answered with. */
export const DEPLOYMENT_CONFIG_EXCEPTIONS = {
  nameRequired: 'DeploymentConfigNameRequiredException',
  nameInvalid: 'InvalidDeploymentConfigNameException',
  computePlatformInvalid: 'InvalidComputePlatformException',
  trafficRoutingInvalid: 'InvalidTrafficRoutingConfigurationException',
  minimumHealthyHostsInvalid: 'InvalidMinimumHealthyHostValueException',
  zonalConfigInvalid: 'InvalidZonalDeploymentConfigurationException',
} as const;
export type DeploymentConfigException =
  (typeof DEPLOYMENT_CONFIG_EXCEPTIONS)[keyof typeof DEPLOYMENT_CONFIG_EXCEPTIONS];

/** A deployment configuration CodeDeploy would refuse; `awsType` is the `__type` the API answers with. */
export class DeploymentConfigError extends CodeDeployRefusal {
  declare readonly awsType: DeploymentConfigException;
}

const CONFIG_NAME = /^[A-Za-z0-9+=,.@_-]{1,100}$/;

/** Why `name` cannot name a custom configuration, or undefined when it can. */
function nameProblem(name: string): string | undefined {
  if (!CONFIG_NAME.test(name)) {
    return `must be 1-100 characters of A-Z, a-z, 0-9 and + = , . @ _ -, got ${JSON.stringify(name)}`;
  }
  if (name.startsWith(PREDEFINED_PREFIX)) {
    return `must not start with ${PREDEFINED_PREFIX}, which is reserved for predefined configurations`;
  }
  return undefined;
}

const MinimumHealthyHostsRequest = z
  .object({ type: z.enum(['HOST_COUNT', 'FLEET_PERCENT']), value: z.number().int().nonnegative() })
  .refine((m) => m.type !== 'FLEET_PERCENT' || m.value <= 99, {
    path: ['value'],
    message: 'must be 0 to 99 for FLEET_PERCENT',
  });

/**
 * The request's members with their types and ranges; unknown members are ignored, as AWS does. Each
 * top-level member maps to one exception, so the first failing member (in this order) decides it.
 */
const CreateDeploymentConfigRequest = z.object({
  deploymentConfigName: z.string().superRefine((name, ctx) => {
    const problem = nameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  computePlatform: ComputePlatform.default('Server'),
  trafficRoutingConfig: TrafficRoutingConfig.optional(),
  minimumHealthyHosts: MinimumHealthyHostsRequest.optional(),
  zonalConfig: z
    .object({
      firstZoneMonitorDurationInSeconds: z.number().int().nonnegative().optional(),
      monitorDurationInSeconds: z.number().int().nonnegative().optional(),
      minimumHealthyHostsPerZone: MinimumHealthyHostsRequest.optional(),
    })
    .optional(),
});

const MEMBER_EXCEPTION: Record<string, DeploymentConfigException> = {
  deploymentConfigName: DEPLOYMENT_CONFIG_EXCEPTIONS.nameInvalid,
  computePlatform: DEPLOYMENT_CONFIG_EXCEPTIONS.computePlatformInvalid,
  trafficRoutingConfig: DEPLOYMENT_CONFIG_EXCEPTIONS.trafficRoutingInvalid,
  minimumHealthyHosts: DEPLOYMENT_CONFIG_EXCEPTIONS.minimumHealthyHostsInvalid,
  zonalConfig: DEPLOYMENT_CONFIG_EXCEPTIONS.zonalConfigInvalid,
};
const MEMBER_ORDER = Object.keys(MEMBER_EXCEPTION);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstMemberError(issues: readonly z.core.$ZodIssue[]): DeploymentConfigError {
  const rank = (issue: z.core.$ZodIssue) => {
    const i = MEMBER_ORDER.indexOf(String(issue.path[0]));
    return i === -1 ? MEMBER_ORDER.length : i;
  };
  const issue = [...issues].sort((a, b) => rank(a) - rank(b))[0]!;
  const member = String(issue.path[0]);
  const awsType = MEMBER_EXCEPTION[member] ?? DEPLOYMENT_CONFIG_EXCEPTIONS.nameInvalid;
  return new DeploymentConfigError(awsType, `${issue.path.join('.')}: ${issue.message}`);
}

/** Identity of a configuration being created: the caller owns the clock and the id source. */
export type NewConfigMeta = { readonly id: string; readonly createTime: number };

/**
 * Validates a CreateDeploymentConfig request body as CodeDeploy does and returns the configuration it
 * creates, or throws a DeploymentConfigError naming the CodeDeploy exception. Where AWS documents no
 * rule, these are switchyard's choices: Lambda and ECS need a trafficRoutingConfig and Server a
 * minimumHealthyHosts (each refused with that member's exception); a member of the wrong platform is
 * refused with its own member's exception; a member of the wrong JSON type counts as invalid.
 */
export function parseCreateDeploymentConfig(body: unknown, meta: NewConfigMeta): DeploymentConfig {
  const fields = isRecord(body) ? body : {};
  const name = fields['deploymentConfigName'];
  if (name === undefined || name === null || name === '') {
    throw new DeploymentConfigError(DEPLOYMENT_CONFIG_EXCEPTIONS.nameRequired, 'deployment config name is required');
  }
  const parsed = CreateDeploymentConfigRequest.safeParse(fields);
  if (!parsed.success) throw firstMemberError(parsed.error.issues);
  const request = parsed.data;
  const platform = request.computePlatform;
  if (platform === 'Server') {
    if (request.trafficRoutingConfig) {
      throw new DeploymentConfigError(
        DEPLOYMENT_CONFIG_EXCEPTIONS.trafficRoutingInvalid,
        'trafficRoutingConfig applies to the Lambda and ECS compute platforms only',
      );
    }
    if (!request.minimumHealthyHosts) {
      throw new DeploymentConfigError(
        DEPLOYMENT_CONFIG_EXCEPTIONS.minimumHealthyHostsInvalid,
        'minimumHealthyHosts is required for the Server compute platform',
      );
    }
  } else {
    if (!request.trafficRoutingConfig) {
      throw new DeploymentConfigError(
        DEPLOYMENT_CONFIG_EXCEPTIONS.trafficRoutingInvalid,
        `trafficRoutingConfig is required for the ${platform} compute platform`,
      );
    }
    if (request.minimumHealthyHosts) {
      throw new DeploymentConfigError(
        DEPLOYMENT_CONFIG_EXCEPTIONS.minimumHealthyHostsInvalid,
        'minimumHealthyHosts applies to the Server compute platform only',
      );
    }
    if (request.zonalConfig) {
      throw new DeploymentConfigError(
        DEPLOYMENT_CONFIG_EXCEPTIONS.zonalConfigInvalid,
        'zonalConfig applies to the Server compute platform only',
      );
    }
  }
  return DeploymentConfig.parse({
    name: request.deploymentConfigName,
    computePlatform: platform,
    // Absent members stay absent rather than present as undefined, so records compare and serialise cleanly.
    ...(request.trafficRoutingConfig && { trafficRouting: fromTrafficRoutingConfig(request.trafficRoutingConfig) }),
    ...(request.minimumHealthyHosts && { minimumHealthyHosts: request.minimumHealthyHosts }),
    ...(request.zonalConfig && { zonalConfig: request.zonalConfig }),
    createTime: meta.createTime,
    id: meta.id,
    predefined: false,
  });
}

/**
 * A custom Lambda or ECS configuration from switchyard's own form (config file, REST API), which may use
 * finer weights and intervals than AWS allows; the name follows AWS's rules, so that CreateDeployment
 * can refer to it.
 */
export function customDeploymentConfig(
  name: string,
  computePlatform: 'Lambda' | 'ECS',
  trafficRouting: TrafficShift,
  meta: NewConfigMeta,
): DeploymentConfig {
  const problem = nameProblem(name);
  if (problem) {
    throw new DeploymentConfigError(DEPLOYMENT_CONFIG_EXCEPTIONS.nameInvalid, `deployment config name ${problem}`);
  }
  return DeploymentConfig.parse({
    name,
    computePlatform,
    trafficRouting,
    createTime: meta.createTime,
    id: meta.id,
    predefined: false,
  });
}
