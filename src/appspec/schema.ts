/**
 * @module appspec/schema
 * The AppSpec of an ECS or Lambda deployment, as zod schemas in two layers: `AppSpecSchema` is what the
 * parser returns (the single source of its types), and the document schemas say what a file may contain
 * and turn its content into an `AppSpec`. Keys are matched regardless of case; every message here is
 * written for the person who wrote the file.
 */
import { z } from 'zod';

import { canonicalKeys, field, isMap } from './keys.js';

/** The events an ECS AppSpec may hook, in lifecycle order. */
export const ECS_HOOK_EVENTS = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

/** The events a Lambda AppSpec may hook, in lifecycle order. */
export const LAMBDA_HOOK_EVENTS = ['BeforeAllowTraffic', 'AfterAllowTraffic'] as const;

/** The resource `Type` of each platform; the value is case-sensitive, as in CloudFormation. */
export const RESOURCE_TYPES = { ECS: 'AWS::ECS::Service', Lambda: 'AWS::Lambda::Function' } as const;

export type Platform = keyof typeof RESOURCE_TYPES;

// Events CodeDeploy runs itself, and EC2 events: known, so that hooking one gets a message naming why.
const RESERVED_EVENTS = [
  'Start',
  'DownloadBundle',
  'Install',
  'AllowTestTraffic',
  'BlockTraffic',
  'AllowTraffic',
  'End',
];
const EC2_EVENTS = [
  'ApplicationStop',
  'ApplicationStart',
  'ValidateService',
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
];
const KNOWN_EVENTS: readonly string[] = [...ECS_HOOK_EVENTS, ...RESERVED_EVENTS, ...EC2_EVENTS];

// ---------------------------------------------------------------------------------------------------
// What the parser returns.

export const EcsHookSchema = z.object({ event: z.enum(ECS_HOOK_EVENTS), target: z.string() });
export const LambdaHookSchema = z.object({ event: z.enum(LAMBDA_HOOK_EVENTS), target: z.string() });

/** Shaped as ECS's own API writes it, so that it can be handed on unchanged. */
export const NetworkConfigurationSchema = z.object({
  awsvpcConfiguration: z.object({
    subnets: z.array(z.string()),
    securityGroups: z.array(z.string()),
    assignPublicIp: z.enum(['ENABLED', 'DISABLED']),
  }),
});

/** Shaped as ECS's own API writes it, with the defaults (0) filled in. */
export const CapacityProviderStrategyItemSchema = z.object({
  capacityProvider: z.string(),
  base: z.number().int(),
  weight: z.number().int(),
});

export const EcsAppSpecSchema = z.object({
  platform: z.literal('ECS'),
  /** The logical name the resource is listed under, conventionally `TargetService`. */
  resourceName: z.string(),
  taskDefinition: z.string(),
  containerName: z.string(),
  containerPort: z.number().int(),
  platformVersion: z.string().optional(),
  networkConfiguration: NetworkConfigurationSchema.optional(),
  capacityProviderStrategy: z.array(CapacityProviderStrategyItemSchema).optional(),
  /** In the order written; each event at most once. */
  hooks: z.array(EcsHookSchema),
});

export const LambdaAppSpecSchema = z.object({
  platform: z.literal('Lambda'),
  resourceName: z.string(),
  functionName: z.string(),
  alias: z.string(),
  /** Version numbers as text ("1"), as Lambda names its versions. */
  currentVersion: z.string(),
  targetVersion: z.string(),
  hooks: z.array(LambdaHookSchema),
});

export const AppSpecSchema = z.discriminatedUnion('platform', [EcsAppSpecSchema, LambdaAppSpecSchema]);

export type AppSpec = z.infer<typeof AppSpecSchema>;
export type EcsAppSpec = z.infer<typeof EcsAppSpecSchema>;
export type LambdaAppSpec = z.infer<typeof LambdaAppSpecSchema>;

// ---------------------------------------------------------------------------------------------------
// What a file may say.

type ErrorFn = (issue: z.core.$ZodRawIssue) => string | undefined;

