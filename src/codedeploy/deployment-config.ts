/**
 * @module codedeploy/deployment-config
 * Deployment configurations: CodeDeploy's predefined ones, custom ones created through the API
 * (`CreateDeploymentConfig`, validated as AWS does) or written in the config file (switchyard's finer
 * `ShiftSpec`), and their wire form (`DeploymentConfigInfo`). How traffic moves over time is the
 * schedule's business (./schedule.ts); this module only names, checks and converts.
 */
import { z } from 'zod';
import { Duration } from '../core/duration.js';
import { CodeDeployRefusal } from './exceptions.js';
import { FULL_WEIGHT } from '../core/route-table.js';
import { checkShiftSteps, TrafficShift } from './traffic-shift.js';
import { deepFreeze } from '../core/freeze.js';

const MINUTE_MS = 60_000;

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

// ---------------------------------------------------------------------------------------------------
// Predefined configurations

/** The day CodeDeploy launched: an old, fixed createTime, as AWS shows for its own configs. */
const PREDEFINED_CREATE_TIME = Date.UTC(2014, 10, 12);

const canary = (percent: number, minutes: number): TrafficShift => ({
  kind: 'canary',
  weight: percent * 100,
  intervalMs: minutes * MINUTE_MS,
});
const linear = (percent: number, minutes: number): TrafficShift => ({
  kind: 'linear',
  step: percent * 100,
  intervalMs: minutes * MINUTE_MS,
});
const allAtOnce: TrafficShift = { kind: 'allAtOnce' };

type PredefinedRow = readonly [
  name: string,
  platform: ComputePlatform,
  routing: TrafficShift | MinimumHealthyHosts,
];

/** Order fixes the ids (…0001, …0002, …), so it must only ever grow at the end. */
const PREDEFINED_ROWS: readonly PredefinedRow[] = [
  ['CodeDeployDefault.OneAtATime', 'Server', { type: 'MOST_CONCURRENCY', value: 1 }],
  ['CodeDeployDefault.HalfAtATime', 'Server', { type: 'FLEET_PERCENT', value: 50 }],
  ['CodeDeployDefault.AllAtOnce', 'Server', { type: 'FLEET_PERCENT', value: 0 }],
  ['CodeDeployDefault.LambdaAllAtOnce', 'Lambda', allAtOnce],
  ['CodeDeployDefault.LambdaCanary10Percent5Minutes', 'Lambda', canary(10, 5)],
  ['CodeDeployDefault.LambdaCanary10Percent10Minutes', 'Lambda', canary(10, 10)],
  ['CodeDeployDefault.LambdaCanary10Percent15Minutes', 'Lambda', canary(10, 15)],
  ['CodeDeployDefault.LambdaCanary10Percent30Minutes', 'Lambda', canary(10, 30)],
  // AWS spells this one "Minute" and the ECS one "Minutes"; both are kept exactly.
  ['CodeDeployDefault.LambdaLinear10PercentEvery1Minute', 'Lambda', linear(10, 1)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery2Minutes', 'Lambda', linear(10, 2)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery3Minutes', 'Lambda', linear(10, 3)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', 'Lambda', linear(10, 10)],
  ['CodeDeployDefault.ECSAllAtOnce', 'ECS', allAtOnce],
  ['CodeDeployDefault.ECSCanary10Percent5Minutes', 'ECS', canary(10, 5)],
  ['CodeDeployDefault.ECSCanary10Percent15Minutes', 'ECS', canary(10, 15)],
  ['CodeDeployDefault.ECSLinear10PercentEvery1Minutes', 'ECS', linear(10, 1)],
  ['CodeDeployDefault.ECSLinear10PercentEvery3Minutes', 'ECS', linear(10, 3)],
];


/** The prefix AWS reserves for its own configurations. */
export const PREDEFINED_PREFIX = 'CodeDeployDefault.';

/** Every `CodeDeployDefault.*` configuration, frozen, in the order of their ids. */
export const PREDEFINED_CONFIGS: readonly DeploymentConfig[] = PREDEFINED_ROWS.map(
  ([name, computePlatform, routing], i) =>
    deepFreeze(
      DeploymentConfig.parse({
        name,
        computePlatform,
        ...('kind' in routing ? { trafficRouting: routing } : { minimumHealthyHosts: routing }),
        createTime: PREDEFINED_CREATE_TIME,
        id: `00000000-0000-0000-0000-${String(i + 1).padStart(12, '0')}`,
        predefined: true,
      }),
    ),
);

const PREDEFINED_BY_NAME = new Map(PREDEFINED_CONFIGS.map((c) => [c.name, c]));

/** The predefined configuration of that exact name, if there is one. */
export function predefinedConfig(name: string): DeploymentConfig | undefined {
  return PREDEFINED_BY_NAME.get(name);
}

/**
 * The configuration a deployment uses when neither it nor its group names one. Server's is documented;
 * Lambda's and ECS's follow what the console and CDK do (all at once).
 */
export function defaultConfigName(platform: ComputePlatform): string {
  switch (platform) {
    case 'Server':
      return 'CodeDeployDefault.OneAtATime';
    case 'Lambda':
      return 'CodeDeployDefault.LambdaAllAtOnce';
    case 'ECS':
      return 'CodeDeployDefault.ECSAllAtOnce';
  }
}

// ---------------------------------------------------------------------------------------------------
// The CodeDeploy wire form

const WirePercent = z.int({ error: 'must be a whole number from 1 to 99' }).min(1).max(99);
const WireMinutes = z.int({ error: 'must be a whole number of minutes, 1 or more' }).min(1);

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
    return canary(canaryPercentage, canaryInterval);
  }
  if (routing.type === 'TimeBasedLinear' && routing.timeBasedLinear) {
    const { linearPercentage, linearInterval } = routing.timeBasedLinear;
    return linear(linearPercentage, linearInterval);
  }
  return allAtOnce;
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

