/**
 * @module api/rest/metrics
 * `GET /metrics`: every metric in Prometheus' text format, for a scraper (open without a token when
 * `control.auth.publicMetrics` is set).
 */
import type { FastifyPluginAsync } from 'fastify';

/** The Prometheus text of every metric. */
export interface MetricsSource {
  render(): Promise<{ contentType: string; body: string }>;
}

/** What {@link metricsRoutes} serves from. */
export interface MetricsRoutesOptions {
  readonly metrics: MetricsSource;
}

/** Serves `GET /metrics`. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { metrics }) => {
  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
};
