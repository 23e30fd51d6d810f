/**
 * @module api/notifications
 * `GET /v1/notifications`: the trigger notifications switchyard queued and what became of each
 * (pending, delivered, failed, attempts, last error), optionally for one deployment or in one state.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type NotificationEntry, NotificationState } from '../codedeploy/triggers.js';
import { parseBody } from './errors.js';

/** Where the entries come from (the outbox). */
export interface NotificationSource {
  list(filter?: { deploymentId?: string | undefined }): NotificationEntry[];
}

const Query = z.strictObject({ deploymentId: z.string().optional(), state: NotificationState.optional() });

/** Serves the outbox at `GET /v1/notifications?deploymentId=…&state=…`. */
export function registerNotifications(app: FastifyInstance, source: NotificationSource): void {
  app.get('/v1/notifications', async (req) => {
    const query = parseBody(Query, req.query, 'query string');
    const entries = source.list({ deploymentId: query.deploymentId });
    return { notifications: query.state ? entries.filter((e) => e.state === query.state) : entries };
  });
}