/** Messages for problems the schemas below leave to the parse: what a missing or mistyped value is. */
export const documentError: ErrorFn = (issue) => {
  const input = issue.input;
  if (input === undefined && issue.code !== 'custom') return 'is required';
  if (issue.code !== 'invalid_type') return undefined;
  switch (issue.expected) {
    case 'object':
    case 'record':
      return 'must be a map';
    case 'array':
    case 'tuple':
      return 'must be a list';
    case 'string':
      // A bare number where text is meant is the common slip (`TaskDefinition: 7`): say how to write it.
      return typeof input === 'number' ? `must be a string (write "${input}" in quotes)` : 'must be a string';
    case 'number':
      return typeof input === 'string' && /^\s*\d+\s*$/.test(input)
        ? 'must be a number, written without quotes'
        : 'must be a number';
    default:
      return undefined;
  }
};

/** A message for a present but wrong value; a missing one is left to `documentError`. */
const unlessMissing =
  (message: string): ErrorFn =>
  (issue) =>
    issue.input === undefined ? undefined : message;

/** A map whose keys are matched regardless of case, canonical names being those of `shape`. */
function map<T extends z.core.$ZodLooseShape>(shape: T, params?: z.core.$ZodObjectParams) {
  return z.preprocess(canonicalKeys(Object.keys(shape)), z.strictObject(shape, params));
}

const Text = z.string().regex(/\S/, 'must not be empty');

const Version = z.literal([0, '0.0', '0'], {
  error: unlessMissing('must be 0.0, the only AppSpec version'),
});

const ResourceType = z.enum([RESOURCE_TYPES.ECS, RESOURCE_TYPES.Lambda], {
  error: (issue) => {
    if (issue.input === undefined) return undefined;
    const lower = typeof issue.input === 'string' ? issue.input.toLowerCase() : undefined;
    const near = Object.values(RESOURCE_TYPES).find((type) => type.toLowerCase() === lower);
    return near
      ? `must be written ${near} (the type is case-sensitive)`
      : `must be ${RESOURCE_TYPES.ECS} or ${RESOURCE_TYPES.Lambda}`;
  },
});

const ONE_RESOURCE = 'only one resource is allowed: an AppSpec deploys one ECS service or one Lambda function';

/** `Resources`: a list holding one single-key map, logical name → `{ Type, Properties }`. */
function resources<T extends z.ZodType>(properties: T) {
  const Resource = map({ Type: ResourceType, Properties: properties });
  const Entry = z
    .record(z.string(), z.unknown(), {
      error: unlessMissing('must be a map: a logical name such as TargetService over Type and Properties'),
    })
    .superRefine((entry, ctx) => {
      const keys = Object.keys(entry);
      if (keys.length === 1) return;
      const flat = keys.some((key) => ['type', 'properties'].includes(key.toLowerCase()));
      ctx.addIssue({
        code: 'custom',
        message: flat
          ? 'needs a logical name above Type and Properties, such as `- TargetService:`'
          : `must have one key, the resource's logical name (such as TargetService); found ${keys.length}`,
      });
    })
    .pipe(z.record(z.string(), Resource))
    .transform((entry) => Object.entries(entry)[0]!);
  const Extra = z.unknown().superRefine((_item, ctx) => ctx.addIssue({ code: 'custom', message: ONE_RESOURCE }));
  return z
    .array(z.unknown())
    .min(1, 'must list one resource')
    .pipe(z.tuple([Entry], Extra));
}

const PORT = 'must be a port number from 1 to 65535';
const BASE = 'must be a whole number from 0 to 100000';
const WEIGHT = 'must be a whole number from 0 to 1000';
const TOGETHER = 'is required: Subnets, SecurityGroups and AssignPublicIp are given together';

const together =
  (message?: string): ErrorFn =>
  (issue) =>
    issue.input === undefined ? TOGETHER : message;

const AwsvpcConfiguration = map({
  Subnets: z.array(Text, { error: together() }).min(1, 'must list at least one subnet'),
  SecurityGroups: z.array(Text, { error: together() }).min(1, 'must list at least one security group'),
  AssignPublicIp: z.enum(['ENABLED', 'DISABLED'], { error: together('must be ENABLED or DISABLED') }),
});

/** Marks a custom issue as being about a key (a hook event, a Base) rather than its value. */
export const AT_KEY = { at: 'key' } as const;

