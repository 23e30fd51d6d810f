/**
 * @module api/rest/notifications
 * `GET /v1/notifications`: the trigger notifications switchyard queued and what became of each
 * (pending, delivered, failed, attempts, last error), optionally for one deployment or in one state.
 */
import type { FastifyPluginAsync } from 'fastify';

import type { NotificationEntry } from '../../codedeploy/triggers.js';
import { parseBody } from '../errors.js';
import { type NotificationsAnswer, NotificationsQuery } from './wire.js';

/** Where the entries come from (the outbox). */
export interface NotificationSource {
  list(filter?: { deploymentId?: string | undefined }): NotificationEntry[];
}

/** What {@link notificationRoutes} serves from. */
export interface NotificationRoutesOptions {
  readonly source: NotificationSource;
}

/** Serves the outbox at `GET /v1/notifications?deploymentId=…&state=…`. */
export const notificationRoutes: FastifyPluginAsync<NotificationRoutesOptions> = async (app, { source }) => {
  app.get<{ Reply: NotificationsAnswer }>('/v1/notifications', async (req) => {
    const query = parseBody(NotificationsQuery, req.query, 'query string');
    const entries = source.list({ deploymentId: query.deploymentId });
    return { notifications: query.state ? entries.filter((e) => e.state === query.state) : entries };
  });
};
