/**
 * @module api/rest/wire
 * What crosses the wire of the REST API (`/healthz` and `/v1/…`), typed once for both ends: request
 * bodies as the zod schemas the routes parse them with, answers as the types the routes must return and
 * the CLI reads, and the one form every REST error takes. Answers made of the model's own records (a
 * service's traffic, a deployment's timeline, a notification) are those records' types, not copies.
 */
import { z } from 'zod';

import { ComputePlatform } from '../../codedeploy/deployment-config-model.js';
import { DeploymentStatus } from '../../codedeploy/lifecycle.js';
import { CustomConfigSpec } from '../../codedeploy/shift-spec.js';
import { TrafficShift } from '../../codedeploy/traffic-shift.js';
import { type NotificationEntry, NotificationState } from '../../codedeploy/triggers.js';
import type { AlarmsConfig } from '../../config/alarms.js';
import { LISTENERS } from '../../core/route-table.js';
import type { DeploymentRecord, LifecycleEventRecord, ServiceView, TimelineEvent } from '../../shifting/ports.js';

/**
 * Every REST error: a stable code (one of core/errors' ErrorCode), a sentence, and for a bad body or
 * query string each problem with its path.
 */
export const ErrorBody = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.array(z.string()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `GET /healthz`: the control API is up (a liveness check, open without a token). */
export interface HealthzAnswer {
  readonly status: 'ok';
}

// ---------------------------------------------------------------------------------------------------
// Services

const Listener = z.enum(LISTENERS).default('production');

/** Body of `PUT /v1/services/:name/weight`: all weights, or one version's share with the rest on live. */
export const SetWeightBody = z.union([
  z.strictObject({ weights: z.record(z.string(), z.number()), listener: Listener }),
  z.strictObject({ version: z.string(), percent: z.number().min(0).max(100), listener: Listener }),
]);
/** What a client sends as {@link SetWeightBody} (the listener defaults to production). */
export type SetWeightBody = z.input<typeof SetWeightBody>;

/** Where a target stands with its health check: `unchecked` until its first probe (or without a check). */
export const TargetState = z.enum(['healthy', 'unhealthy', 'ejected', 'unchecked']);

/** One target's health, as a service's `health` shows it. */
export const TargetHealth = z.object({
  target: z.string(),
  state: TargetState,
  /** Why, for a target that is not healthy: the last check's answer, or the ejection. */
  reason: z.string().optional(),
  /** Epoch ms of the last change. */
  since: z.number(),
});
export type TargetHealth = z.infer<typeof TargetHealth>;

/** The health of each of a service's targets, by version label. */
export type ServiceHealth = Readonly<Record<string, readonly TargetHealth[]>>;

/**
 * `GET /v1/services/:name`, `PUT /v1/services/:name/weight`, and each of `GET /v1/services`: the
 * service's traffic, with the health of its targets when target health is known (not after a PUT).
 */
export type ServiceAnswer = ServiceView & { readonly health?: ServiceHealth };

/** `GET /v1/services`: every service, in config order. */
export interface ServicesAnswer {
  readonly services: readonly ServiceAnswer[];
}

// ---------------------------------------------------------------------------------------------------
// Alarms (the body of `PUT /v1/alarms/:name` and the answer of `GET /v1/alarms/:name` are config/alarms'
// AlarmConfig)

/** `GET /v1/alarms`: every alarm deployment groups may name, by name. */
export interface AlarmsAnswer {
  readonly alarms: AlarmsConfig;
}

// ---------------------------------------------------------------------------------------------------
// Deployments

/** Body of `POST /v1/deployment-configs`: a custom configuration in switchyard's finer form. */
export const CreateConfigBody = CustomConfigSpec.extend({ name: z.string() });
/** What a client sends as {@link CreateConfigBody}. */
export type CreateConfigBody = z.input<typeof CreateConfigBody>;

/** `POST /v1/deployment-configs` (201): the configuration created, in CreateDeploymentConfig's words. */
export const CreateConfigAnswer = z.object({
  deploymentConfigName: z.string(),
  deploymentConfigId: z.string(),
  computePlatform: ComputePlatform,
  trafficRouting: TrafficShift.optional(),
});
export type CreateConfigAnswer = z.infer<typeof CreateConfigAnswer>;

/** `POST /v1/deployments/:id/promote`: the deployment's status once the rest of its shift is skipped. */
export const PromoteAnswer = z.object({ deploymentId: z.string(), status: DeploymentStatus });
export type PromoteAnswer = z.infer<typeof PromoteAnswer>;

/** One entry of a deployment's timeline; `status` is absent from entries an older switchyard kept. */
export type TimelineEntry = Omit<TimelineEvent, 'status'> & Partial<Pick<TimelineEvent, 'status'>>;

/** `GET /v1/deployments/:id/events`: the deployment's timeline, oldest first (kept across restarts). */
export interface TimelineAnswer {
  readonly deploymentId: string;
  readonly events: readonly TimelineEntry[];
}

/** One step of a deployment's planned shift: from `atMs` (deployment time since AllowTraffic began). */
export interface PlannedStep {
  readonly atMs: number | null;
  /** The replacement's percent of production traffic. */
  readonly percent: number;
  /** How long it holds (deployment time); null until a manual continue. */
  readonly holdMs: number | null;
}

/** `GET /v1/deployments/:id/schedule`: the planned shift, for a chart of planned against actual weight. */
export interface ScheduleAnswer {
  readonly deploymentId: string;
  readonly timeScale: number;
  /** When AllowTraffic began (epoch ms of deployment time), null before it has. */
  readonly allowTrafficStartedAt: number | null;
  readonly steps: readonly PlannedStep[];
  /** Deployment time from the first step to 100%; null with a manual pause. */
  readonly totalMs: number | null;
}

/** The data of one `deployment` event of `GET /v1/events`: a timeline entry, and whose. */
export type StreamedEvent = TimelineEntry & { readonly deploymentId: string };

/** The topics `GET /v1/events` streams: deployment events (`deployment`), service views (`service`). */
export const EVENT_TOPICS = ['deployments', 'services'] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];