const CapacityProviderStrategy = z
  .array(
    map({
      Base: z.number().int(BASE).min(0, BASE).max(100_000, BASE).optional(),
      CapacityProvider: Text,
      Weight: z.number().int(WEIGHT).min(0, WEIGHT).max(1000, WEIGHT).optional(),
    }),
  )
  .min(1, 'must list at least one capacity provider')
  .superRefine((items, ctx) => {
    let baseAt: number | undefined;
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (item.Base !== undefined) {
        if (baseAt === undefined) baseAt = i;
        else
          ctx.addIssue({
            code: 'custom',
            path: [i, 'Base'],
            params: AT_KEY,
            message: `only one capacity provider may set Base; item ${baseAt} already does`,
          });
      }
      if (seen.has(item.CapacityProvider))
        ctx.addIssue({ code: 'custom', path: [i, 'CapacityProvider'], message: 'is listed twice' });
      seen.add(item.CapacityProvider);
    });
    if (!items.some((item) => (item.Weight ?? 0) > 0))
      ctx.addIssue({ code: 'custom', message: 'at least one capacity provider needs a Weight above 0' });
  });

const EcsProperties = map({
  TaskDefinition: Text,
  LoadBalancerInfo: map({
    ContainerName: Text,
    // The one number in an AppSpec: a quoted "8080" is refused, as AWS refuses it.
    ContainerPort: z.number().int(PORT).min(1, PORT).max(65_535, PORT),
  }),
  PlatformVersion: Text.optional(),
  NetworkConfiguration: map({ AwsvpcConfiguration }).optional(),
  CapacityProviderStrategy: CapacityProviderStrategy.optional(),
});

const LAMBDA_VERSION = 'must be a published version number: a positive integer such as "1"';

// Written as text in AWS's examples and often as a bare number by hand: both read as the text.
const LambdaVersion = z.preprocess(
  (value) => (typeof value === 'number' ? String(value) : value),
  z.string({ error: unlessMissing(LAMBDA_VERSION) }).regex(/^[1-9][0-9]*$/, LAMBDA_VERSION),
);

const LambdaProperties = map({
  Name: Text,
  Alias: Text,
  CurrentVersion: LambdaVersion,
  TargetVersion: LambdaVersion,
}).superRefine((properties, ctx) => {
  if (properties.CurrentVersion === properties.TargetVersion) {
    ctx.addIssue({
      code: 'custom',
      path: ['TargetVersion'],
      message: `must differ from CurrentVersion (both are "${properties.TargetVersion}")`,
    });
  }
});

const HOOKS_SHAPE = 'must be a list of hooks such as `- BeforeInstall: HookFunction`';
const HOOK_ITEM = 'a hook is a map of one event to its target, such as `- BeforeInstall: HookFunction`';
const HOOK_TARGET = 'must name the hook: a function name or ARN, a hook from the config, or an http(s) URL';

/** Why `event` cannot be hooked here, or undefined when it can. */
function eventProblem(event: string, allowed: readonly string[], label: string): string | undefined {
  if (allowed.includes(event)) return undefined;
  const list = `${label} hooks: ${allowed.join(', ')}`;
  if (RESERVED_EVENTS.includes(event)) return `${event} is run by CodeDeploy itself and cannot be hooked (${list})`;
  if (KNOWN_EVENTS.includes(event)) return `${event} is not a hook event on ${label} (${list})`;
  return `unknown hook event (${list})`;
}

function isOneOf<E extends string>(list: readonly E[], value: string): value is E {
  return (list as readonly string[]).includes(value);
}

/**
 * `Hooks`: a list of single-key maps `- Event: target` (a plain map `Event: target` is tolerated), in the
 * order written; event names are matched regardless of case and come out canonical.
 */
