/**
 * @module codedeploy/triggers
 * A deployment group's `triggerConfigurations`: CodeDeploy's TriggerConfig, with a webhook URL where
 * CodeDeploy takes an SNS topic ARN, and CodeDeploy's rules for them. Kept beside the registry, which
 * applies the rules to every group however it came (API or config file).
 */
import { z } from 'zod';

import { isHttpUrl } from '../core/url.js';
import { CodeDeployRefusal } from './exceptions.js';

/** CodeDeploy's TriggerEventType values, all accepted. */
export const TRIGGER_EVENT_TYPES = [
  'DeploymentStart',
  'DeploymentSuccess',
  'DeploymentFailure',
  'DeploymentStop',
  'DeploymentRollback',
  'DeploymentReady',
  'InstanceStart',
  'InstanceSuccess',
  'InstanceFailure',
  'InstanceReady',
] as const;
export type TriggerEventType = (typeof TRIGGER_EVENT_TYPES)[number];

/** The event types that fire for ECS and Lambda deployments; Instance* are EC2's and never fire here. */
export type DeploymentEventType = Extract<TriggerEventType, `Deployment${string}`>;

/** How a trigger's message is written: CodeDeploy's trigger JSON, or a Slack incoming-webhook `{text}`. */
export const TriggerFormat = z.enum(['codedeploy', 'slack']);
export type TriggerFormat = z.infer<typeof TriggerFormat>;

/**
 * One trigger, as CreateDeploymentGroup sends it. Members are loose here so that each rule below refuses
 * with CodeDeploy's InvalidTriggerConfigException and a message saying what is wrong. `format` is
 * switchyard's own: the SDK and awscli drop members they do not model, so they say `slack+https://…`
 * in `triggerTargetArn` instead; the config file and hand-built requests may use either.
 */
export const TriggerConfig = z.object({
  triggerName: z.string().optional(),
  triggerTargetArn: z.string().optional(),
  triggerEvents: z.array(z.string()).optional(),
  format: TriggerFormat.optional(),
});
export type TriggerConfig = z.infer<typeof TriggerConfig>;

/** CodeDeploy's limit of triggers per deployment group. */
export const TRIGGERS_PER_GROUP = 10;

/** The prefix of a `triggerTargetArn` that asks for the Slack format. */
const SLACK_PREFIX = 'slack+';

const isEventType = (name: string): name is TriggerEventType =>
  (TRIGGER_EVENT_TYPES as readonly string[]).includes(name);

const invalid = (message: string) => new CodeDeployRefusal('InvalidTriggerConfigException', message);

/** Where a trigger posts and in which format; the trigger must have passed {@link checkTriggers}. */
export function triggerTarget(trigger: TriggerConfig): { url: string; format: TriggerFormat } {
  const arn = trigger.triggerTargetArn ?? '';
  const slack = arn.startsWith(SLACK_PREFIX);
  return {
    url: slack ? arn.slice(SLACK_PREFIX.length) : arn,
    format: trigger.format ?? (slack ? 'slack' : 'codedeploy'),
  };
}

/**
 * CodeDeploy's rules for a group's triggers: at most {@link TRIGGERS_PER_GROUP}, each with a unique name,
 * a target, and known event types; here the target must also be an http(s) webhook URL.
 */
export function checkTriggers(triggers: readonly TriggerConfig[] | undefined): void {
  if (!triggers) return;
  if (triggers.length > TRIGGERS_PER_GROUP) {
    throw new CodeDeployRefusal(
      'TriggerTargetsLimitExceededException',
      `At most ${TRIGGERS_PER_GROUP} triggers may be configured for a deployment group, got ${triggers.length}`,
    );
  }
  const names = new Set<string>();
  for (const trigger of triggers) {
    const name = trigger.triggerName;
    if (!name) throw invalid('Every trigger needs a triggerName');
    if (names.has(name)) throw invalid(`Trigger name "${name}" is used more than once`);
    names.add(name);
    if (!trigger.triggerTargetArn) throw invalid(`Trigger "${name}" needs a triggerTargetArn`);
    const { url } = triggerTarget(trigger);
    if (!isHttpUrl(url)) {
      throw invalid(
        `Trigger "${name}": triggerTargetArn must be an http(s) webhook URL (optionally slack+https://…); ` +
          `switchyard posts to webhooks, not SNS topics; got "${trigger.triggerTargetArn}"`,
      );
    }
    if (trigger.format === 'codedeploy' && trigger.triggerTargetArn.startsWith(SLACK_PREFIX)) {
      throw invalid(`Trigger "${name}": format codedeploy contradicts its slack+ target`);
    }
    const events = trigger.triggerEvents ?? [];
    if (events.length === 0) throw invalid(`Trigger "${name}" names no triggerEvents`);
    const unknown = events.filter((e) => !isEventType(e));
    if (unknown.length > 0) {
      throw invalid(
        `Trigger "${name}": unknown trigger event type(s) ${unknown.join(', ')}; known: ${TRIGGER_EVENT_TYPES.join(', ')}`,
      );
    }
  }
}

/** Where a trigger notification's delivery stands. */
export const NotificationState = z.enum(['pending', 'delivered', 'failed']);
export type NotificationState = z.infer<typeof NotificationState>;

/** One notification and how its delivery went. Times are epoch ms on switchyard's clock. */
export const NotificationEntry = z.object({
  key: z.string(),
  deploymentId: z.string(),
  eventType: z.enum(TRIGGER_EVENT_TYPES),
  triggerName: z.string(),
  url: z.string(),
  format: TriggerFormat,
  /** The JSON posted, exactly. */
  body: z.unknown(),
  state: NotificationState,
  attempts: z.number().int().min(0),
  /** When the next attempt is due (pending only). */
  nextAttemptAt: z.number(),
  lastError: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type NotificationEntry = z.infer<typeof NotificationEntry>;
