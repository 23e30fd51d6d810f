/**
 * @module notify/outbox
 * The notification outbox: one document per notification in the DeploymentStore (kind `notification`),
 * keyed `${deploymentId}/${eventType}/${triggerName}`. Written before anything is sent, so a restart
 * resumes every pending notification; and the key is taken once, so a status seen again (after a
 * restart, or twice in a row) never queues a second copy.
 */
import { NotificationEntry } from '../codedeploy/triggers.js';
import type { DeploymentStore } from '../shifting/ports.js';

/** The outbox key of a notification. */
export function notificationKey(deploymentId: string, eventType: string, triggerName: string): string {
  return `${deploymentId}/${eventType}/${triggerName}`;
}

const KIND = 'notification';

/** Notifications in a DeploymentStore. */
export class Outbox {
  constructor(readonly store: DeploymentStore) {}

  /** Whether a notification with `key` was ever queued (whatever became of it). */
  has(key: string): boolean {
    return this.store.get(KIND, key) !== undefined;
  }

  /** Queues `entry` unless its key is taken; says whether it was queued. */
  add(entry: NotificationEntry): boolean {
    if (this.has(entry.key)) return false;
    this.store.put(KIND, entry.key, entry);
    return true;
  }

  /** Records what became of an entry. */
  save(entry: NotificationEntry): void {
    this.store.put(KIND, entry.key, entry);
  }

  /** Every entry, oldest first; only one deployment's when `deploymentId` is given. Unreadable documents are skipped. */
  list(filter: { deploymentId?: string | undefined } = {}): NotificationEntry[] {
    const out: NotificationEntry[] = [];
    for (const doc of this.store.list(KIND)) {
      const parsed = NotificationEntry.safeParse(doc.value);
      if (!parsed.success) continue;
      if (filter.deploymentId === undefined || parsed.data.deploymentId === filter.deploymentId) out.push(parsed.data);
    }
    return out;
  }

  /** Entries still to deliver, oldest first. */
  pending(): NotificationEntry[] {
    return this.list().filter((e) => e.state === 'pending');
  }
}
