/**
 * @module api/rest/health
 * `GET /healthz`: the liveness check. It says only that the control API answers, and it is open without
 * a token (see auth/guard) so a load balancer or supervisor can probe it.
 */
import type { FastifyPluginAsync } from 'fastify';

import type { HealthzAnswer } from './wire.js';

/** Serves `GET /healthz`. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Reply: HealthzAnswer }>('/healthz', async () => ({ status: 'ok' }));
};
