/**
 * @module api/rest/lab
 * The policy lab's reports on the control API, for the dashboard: `GET /v1/lab/reports` lists the
 * reports folder, `GET /v1/lab/reports/:name` gives one as its page's parts (markup, data and view for
 * the shared chart script), `POST /v1/lab/reports` stores an uploaded report.json. The folder itself is
 * the lab's; the API sees it through the LabReportShelf port (core/lab-reports).
 */
import type { FastifyError, FastifyPluginAsync } from 'fastify';

import { SwitchyardError } from '../../core/errors.js';
import type { LabReportPage, LabReportShelf, LabReportSummary } from '../../core/lab-reports.js';
import { handleApiError } from '../errors.js';
import type { ErrorBody } from './wire.js';

/** The largest report.json an upload may carry: 32 MiB, far above the 1 MiB of every other body. */
export const LAB_REPORT_BODY_LIMIT = 32 * 1024 * 1024;

/** `GET /v1/lab/reports`, newest first. */
export interface LabReportsAnswer {
  readonly reports: readonly LabReportSummary[];
}

/** What {@link labRoutes} serves from. */
export interface LabRoutesOptions {
  readonly shelf: LabReportShelf;
}

/** Serves `GET /v1/lab/reports`, `GET /v1/lab/reports/:name` and `POST /v1/lab/reports`. */
export const labRoutes: FastifyPluginAsync<LabRoutesOptions> = async (app, { shelf }) => {
  // The root's answer to a body over the limit names the usual 1 MiB; an upload here has its own.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.statusCode === 413) {
      const mib = LAB_REPORT_BODY_LIMIT / 1024 / 1024;
      const body: ErrorBody = new SwitchyardError(
        'BODY_TOO_LARGE',
        `request body is too large: a lab report may be at most ${mib} MiB`,
      ).toJSON();
      void reply.status(413).send(body);
      return;
    }
    handleApiError(err, req, reply);
  });

  app.get<{ Reply: LabReportsAnswer }>('/v1/lab/reports', async () => ({ reports: await shelf.list() }));

  app.get<{ Params: { name: string }; Reply: LabReportPage }>('/v1/lab/reports/:name', async (req) =>
    shelf.read(req.params.name),
  );

  // The root's JSON parser (and its nesting bound) reads the body, within this route's own limit.
  app.post('/v1/lab/reports', { bodyLimit: LAB_REPORT_BODY_LIMIT }, async (req, reply) => {
    const stored = await shelf.store(req.body);
    req.log.info({ report: stored.name }, 'lab report uploaded');
    return reply.status(201).send({ name: stored.name });
  });
};
