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
import type { ServiceView, TimelineEvent } from '../../shifting/ports.js';

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
