/**
 * @module notify/notifications
 * Deployment group triggers as webhooks, assembled: the outbox in the store, the notifier that fills it
 * from deployment changes, and the worker that empties it. The composition root needs only this.
 */
import type { NotificationEntry, TriggerConfig } from '../codedeploy/triggers.js';
import type { NotificationsConfig } from '../config/notifications.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DeploymentRecord, DeploymentStore } from '../shifting/ports.js';
import { DeliveryWorker } from './delivery.js';
import { Notifier } from './notifier.js';
import { Outbox } from './outbox.js';

/** What {@link startNotifications} needs. */
export interface NotificationsDeps {
  readonly clock: Clock;
  /** The `notify` component's logger. */
  readonly log: Logger;
  readonly store: DeploymentStore;
  readonly config: NotificationsConfig;
  /** The triggers of a deployment group now; none when the group is gone. */
  readonly triggersOf: (applicationName: string, deploymentGroupName: string) => readonly TriggerConfig[];
}

/** Running notifications. */
export interface Notifications {
  /** Hears a deployment after each change (the engine's onChange); returns at once, never throws. */
  observe(record: DeploymentRecord): void;
  /** The outbox's entries, oldest first, optionally one deployment's. */
  list(filter?: { deploymentId?: string | undefined }): NotificationEntry[];
  /** Starts sending: what the store kept pending and what was queued since. */
  start(): void;
  /** Stops delivering; what is not delivered stays pending in the store for the next start. */
  close(): Promise<void>;
}

/** Hears deployments into the outbox from now on; sends from {@link Notifications.start}. */
export function startNotifications(deps: NotificationsDeps): Notifications {
  const outbox = new Outbox(deps.store);
  const worker = new DeliveryWorker({
    clock: deps.clock,
    log: deps.log,
    outbox,
    timeoutMs: deps.config.timeout,
    retryDelayMs: deps.config.retryDelay,
    giveUpAfterMs: deps.config.giveUpAfter,
  });
  const notifier = new Notifier({
    clock: deps.clock,
    log: deps.log,
    triggersOf: deps.triggersOf,
    enqueue: (entry) => worker.enqueue(entry),
  });
  return {
    observe: (record) => notifier.observe(record),
    list: (filter) => outbox.list(filter),
    start: () => worker.start(),
    close: () => worker.close(),
  };
}
