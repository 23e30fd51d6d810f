/**
 * @module codedeploy/deployment-config-info
 * A deployment configuration's CodeDeploy wire form: the TrafficRoutingConfig that CreateDeploymentConfig
 * takes and GetDeploymentConfig answers, the DeploymentConfigInfo around it, and the conversions between
 * those whole percents and minutes and switchyard's finer shifts.
 */
import { z } from 'zod';

import { ComputePlatform, type DeploymentConfig, MinimumHealthyHosts, ZonalConfig } from './deployment-config-model.js';
import type { TrafficShift } from './traffic-shift.js';

const MINUTE_MS = 60_000;

/** CodeDeploy's canary in its own units: `percent` whole percent first, the rest after `minutes`. */
export function canaryShift(percent: number, minutes: number): TrafficShift {
  return { kind: 'canary', weight: percent * 100, intervalMs: minutes * MINUTE_MS };
}

/** CodeDeploy's linear shift in its own units: `percent` whole percent more every `minutes`. */
export function linearShift(percent: number, minutes: number): TrafficShift {
  return { kind: 'linear', step: percent * 100, intervalMs: minutes * MINUTE_MS };
}

const WirePercent = z.int({ error: 'must be a whole number from 1 to 99' }).min(1).max(99);
/** The most minutes that are still a whole number of milliseconds below 2^53, as the model keeps them. */
const MAX_WIRE_MINUTES = Math.floor(Number.MAX_SAFE_INTEGER / 60_000);
const WireMinutes = z
  .int({ error: 'must be a whole number of minutes, 1 or more' })
  .min(1)
  .max(MAX_WIRE_MINUTES, `must be at most ${MAX_WIRE_MINUTES} minutes`);

/** CodeDeploy's TrafficRoutingConfig, checked as CreateDeploymentConfig checks it. */
export const TrafficRoutingConfig = z
  .object({
    type: z.enum(['TimeBasedCanary', 'TimeBasedLinear', 'AllAtOnce']),
    timeBasedCanary: z.object({ canaryPercentage: WirePercent, canaryInterval: WireMinutes }).optional(),
    timeBasedLinear: z.object({ linearPercentage: WirePercent, linearInterval: WireMinutes }).optional(),
  })
  .superRefine((routing, ctx) => {
    const canary = routing.type === 'TimeBasedCanary';
    const linear = routing.type === 'TimeBasedLinear';
    if (canary !== (routing.timeBasedCanary !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeBasedCanary'],
        message: canary ? `is required for type ${routing.type}` : `is not allowed with type ${routing.type}`,
      });
    }
    if (linear !== (routing.timeBasedLinear !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeBasedLinear'],
        message: linear ? `is required for type ${routing.type}` : `is not allowed with type ${routing.type}`,
      });
    }
  });
export type TrafficRoutingConfig = z.infer<typeof TrafficRoutingConfig>;

/** CodeDeploy's DeploymentConfigInfo, as GetDeploymentConfig answers it (createTime in epoch seconds). */
export const DeploymentConfigInfo = z.object({
  deploymentConfigId: z.string(),
  deploymentConfigName: z.string(),
  minimumHealthyHosts: MinimumHealthyHosts.optional(),
  createTime: z.number(),
  computePlatform: ComputePlatform,
  trafficRoutingConfig: TrafficRoutingConfig.optional(),
  zonalConfig: ZonalConfig.optional(),
});
export type DeploymentConfigInfo = z.infer<typeof DeploymentConfigInfo>;

/**
 * A shift in CodeDeploy's integer form. Switchyard's finer shifts have no exact one, so an AWS client
 * sees the nearest: the same type, the percentage rounded to the nearest whole percent (kept within
 * 1–99, the range AWS allows) and the interval rounded up to whole minutes (at least 1). An explicit
 * step list matches none of AWS's three types and naming one would mislead, so it has no wire form
 * (undefined): GetDeploymentConfig then omits trafficRoutingConfig, and the REST API shows the steps.
 */
export function toTrafficRoutingConfig(shift: TrafficShift): TrafficRoutingConfig | undefined {
  const wirePercent = (bp: number) => Math.min(99, Math.max(1, Math.round(bp / 100)));
  const wireMinutes = (ms: number) => Math.max(1, Math.ceil(ms / MINUTE_MS));
  switch (shift.kind) {
    case 'allAtOnce':
      return { type: 'AllAtOnce' };
    case 'canary':
      return {
        type: 'TimeBasedCanary',
        timeBasedCanary: {
          canaryPercentage: wirePercent(shift.weight),
          canaryInterval: wireMinutes(shift.intervalMs),
        },
      };
    case 'linear':
      return {
        type: 'TimeBasedLinear',
        timeBasedLinear: {
          linearPercentage: wirePercent(shift.step),
          linearInterval: wireMinutes(shift.intervalMs),
        },
      };
    case 'steps':
      return undefined;
  }
}

/** The shift a validated CodeDeploy TrafficRoutingConfig describes. */
export function fromTrafficRoutingConfig(routing: TrafficRoutingConfig): TrafficShift {
  if (routing.type === 'TimeBasedCanary' && routing.timeBasedCanary) {
    const { canaryPercentage, canaryInterval } = routing.timeBasedCanary;
    return canaryShift(canaryPercentage, canaryInterval);
  }
  if (routing.type === 'TimeBasedLinear' && routing.timeBasedLinear) {
    const { linearPercentage, linearInterval } = routing.timeBasedLinear;
    return linearShift(linearPercentage, linearInterval);
  }
  return { kind: 'allAtOnce' };
}

/** A configuration as GetDeploymentConfig answers it; Lambda and ECS configs have no minimumHealthyHosts. */
export function toDeploymentConfigInfo(config: DeploymentConfig): DeploymentConfigInfo {
  const routing = config.trafficRouting && toTrafficRoutingConfig(config.trafficRouting);
  return {
    deploymentConfigId: config.id,
    deploymentConfigName: config.name,
    ...(config.minimumHealthyHosts && { minimumHealthyHosts: { ...config.minimumHealthyHosts } }),
    createTime: config.createTime / 1000,
    computePlatform: config.computePlatform,
    ...(routing && { trafficRoutingConfig: routing }),
    ...(config.zonalConfig && { zonalConfig: structuredClone(config.zonalConfig) }),
  };
}
