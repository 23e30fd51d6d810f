/**
 * @module api/dashboard
 * The live dashboard, served from the control port as static files: its page at `/` and at each of the
 * page's own routes (the browser routes between them), its scripts and styles under `/ui/`. No token is
 * needed for them, since they hold no data: the page asks for the token and sends it on every `/v1` call.
 * A strict Content-Security-Policy (scripts and styles from this origin only, nothing inline) keeps a
 * stolen page from running someone else's code with the token in reach.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import { SwitchyardError } from '../core/errors.js';
import { type Asset, type AssetTable, chooseEncoding, loadAssets } from './dashboard-assets.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route serves the dashboard's files, which carry no data: no token is asked for. */
    publicAsset?: boolean;
  }
}

/** The page's client-side routes: each is answered with index.html. */
export const PAGE_ROUTES = ['/', '/history', '/deployments/:id', '/lab', '/lab/:name'] as const;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
} as const;

/** Where {@link dashboardRoutes} reads the dashboard from. */
export interface DashboardOptions {
  /** The `dashboard/` folder. */
  readonly root: string;
}

function send(req: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  void reply
    .headers(SECURITY_HEADERS)
    .header('content-type', asset.type)
    .header('etag', asset.etag)
    // Always revalidated: a new install is seen at once, and an unchanged file costs a 304.
    .header('cache-control', 'no-cache')
    .header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  const encoding = chooseEncoding(req.headers['accept-encoding'], asset);
  if (encoding === undefined) return reply.send(asset.identity);
  return reply.header('content-encoding', encoding).send(encoding === 'br' ? asset.br : asset.gzip);
}

/** Serves the dashboard's page and files. */
export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, { root }) => {
  // Read on the first request rather than at start: most starts (tests, scripts) never open the page.
  let table: Promise<AssetTable> | undefined;
  const assets = () => (table ??= loadAssets(root));
  const config = { publicAsset: true };

  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    const index = (await assets()).get('index.html');
    if (!index) throw new SwitchyardError('NO_ROUTE', 'the dashboard is not installed with this switchyard');
    return send(req, reply, index);
  };
  for (const url of PAGE_ROUTES) app.get(url, { config }, page);

  app.get<{ Params: { '*': string } }>('/ui/*', { config }, async (req, reply) => {
    const asset = (await assets()).get(req.params['*']);
    if (!asset) throw new SwitchyardError('NO_ROUTE', `no dashboard file ${req.params['*']}`);
    return send(req, reply, asset);
  });
};
