/**
 * @module config/notifications
 * The config file's `notifications:` settings: how trigger webhooks are delivered. Every member has a
 * default, so most files never write the section.
 */
import { z } from 'zod';

import { Duration } from '../core/duration.js';

const Positive = Duration.pipe(z.number().positive({ error: 'must be longer than 0' }));

export const NotificationsConfig = z
  .strictObject({
    /** How long one delivery attempt may take before it counts as failed. */
    timeout: Positive.default(5_000),
    /** The first retry's delay; each next one doubles (with jitter) up to 30 s. */
    retryDelay: Positive.default(500),
    /** After this long since a notification was queued, a failed attempt is the last one. */
    giveUpAfter: Positive.default(600_000),
  })
  .prefault({});
export type NotificationsConfig = z.infer<typeof NotificationsConfig>;