function hooks<E extends string>(allowed: readonly E[], label: string) {
  return z
    .union([z.array(z.unknown()), z.record(z.string(), z.unknown()), z.null()], {
      error: unlessMissing(HOOKS_SHAPE),
    })
    .optional()
    .transform((value, ctx) => {
      const entries: { at: (string | number)[]; map: Record<string, unknown>; name: string }[] = [];
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (isMap(item) && Object.keys(item).length === 1)
            entries.push({ at: [i], map: item, name: Object.keys(item)[0]! });
          else ctx.addIssue({ code: 'custom', path: [i], message: HOOK_ITEM });
        });
      } else if (value) {
        for (const name of Object.keys(value)) entries.push({ at: [], map: value, name });
      }
      const out: { event: E; target: string }[] = [];
      const seen = new Set<string>();
      for (const { at, map, name } of entries) {
        const event = KNOWN_EVENTS.find((known) => known.toLowerCase() === name.toLowerCase()) ?? name;
        // Reported under the canonical name, unless the same map also has that exact spelling.
        const path = [...at, name === event || !Object.hasOwn(map, event) ? event : name];
        const problem = seen.has(event)
          ? `${event} is hooked twice: each event runs one hook`
          : eventProblem(event, allowed, label);
        seen.add(event);
        if (problem) ctx.addIssue({ code: 'custom', path, params: AT_KEY, message: problem });
        const target = map[name];
        const text = typeof target === 'string' ? target.trim() : '';
        if (!text) ctx.addIssue({ code: 'custom', path, message: HOOK_TARGET });
        if (!problem && text && isOneOf(allowed, event)) out.push({ event, target: text });
      }
      return out;
    });
}

const DOCUMENT = {
  error: (issue: z.core.$ZodRawIssue) =>
    issue.code === 'invalid_type' ? 'an AppSpec must be a map with version, Resources and Hooks' : undefined,
};

const EcsDocument = map(
  { version: Version, Resources: resources(EcsProperties), Hooks: hooks(ECS_HOOK_EVENTS, 'ECS') },
  DOCUMENT,
).transform((doc): EcsAppSpec => {
  const [resourceName, { Properties: p }] = doc.Resources[0];
  const vpc = p.NetworkConfiguration?.AwsvpcConfiguration;
  return {
    platform: 'ECS',
    resourceName,
    taskDefinition: p.TaskDefinition,
    containerName: p.LoadBalancerInfo.ContainerName,
    containerPort: p.LoadBalancerInfo.ContainerPort,
    ...(p.PlatformVersion !== undefined && { platformVersion: p.PlatformVersion }),
    ...(vpc && {
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: vpc.Subnets,
          securityGroups: vpc.SecurityGroups,
          assignPublicIp: vpc.AssignPublicIp,
        },
      },
    }),
    ...(p.CapacityProviderStrategy && {
      capacityProviderStrategy: p.CapacityProviderStrategy.map((item) => ({
        capacityProvider: item.CapacityProvider,
        base: item.Base ?? 0,
        weight: item.Weight ?? 0,
      })),
    }),
    hooks: doc.Hooks,
  };
});

const LambdaDocument = map(
  { version: Version, Resources: resources(LambdaProperties), Hooks: hooks(LAMBDA_HOOK_EVENTS, 'Lambda') },
  DOCUMENT,
).transform((doc): LambdaAppSpec => {
  const [resourceName, { Properties: p }] = doc.Resources[0];
  return {
    platform: 'Lambda',
    resourceName,
    functionName: p.Name,
    alias: p.Alias,
    currentVersion: p.CurrentVersion,
    targetVersion: p.TargetVersion,
    hooks: doc.Hooks,
  };
});

// With no platform known, Type is missing or wrong; the rest is still checked as far as it can be.
const UnknownDocument = map(
  { version: Version, Resources: resources(z.unknown()), Hooks: hooks(ECS_HOOK_EVENTS, 'ECS or Lambda') },
  DOCUMENT,
).transform((_doc, ctx): AppSpec => {
  ctx.addIssue({ code: 'custom', path: ['Resources'], message: 'must hold an ECS service or a Lambda function' });
  return z.NEVER;
});

/** The platform an AppSpec's content is for, read from its resource's `Type`. */
export function platformOf(doc: unknown): Platform | undefined {
  const list = field(doc, 'Resources');
  const entry: unknown = Array.isArray(list) ? list[0] : undefined;
  if (!isMap(entry)) return undefined;
  const names = Object.keys(entry);
  if (names.length !== 1) return undefined;
  const type = field(entry[names[0]!], 'Type');
  return type === RESOURCE_TYPES.ECS ? 'ECS' : type === RESOURCE_TYPES.Lambda ? 'Lambda' : undefined;
}

/** The schema for an AppSpec file's content on `platform` (undefined: the platform cannot be told). */
export function documentSchema(platform: Platform | undefined): z.ZodType<AppSpec> {
  if (platform === 'ECS') return EcsDocument;
  if (platform === 'Lambda') return LambdaDocument;
  return UnknownDocument;
}
