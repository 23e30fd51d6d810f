/**
 * @module api/rest/stats
 * The live traffic view for browsers: `GET /v1/stats` (the last interval's snapshot) and
 * `GET /v1/stats/stream` (each new snapshot as a server-sent event `stats`, one per interval whatever the
 * traffic). Compact JSON per service and version: requests, errors, requests/s, error rate, p50 and p99.
 */
import type { FastifyPluginAsync } from 'fastify';

import type { Clock } from '../../core/clock.js';
import type { LiveStatsFeed, LiveStatsSnapshot } from '../../core/live-stats.js';
import type { EventStream } from '../event-stream.js';
import { openSse } from '../sse.js';

/** What {@link statsRoutes} serves from. */
export interface StatsRoutesOptions {
  readonly feed: LiveStatsFeed;
  readonly clock: Clock;
  /** Holds open streams so that shutdown can end them. */
  readonly streams: Pick<EventStream, 'hold'>;
}

/** Serves `GET /v1/stats` and `GET /v1/stats/stream`. */
export const statsRoutes: FastifyPluginAsync<StatsRoutesOptions> = async (app, { feed, clock, streams }) => {
  app.get<{ Reply: LiveStatsSnapshot | { at: null; services: []; alarms: [] } }>('/v1/stats', async () => {
    return feed.latest() ?? { at: null, services: [], alarms: [] };
  });

  app.get('/v1/stats/stream', (_req, reply) => {
    const sse = openSse(reply, 'switchyard live stats', { clock, streams });
    const unsubscribe = feed.subscribe((snapshot) => {
      sse.write(`event: stats\ndata: ${JSON.stringify(snapshot)}\n\n`);
    });
    sse.onClose(unsubscribe);
  });
};
