/**
 * @module codedeploy/deployment-config-model
 * A deployment configuration as switchyard keeps it, whichever way it came: predefined, created through
 * CreateDeploymentConfig, or written in the config file. How traffic moves over time is the schedule's
 * business (shifting/schedule); this is only what a configuration is and the rules it keeps.
 */
import { z } from 'zod';

import { TrafficShift } from './traffic-shift.js';

/** CodeDeploy's compute platforms: switchyard deploys to Lambda and ECS, and keeps Server's configurations to answer for them. */
export const ComputePlatform = z.enum(['Server', 'Lambda', 'ECS']);
export type ComputePlatform = z.infer<typeof ComputePlatform>;

/**
 * `MOST_CONCURRENCY` is not in CodeDeploy's enum and cannot be created, but it is what GetDeploymentConfig
 * answers for `CodeDeployDefault.OneAtATime`, so the predefined config carries it to answer the same.
 */
export const MinimumHealthyHosts = z.strictObject({
  type: z.enum(['HOST_COUNT', 'FLEET_PERCENT', 'MOST_CONCURRENCY']),
  value: z.number().int().nonnegative(),
});
export type MinimumHealthyHosts = z.infer<typeof MinimumHealthyHosts>;

/** Per-zone health for Server deployments; stored and echoed, never acted on by a local proxy. */
export const ZonalConfig = z.strictObject({
  firstZoneMonitorDurationInSeconds: z.number().int().nonnegative().optional(),
  monitorDurationInSeconds: z.number().int().nonnegative().optional(),
  minimumHealthyHostsPerZone: z
    .strictObject({ type: z.enum(['HOST_COUNT', 'FLEET_PERCENT']), value: z.number().int().nonnegative() })
    .optional(),
});
export type ZonalConfig = z.infer<typeof ZonalConfig>;

/** A deployment configuration as switchyard keeps it. */
export const DeploymentConfig = z
  .strictObject({
    name: z.string().min(1).max(100),
    computePlatform: ComputePlatform,
    /** How traffic moves; Lambda and ECS only. */
    trafficRouting: TrafficShift.optional(),
    /** Server only. */
    minimumHealthyHosts: MinimumHealthyHosts.optional(),
    /** Server only. */
    zonalConfig: ZonalConfig.optional(),
    /** Epoch milliseconds. */
    createTime: z.number().int().nonnegative(),
    id: z.guid(),
    predefined: z.boolean(),
  })
  .superRefine((config, ctx) => {
    const server = config.computePlatform === 'Server';
    if (server && config.trafficRouting) {
      ctx.addIssue({ code: 'custom', path: ['trafficRouting'], message: 'applies to Lambda and ECS only' });
    }
    if (!server && !config.trafficRouting) {
      ctx.addIssue({ code: 'custom', path: ['trafficRouting'], message: 'is required for Lambda and ECS' });
    }
    if (server && !config.minimumHealthyHosts) {
      ctx.addIssue({ code: 'custom', path: ['minimumHealthyHosts'], message: 'is required for Server' });
    }
    if (!server && config.minimumHealthyHosts) {
      ctx.addIssue({ code: 'custom', path: ['minimumHealthyHosts'], message: 'applies to Server only' });
    }
    if (!server && config.zonalConfig) {
      ctx.addIssue({ code: 'custom', path: ['zonalConfig'], message: 'applies to Server only' });
    }
  });
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;
