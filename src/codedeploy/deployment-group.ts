/**
 * @module codedeploy/deployment-group
 * CodeDeploy's applications and deployment groups as data: the settings CreateDeploymentGroup takes,
 * the records kept of each, and what a deployment was asked for on the wire. Members switchyard does
 * not act on (tags, EC2 tag filters) are kept loosely so that they round-trip as the caller wrote them.
 */
import { z } from 'zod';

import { ComputePlatform } from './deployment-config-model.js';
import { TriggerConfig } from './triggers.js';

const Name = z.string();
const Loose = z.looseObject({});

/** CodeDeploy's AutoRollbackEvent values. */
export const AutoRollbackEvent = z.enum([
  'DEPLOYMENT_FAILURE',
  'DEPLOYMENT_STOP_ON_ALARM',
  'DEPLOYMENT_STOP_ON_REQUEST',
]);
export type AutoRollbackEvent = z.infer<typeof AutoRollbackEvent>;

export const AutoRollbackConfiguration = z.object({
  enabled: z.boolean().optional(),
  events: z.array(AutoRollbackEvent).optional(),
});
export type AutoRollbackConfiguration = z.infer<typeof AutoRollbackConfiguration>;

export const DeploymentStyle = z.object({
  deploymentType: z.enum(['IN_PLACE', 'BLUE_GREEN']).optional(),
  deploymentOption: z.enum(['WITH_TRAFFIC_CONTROL', 'WITHOUT_TRAFFIC_CONTROL']).optional(),
});
export type DeploymentStyle = z.infer<typeof DeploymentStyle>;

const TrafficRoute = z.object({ listenerArns: z.array(z.string()).optional() });
const TargetGroupInfo = z.object({ name: z.string().optional() });

export const LoadBalancerInfo = z.object({
  elbInfoList: z.array(z.object({ name: z.string().optional() })).optional(),
  targetGroupInfoList: z.array(TargetGroupInfo).optional(),
  targetGroupPairInfoList: z
    .array(
      z.object({
        targetGroups: z.array(TargetGroupInfo).optional(),
        prodTrafficRoute: TrafficRoute.optional(),
        testTrafficRoute: TrafficRoute.optional(),
      }),
    )
    .max(1, 'may hold at most one target group pair')
    .optional(),
});
export type LoadBalancerInfo = z.infer<typeof LoadBalancerInfo>;

export const BlueGreenDeploymentConfiguration = z.object({
  terminateBlueInstancesOnDeploymentSuccess: z
    .object({
      action: z.enum(['TERMINATE', 'KEEP_ALIVE']).optional(),
      terminationWaitTimeInMinutes: z.int().min(0).max(2880).optional(),
    })
    .optional(),
  deploymentReadyOption: z
    .object({
      actionOnTimeout: z.enum(['CONTINUE_DEPLOYMENT', 'STOP_DEPLOYMENT']).optional(),
      waitTimeInMinutes: z.int().min(0).optional(),
    })
    .optional(),
  greenFleetProvisioningOption: z
    .object({ action: z.enum(['DISCOVER_EXISTING', 'COPY_AUTO_SCALING_GROUP']).optional() })
    .optional(),
});
export type BlueGreenDeploymentConfiguration = z.infer<typeof BlueGreenDeploymentConfiguration>;

export const AlarmConfiguration = z.object({
  enabled: z.boolean().optional(),
  ignorePollAlarmFailure: z.boolean().optional(),
  alarms: z.array(z.object({ name: z.string() })).optional(),
});
export type AlarmConfiguration = z.infer<typeof AlarmConfiguration>;

/** CodeDeploy's limit of alarms per deployment group (the documented default). */
export const ALARMS_PER_GROUP = 10;

export const ECSService = z.object({ serviceName: z.string().optional(), clusterName: z.string().optional() });

/** The settings of a deployment group, as CreateDeploymentGroup and UpdateDeploymentGroup send them. */
export const DeploymentGroupSettings = z.object({
  deploymentConfigName: Name.optional(),
  serviceRoleArn: z.string().optional(),
  deploymentStyle: DeploymentStyle.optional(),
  ecsServices: z.array(ECSService).optional(),
  loadBalancerInfo: LoadBalancerInfo.optional(),
  blueGreenDeploymentConfiguration: BlueGreenDeploymentConfiguration.optional(),
  autoRollbackConfiguration: AutoRollbackConfiguration.optional(),
  alarmConfiguration: AlarmConfiguration.optional(),
  triggerConfigurations: z.array(TriggerConfig).optional(),
  ec2TagFilters: z.array(Loose).optional(),
  onPremisesInstanceTagFilters: z.array(Loose).optional(),
  autoScalingGroups: z.array(z.string()).optional(),
  outdatedInstancesStrategy: z.enum(['UPDATE', 'IGNORE']).optional(),
  ec2TagSet: Loose.optional(),
  onPremisesTagSet: Loose.optional(),
  terminationHookEnabled: z.boolean().optional(),
});
export type DeploymentGroupSettings = z.infer<typeof DeploymentGroupSettings>;

/** An application as the registry keeps it. */
export const ApplicationRecord = z.object({
  id: z.string(),
  name: Name,
  computePlatform: ComputePlatform,
  /** Epoch ms. */
  createTime: z.number(),
});
export type ApplicationRecord = z.infer<typeof ApplicationRecord>;

/** A deployment group as the registry keeps it. */
export const DeploymentGroupRecord = z.object({
  id: z.string(),
  applicationName: Name,
  name: Name,
  /** With `deploymentConfigName` always filled in (the platform's default when none was given). */
  settings: DeploymentGroupSettings.extend({ deploymentConfigName: Name }),
});
export type DeploymentGroupRecord = z.infer<typeof DeploymentGroupRecord>;

/** What a deployment was asked for on the wire, kept for GetDeployment to echo. */
export const DeploymentRequest = z.object({
  /** The RevisionLocation exactly as sent. */
  revision: z.unknown(),
  /** The revision of the group's last successful deployment when this one was created (none: absent). */
  previousRevision: z.unknown().optional(),
  /** The group's settings when the deployment was created (a later UpdateDeploymentGroup does not change them). */
  group: DeploymentGroupRecord,
  computePlatform: ComputePlatform,
  /** The deployment's own alarm configuration, when it overrode the group's. */
  overrideAlarmConfiguration: AlarmConfiguration.optional(),
});
export type DeploymentRequest = z.infer<typeof DeploymentRequest>;