// ---------------------------------------------------------------------------------------------------
// CreateDeploymentConfig

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

// ---------------------------------------------------------------------------------------------------
// ShiftSpec: switchyard's own form

const PERCENT_HINT = 'must be a percentage with at most two decimals';

const hasTwoDecimals = (p: number) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-6;

/** A percentage to 0.01, in basis points. */
const percentBetween = (min: number, max: number, exclusive: boolean) =>
  z
    .number({ error: PERCENT_HINT })
    .refine((p) => (exclusive ? p > min && p < max : p >= min && p <= max), {
      message: exclusive ? `must be more than ${min} and less than ${max}` : `must be ${min} to ${max}`,
    })
    .refine(hasTwoDecimals, { message: PERCENT_HINT })
    .transform((p) => Math.round(p * 100));

const PartialPercent = percentBetween(0, 100, true);
const StepPercent = percentBetween(0, 100, false);
const Interval = Duration.pipe(z.number().positive({ error: 'must be longer than 0' }));

const StepSpec = z.strictObject({ weight: StepPercent, pause: Duration.optional() });

/**
 * A pause left out waits for a manual continue, except on the 100% step, which ends the shift and so
 * has nothing to wait for.
 */
const StepsSpec = z
  .array(StepSpec)
  .min(1, 'needs at least one step')
  .transform((steps) =>
    steps.map((s) => ({ weight: s.weight, pauseMs: s.pause ?? (s.weight === FULL_WEIGHT ? 0 : null) })),
  )
  .superRefine((steps, ctx) => checkShiftSteps(steps, ctx, 'pause'));

const SHIFT_TYPES = 'must be AllAtOnce, TimeBasedCanary or TimeBasedLinear, or be left out for a steps list';

/**
 * A traffic shift as written in the config file or sent to the REST API: CodeDeploy's three types with
 * percentages to 0.01 and intervals as durations (`30s`, `15m`, or milliseconds), or an explicit list of
 * steps (`{ steps: [{ weight: 10, pause: 5m }, { weight: 50 }] }`; `type: Steps` may be given too).
 */
export const ShiftSpec = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('AllAtOnce') }),
      z.strictObject({ type: z.literal('TimeBasedCanary'), percent: PartialPercent, interval: Interval }),
      z.strictObject({ type: z.literal('TimeBasedLinear'), percent: PartialPercent, interval: Interval }),
      z.strictObject({ type: z.literal('Steps').optional(), steps: StepsSpec }),
    ],
    { error: (issue) => (issue.code === 'invalid_union' ? SHIFT_TYPES : undefined) },
  )
  .transform((spec): TrafficShift => {
    switch (spec.type) {
      case 'AllAtOnce':
        return { kind: 'allAtOnce' };
      case 'TimeBasedCanary':
        return { kind: 'canary', weight: spec.percent, intervalMs: spec.interval };
      case 'TimeBasedLinear':
        return { kind: 'linear', step: spec.percent, intervalMs: spec.interval };
      default:
        return { kind: 'steps', steps: spec.steps };
    }
  });
export type ShiftSpec = z.input<typeof ShiftSpec>;

/** A custom configuration in switchyard's own form, as the config file and the REST API take it. */
export const CustomConfigSpec = z.strictObject({
  computePlatform: z.enum(['Lambda', 'ECS'], { error: 'must be Lambda or ECS' }),
  trafficRouting: ShiftSpec,
});
export type CustomConfigSpec = z.output<typeof CustomConfigSpec>;