/** Query string of `GET /v1/events`: one deployment's events only; which topics (comma-separated). */
export const EventsQuery = z.strictObject({
  deploymentId: z.string().optional(),
  topics: z
    .string()
    .default('deployments')
    .transform((text) => [...new Set(text.split(',').map((t) => t.trim()))])
    .pipe(z.array(z.enum(EVENT_TOPICS, { error: `topics are ${EVENT_TOPICS.join(' and ')}` })).min(1)),
});

/** The most deployments `GET /v1/deployments` answers with, and how many without a `limit`. */
export const DEPLOYMENTS_LIMIT = { default: 100, max: 1_000 } as const;

/** Query string of `GET /v1/deployments`: those of an application, of a group (by name), or both; the newest `limit`. */
export const DeploymentsQuery = z.strictObject({
  application: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  limit: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be 1 or more')
    .max(DEPLOYMENTS_LIMIT.max, `must be at most ${DEPLOYMENTS_LIMIT.max}`)
    .default(DEPLOYMENTS_LIMIT.default),
});

/** One deployment in a list: who asked for what, where it stands, and how it ended. */
export interface DeploymentSummary {
  readonly deploymentId: string;
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly service: string;
  /** Version label live when it began (blue) and the one it shifts to (green). */
  readonly currentVersion: string;
  readonly targetVersion: string;
  readonly status: DeploymentRecord['status'];
  readonly creator: DeploymentRecord['plan']['creator'];
  readonly deploymentConfigName: string;
  readonly timeScale: number;
  /** ms on the deployment's (scaled) clock. */
  readonly createTime: number;
  readonly startTime?: number;
  readonly completeTime?: number;
  /** The same instants in real time (epoch ms). */
  readonly wallTimes: DeploymentRecord['wallTimes'];
  /** Percent (0–100) of production traffic on the target version. */
  readonly trafficWeight: number;
  readonly errorInformation?: NonNullable<DeploymentRecord['errorInformation']>;
  readonly rollbackInfo?: NonNullable<DeploymentRecord['rollbackInfo']>;
}

/** `GET /v1/deployments`: newest first. */
export interface DeploymentsAnswer {
  readonly deployments: readonly DeploymentSummary[];
}

/** `GET /v1/deployments/:id`: the summary with its lifecycle, alarms and what it waits for. */
export type DeploymentAnswer = DeploymentSummary & {
  readonly lifecycleEvents: readonly LifecycleEventRecord[];
  /** The alarms watched while it runs; null when it watches none. */
  readonly alarms: NonNullable<DeploymentRecord['plan']['alarms']> | null;
  readonly waitingFor?: NonNullable<DeploymentRecord['waitingFor']>;
  readonly promoted?: boolean;
  readonly description?: string;
};

/** Body of `POST /v1/deployments/:id/stop`: roll back or not (absent: as the deployment's rollback configuration says). */
export const StopBody = z.strictObject({ rollback: z.boolean().optional() }).default({});

/** `POST /v1/deployments/:id/stop`: as StopDeployment answers. */
export interface StopAnswer {
  readonly deploymentId: string;
  readonly status: 'Succeeded';
  readonly statusMessage: string;
}

/** Body of `POST /v1/deployments/:id/continue`: which wait to end (absent: the one it is in). */
export const ContinueBody = z
  .strictObject({ waitType: z.enum(['READY_WAIT', 'TERMINATION_WAIT']).optional() })
  .default({});

/** `POST /v1/deployments/:id/continue`: the deployment's status once continued. */
export const ContinueAnswer = PromoteAnswer;
export type ContinueAnswer = PromoteAnswer;

// ---------------------------------------------------------------------------------------------------
// Notifications

/** Query string of `GET /v1/notifications`: one deployment's, or those in one state, or both. */
export const NotificationsQuery = z.strictObject({
  deploymentId: z.string().optional(),
  state: NotificationState.optional(),
});

/** `GET /v1/notifications`: the trigger notifications queued, and what became of each. */
export interface NotificationsAnswer {
  readonly notifications: readonly NotificationEntry[];
}
