/**
 * @module notify/notifier
 * Turns deployment changes into queued notifications: it hears every change the engine reports,
 * compares the status with the last one it saw, and for each event that fires queues one notification
 * per trigger of the deployment's group (looked up now, so a group updated mid-deployment is heard).
 * It only queues: sending is the delivery worker's, so a slow or dead receiver never holds a deployment.
 */
import { type DeploymentStatus, TERMINAL_STATUSES } from '../codedeploy/lifecycle.js';
import {
  type DeploymentEventType,
  type NotificationEntry,
  type TriggerConfig,
  triggerTarget,
} from '../codedeploy/triggers.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DeploymentRecord } from '../shifting/ports.js';
import { triggerEventsFor } from './events.js';
import { notificationKey } from './outbox.js';
import { triggerPayload } from './payload.js';

/** What a {@link Notifier} is built from. */
export interface NotifierDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** The triggers of a deployment group now; none when the group is gone. */
  readonly triggersOf: (applicationName: string, deploymentGroupName: string) => readonly TriggerConfig[];
  /** Queues a notification unless its key was ever queued; must return at once. */
  readonly enqueue: (entry: NotificationEntry) => void;
}

/** Hears deployment records and queues the notifications their status changes fire. */
export class Notifier {
  readonly #deps: NotifierDeps;
  /** The last status seen of each deployment not yet ended. */
  readonly #seen = new Map<string, DeploymentStatus>();

  constructor(deps: NotifierDeps) {
    this.#deps = deps;
  }

  /** Called with a deployment after every change; cheap when its status did not change. Never throws. */
  observe(record: DeploymentRecord): void {
    const previous = this.#seen.get(record.id);
    if (previous === record.status) return;
    // An ended deployment is forgotten: should it be heard again, the outbox keys stop a second copy.
    if (TERMINAL_STATUSES.has(record.status)) this.#seen.delete(record.id);
    else this.#seen.set(record.id, record.status);
    try {
      for (const event of triggerEventsFor(previous, record)) this.#fire(record, event);
    } catch (err) {
      // Notifications are a side channel: whatever goes wrong here must not reach the deployment.
      this.#deps.log.error({ err, deploymentId: record.id }, 'cannot queue notifications');
    }
  }

  #fire(record: DeploymentRecord, event: DeploymentEventType): void {
    const { applicationName, deploymentGroupName } = record.plan;
    for (const trigger of this.#deps.triggersOf(applicationName, deploymentGroupName)) {
      const name = trigger.triggerName ?? '';
      if (!trigger.triggerEvents?.includes(event)) continue;
      const key = notificationKey(record.id, event, name);
      const { url, format } = triggerTarget(trigger);
      const now = this.#deps.clock.now();
      this.#deps.enqueue({
        key,
        deploymentId: record.id,
        eventType: event,
        triggerName: name,
        url,
        format,
        body: triggerPayload(format, record, event, name),
        state: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      });
    }
  }
}
